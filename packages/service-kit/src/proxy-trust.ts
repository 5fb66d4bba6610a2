// TRUST_PROXY (@wxgate/config's `env.trustProxy()`) as one function, given to Fastify and to anything
// that names a client outside Fastify (the gateway's fast path), so all of them name the same address.
import proxyAddr from '@fastify/proxy-addr'

export type ProxyTrust = (address: string, hop: number) => boolean

/** `undefined` trusts no proxy. A hop count trusts that many proxies nearest to us. */
export function compileProxyTrust(
  setting: boolean | number | readonly string[],
): ProxyTrust | undefined {
  if (setting === false) return undefined
  if (setting === true) return () => true
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  return proxyAddr.compile([...setting])
}
