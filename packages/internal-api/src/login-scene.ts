// The one piece of app's QR-login scheme the gateway reads. Kept apart from internal-schemas.ts: a module
// the gateway imports from is loaded whole, and the schemas would load TypeBox (~3 MiB of heap) into a
// process that validates nothing with it (docs/benchmarks.md, "Memory").

/**
 * How app's login scenes begin (the rest is ≥ 128 random bits). app answers `binding/update` for these
 * only; the gateway reads the prefix just to pick a follow's reply when app could not answer in time.
 */
export const LOGIN_SCENE_PREFIX = 'login_'
