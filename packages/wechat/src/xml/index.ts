// Public surface of xml/ (re-exported by ../index.ts).
export { parseXml, buildXml } from './codec.js'
export type { XmlRecord, XmlValue, XmlLimits, XmlBuildValue } from './codec.js'
