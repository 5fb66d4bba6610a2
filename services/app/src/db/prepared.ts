// Hot statements built and compiled once per dialect instead of on every call.
//
// Why: Kysely builds an operation-node tree, freezes it and walks it to SQL on every execute. On the
// payment-notification path (five statements in one transaction) that was about a quarter of app's
// JavaScript time (docs/benchmarks.md, pair 3). A prepared query runs the same builder code once, with
// a marker object where each parameter goes; every call then puts its values where the markers landed
// in the compiled parameter list and executes the compiled SQL. The query is still written with
// Kysely's builder (so it stays one query for MySQL and SQLite), it is only not rebuilt.
//
// The compiled SQL is kept per dialect adapter, which `withPlugin`/`withSchema` views of a database
// share: a prepared query must not be run on such a view (none is used in app).
// Limits: a parameter must be passed to the builder as a value (in `set`, `where`, `s.val`, …), never
// computed with (`now + ms` must be its own parameter), and never expanded (an `in` list of markers
// would be one marker per element, which is fine, but a marker standing for a whole list is not).
import { CompiledQuery } from 'kysely'
import type { Compilable, Kysely, QueryResult } from 'kysely'

/** Stands for one named parameter while the query is built. */
class ParameterMarker {
  constructor(readonly name: string) {}
}

export interface PreparedQuery<DB, Params, Row> {
  /** Runs on `db` or a transaction of it. */
  execute(db: Kysely<DB>, params: Params): Promise<QueryResult<Row>>
}

/**
 * `build` receives `p`, whose every property is the marker of the parameter of that name (typed as
 * the parameter's type, so the builder accepts it), and returns the query to compile.
 */
export function prepareQuery<DB, Params extends Record<string, unknown>, Row>(
  build: (db: Kysely<DB>, p: Params) => Compilable<Row>,
): PreparedQuery<DB, Params, Row> {
  const markers = new Proxy({} as Params, {
    get: (_target, name) => new ParameterMarker(String(name)),
  })
  // One compilation per dialect: keyed by the adapter, which a database and its transactions share.
  const compiledBy = new WeakMap<object, CompiledQuery<Row>>()
  return {
    async execute(db, params) {
      const adapter = db.getExecutor().adapter
      let compiled = compiledBy.get(adapter)
      if (compiled === undefined) {
        compiled = build(db, markers).compile()
        if (!compiled.parameters.some((value) => value instanceof ParameterMarker)) {
          throw new Error('a prepared query must take at least one parameter')
        }
        compiledBy.set(adapter, compiled)
      }
      const parameters = compiled.parameters.map((value) => {
        if (!(value instanceof ParameterMarker)) return value
        // undefined too: the builder would have left such a column out, the compiled SQL cannot.
        const given = params[value.name]
        if (given === undefined) throw new Error(`prepared query: no value for ${value.name}`)
        return given
      })
      return db.executeQuery(CompiledQuery.raw(compiled.sql, parameters))
    },
  }
}
