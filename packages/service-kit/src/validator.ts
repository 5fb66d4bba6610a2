// Schema validation that coerces text, never JSON.
//
// Query strings, path parameters and headers arrive as text, so their scalars are coerced (`?page=2` is
// the number 2). A JSON body arrives typed: coercing it too (Fastify's one Ajv does every part alike)
// took `{"openid": 123}` for the openid "123" and `{"amount": "10"}` for 10, input a client got wrong
// answered as if it were right. Bodies are validated by a second Ajv, the same but without coercion.
//
// Numbers must be finite. Ajv takes Infinity for an `integer` and skips minimum/maximum for it, so
// `?page=Infinity` (or `1e309`, in a query or a JSON body) reached SQL as `offset Infinity`: a 500.
// `strictNumbers` refuses it in a body; in text Ajv coerces "Infinity" after its type check
// (ajv-validator/ajv#2212), so coerced text is checked once more here.
import { AjvCompiler } from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'

type ValidatorFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>['buildValidator']
type CompileValidator = ReturnType<NonNullable<ValidatorFactory>>
type RouteValidator = ReturnType<CompileValidator>

/** An Ajv validator as Fastify calls it: (data, root context) → pass, with `errors` set on failure. */
interface AjvValidator {
  (data: unknown, context?: unknown): unknown
  errors?: unknown
  schemaEnv?: unknown
}

/** The path of the first number in `value` that is not finite (Infinity, NaN), or undefined. */
function nonFiniteAt(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path
  if (depth === 0 || value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = nonFiniteAt(item, `${path}/${key}`, depth - 1)
    if (found !== undefined) return found
  }
  return undefined
}

/** `validate`, failing also when coercion made a number that is not finite. */
function finiteAfterCoercion(validate: AjvValidator): AjvValidator {
  const checked: AjvValidator = (data, context) => {
    const passed = validate(data, context)
    checked.errors = validate.errors
    if (passed !== true) return passed
    const path = nonFiniteAt(data, '', 4)
    if (path === undefined) return true
    checked.errors = [
      {
        instancePath: path,
        schemaPath: '#/type',
        keyword: 'type',
        params: { type: 'number' },
        message: 'must be a finite number',
      },
    ]
    return false
  }
  // Fastify passes the root's parent only to validators that carry Ajv's schemaEnv.
  if (validate.schemaEnv !== undefined) checked.schemaEnv = validate.schemaEnv
  return checked
}

/** A `schemaController.compilersFactory.buildValidator`: coercing for text parts, exact for bodies. */
export function textCoercingValidator(): NonNullable<ValidatorFactory> {
  const fromPool = AjvCompiler()
  return (externalSchemas, options = {}) => {
    if (options.mode === 'JTD') return fromPool(externalSchemas, options)
    const forText = fromPool(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: true, strictNumbers: true },
    })
    const forBody = fromPool(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false, strictNumbers: true },
    })
    return (route) =>
      route.httpPart === 'body'
        ? forBody(route)
        : (finiteAfterCoercion(forText(route) as AjvValidator) as RouteValidator)
  }
}
