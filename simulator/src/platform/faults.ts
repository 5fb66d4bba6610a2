// Faults on demand: the next calls of an API answer a given errcode (-1 busy, 45009 quota, a pay err_code, …).

export interface Faults {
  /**
   * The next `times` calls of `api` (a path like `/cgi-bin/qrcode/create`, or `*` for any) answer `errcode`:
   * a number for the JSON APIs, a pay `err_code` such as `SYSTEMERROR` for `/pay/*`.
   */
  failNext(api: string, errcode: number | string, times?: number): void
  /** Shorthand for `failNext(api, -1, times)`: WeChat's "system busy". */
  setBusy(api: string, times?: number): void
  /** Consumes and returns the errcode queued for this call, if any. */
  take(api: string): number | string | undefined
  clear(): void
}

export function normalizeApi(api: string): string {
  if (api === '*') return api
  const path = api.split('?')[0] ?? ''
  return path.startsWith('/') ? path : `/${path}`
}

export function createFaults(): Faults {
  const queued = new Map<string, (number | string)[]>()
  const push = (api: string, errcode: number | string, times: number): void => {
    if (typeof errcode === 'number' ? !Number.isInteger(errcode) : errcode === '') {
      throw new TypeError('errcode must be an integer or a pay err_code')
    }
    if (!Number.isInteger(times) || times < 1)
      throw new TypeError('times must be a positive integer')
    const key = normalizeApi(api)
    const list = queued.get(key) ?? []
    for (let i = 0; i < times; i++) list.push(errcode)
    queued.set(key, list)
  }
  const shift = (key: string): number | string | undefined => {
    const list = queued.get(key)
    if (list === undefined) return undefined
    const errcode = list.shift()
    if (list.length === 0) queued.delete(key)
    return errcode
  }
  return {
    failNext: (api, errcode, times = 1) => push(api, errcode, times),
    setBusy: (api, times = 1) => push(api, -1, times),
    take: (api) => shift(normalizeApi(api)) ?? shift('*'),
    clear: () => queued.clear(),
  }
}
