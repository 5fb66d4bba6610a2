// The only public entry of @wxgate/wechat: protocol, crypto and outbound clients. No server, no DB, no env.
export * from './errors.js'
export * from './xml/index.js'
export * from './crypto/index.js'
export * from './official-account/index.js'
export * from './pay-v2/index.js'
export * from './api/index.js'
