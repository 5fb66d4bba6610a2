// Errors of the internal API: why a request was refused, and why app could not be reached.

export type InternalAuthErrorCode =
  'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'TIMESTAMP_STALE' | 'NONCE_INVALID'

/** A request failed the internal-API signature check; the edge answers a generic 401. */
export class InternalAuthError extends Error {
  readonly code: InternalAuthErrorCode

  constructor(code: InternalAuthErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'InternalAuthError'
    this.code = code
  }
}

/** App could not be reached or did not answer in time; any HTTP answer is not this error. */
export class InternalApiUnreachableError extends Error {
  readonly code = 'INTERNAL_API_UNREACHABLE'
  readonly timedOut: boolean

  constructor(message: string, options: ErrorOptions & { timedOut: boolean }) {
    super(message, { cause: options.cause })
    this.name = 'InternalApiUnreachableError'
    this.timedOut = options.timedOut
  }
}
