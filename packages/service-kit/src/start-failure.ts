// A service that cannot start (port taken, database unreachable) says why in one line, not a stack trace.

/** The error and its causes as one sentence: `database migration failed: connect ECONNREFUSED …`. */
export function describeStartError(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const text = ownMessage(current)
    if (text !== '' && !parts.some((part) => part.includes(text))) parts.push(text)
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.length > 0 ? parts.join(': ') : 'unknown error'
}

function ownMessage(error: unknown): string {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : ''
  // A connection refused on every address arrives as an AggregateError with an empty message.
  if (error.message === '' && error instanceof AggregateError) {
    return [...new Set(error.errors.map((inner) => ownMessage(inner)))].join('; ')
  }
  if (error.message !== '') return error.message
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}

/** Prints `<service>: cannot start: <reason>` on stderr and exits 1. Only a `server.ts` calls this. */
export function exitOnStartFailure(service: string, error: unknown): never {
  process.stderr.write(`${service}: cannot start: ${describeStartError(error)}\n`)
  process.exit(1)
}
