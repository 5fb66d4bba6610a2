// @wxgate/internal-api: the gateway→app contract (signature, replay store, allowlist, bodies, client).
export { InternalAuthError, InternalApiUnreachableError } from './errors.js'
export type { InternalAuthErrorCode } from './errors.js'
export {
  signInternalRequest,
  verifyInternalRequest,
  internalStringToSign,
  randomInternalNonce,
  TIMESTAMP_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  DEFAULT_MAX_SKEW_S,
} from './internal-signature.js'
export type {
  InternalSignatureHeaders,
  InternalSecret,
  RawBody,
  HeaderBag,
  SignInternalRequestInput,
  VerifyInternalRequestInput,
} from './internal-signature.js'
export { createMemoryNonceStore } from './nonce-store.js'
export type { NonceStore, MemoryNonceStore, MemoryNonceStoreOptions } from './nonce-store.js'
export {
  createIpAllowlist,
  parseCidr,
  InvalidCidrError,
  DEFAULT_INTERNAL_ALLOWED_IPS,
} from './ip-allowlist.js'
export type { IpAllowlist, Cidr } from './ip-allowlist.js'
export * from './internal-schemas.js'
export { LOGIN_SCENE_PREFIX } from './login-scene.js'
export { createInternalClient } from './internal-client.js'
export type {
  InternalClient,
  InternalClientOptions,
  InternalCallOptions,
  InternalResponse,
} from './internal-client.js'
