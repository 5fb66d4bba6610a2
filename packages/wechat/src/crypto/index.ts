// Public surface of crypto/ (re-exported by ../index.ts).
export { safeEqual } from './constant-time.js'
export { pkcs7Pad, pkcs7Unpad } from './pkcs7.js'
export { randomNonce } from './random-nonce.js'
