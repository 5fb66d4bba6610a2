// Schema validation that coerces text, never JSON.
//
// Query strings, path parameters and headers arrive as text, so their scalars are coerced (`?page=2` is
// the number 2). A JSON body arrives typed: coercing it too (Fastify's one Ajv does every part alike)
// took `{"openid": 123}` for the openid "123" and `{"amount": "10"}` for 10, input a client got wrong
// answered as if it were right. Bodies are validated by a second Ajv, the same but without coercion.
import { AjvCompiler } from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'

type ValidatorFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>['buildValidator']

/** A `schemaController.compilersFactory.buildValidator`: coercing for text parts, exact for bodies. */
export function textCoercingValidator(): NonNullable<ValidatorFactory> {
  const fromPool = AjvCompiler()
  return (externalSchemas, options = {}) => {
    if (options.mode === 'JTD') return fromPool(externalSchemas, options)
    const forText = fromPool(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: true },
    })
    const forBody = fromPool(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false },
    })
    return (route) => (route.httpPart === 'body' ? forBody : forText)(route)
  }
}
