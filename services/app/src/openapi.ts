// The OpenAPI document (`/openapi.json`) and its viewer (`/docs`). Routes describe their own 200 answer;
// what every route shares is added here, at documentation time only (answers are not serialized by it):
// the `{code, message, details?}` body of every refusal and failure (docs/errors.md lists the codes), and
// the internal API's signature headers, which its guard checks before any route runs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@wxgate/internal-api'
import type { FastifyInstance } from 'fastify'

const INTERNAL_PREFIX = '/api/v1/internal'

const errorBody = {
  description: 'Refused or failed: `code` is stable (docs/errors.md), `message` is for people.',
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    details: { description: 'What was wrong with the input (4xx only, some codes).' },
  },
}

const internalSecurity = [{ internalTimestamp: [], internalNonce: [], internalSignature: [] }]

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'wxgate app', version: '0.1.0' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
          internalTimestamp: {
            type: 'apiKey',
            in: 'header',
            name: TIMESTAMP_HEADER,
            description: 'Internal API (gateway only): Unix seconds, within 300 s of app’s clock.',
          },
          internalNonce: {
            type: 'apiKey',
            in: 'header',
            name: NONCE_HEADER,
            description: 'Internal API: a nonce never used before in the timestamp window.',
          },
          internalSignature: {
            type: 'apiKey',
            in: 'header',
            name: SIGNATURE_HEADER,
            description:
              'Internal API: HMAC-SHA256 with INTERNAL_API_SECRET over method, path, timestamp, nonce and body (docs/internals.md).',
          },
        },
      },
    },
    transform: ({ schema, url }) => {
      const internal = url === INTERNAL_PREFIX || url.startsWith(`${INTERNAL_PREFIX}/`)
      const response = {
        ...(schema.response as object | undefined),
        '4xx': errorBody,
        '5xx': errorBody,
      }
      return {
        url,
        schema: {
          ...schema,
          ...(schema.querystring === undefined
            ? {}
            : { querystring: optionalDefaults(schema.querystring) }),
          response,
          ...(internal ? { security: internalSecurity, tags: ['internal'] } : {}),
        },
      }
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()))
}

/** A query parameter with a default is one the caller may leave out; TypeBox lists it as required. */
function optionalDefaults(querystring: unknown): unknown {
  const { required, properties } = querystring as {
    required?: string[]
    properties?: Record<string, { default?: unknown }>
  }
  if (required === undefined || properties === undefined) return querystring
  return {
    ...(querystring as object),
    required: required.filter((name) => properties[name]?.default === undefined),
  }
}
