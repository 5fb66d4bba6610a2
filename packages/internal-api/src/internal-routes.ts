// The internal API's method and path per call, apart from the body schemas: the gateway's client needs
// only these, and so does not load TypeBox (a few MiB of a gateway's heap; see docs/benchmarks.md).
/** Paths and methods of the five internal calls. */
export const INTERNAL_ROUTES = {
  createOrUpdateUser: { method: 'POST', path: '/api/v1/internal/user/create-or-update' },
  createBinding: { method: 'POST', path: '/api/v1/internal/binding/create' },
  updateBinding: { method: 'PUT', path: '/api/v1/internal/binding/update' },
  updateOrder: { method: 'PUT', path: '/api/v1/internal/payment/order/update' },
  consumeCredits: { method: 'POST', path: '/api/v1/internal/credits/consume' },
} as const

export type InternalRouteName = keyof typeof INTERNAL_ROUTES
