// Times are stored as Unix milliseconds (BIGINT on both dialects) and shown as ISO-8601 UTC.

/** Unix ms (or null) as ISO-8601 UTC. */
export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}
