// Pair 4 baseline: a bare Fastify + mysql2 route: verify the HS256 bearer token, select the user, answer credits.
import Fastify from 'fastify'
import { jwtVerify } from 'jose'
import { createPool } from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'

const port = Number(process.env.PORT)
const secret = process.env.JWT_SECRET ?? ''
if (!Number.isInteger(port) || secret === '') throw new Error('PORT and JWT_SECRET are required')
const key = new TextEncoder().encode(secret)

// The same pool size as app's (mysql2's default of 10).
const pool = createPool({
  host: process.env.MYSQL_HOST,
  port: Number(process.env.MYSQL_PORT ?? 3306),
  user: process.env.MYSQL_USER,
  password: process.env.MYSQL_PASSWORD ?? '',
  database: process.env.MYSQL_DATABASE,
  connectionLimit: 10,
  supportBigNumbers: true,
  charset: 'utf8mb4',
})

const app = Fastify({ logger: false })
app.get('/healthz', () => 'ok')
app.get('/api/v1/user/credits', async (request, reply) => {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  let userId: number
  try {
    if (match?.[1] === undefined) throw new Error('no bearer token')
    const { payload } = await jwtVerify(match[1], key, { algorithms: ['HS256'] })
    userId = Number(payload.sub)
  } catch {
    return reply.code(401).send({ code: 'UNAUTHENTICATED', message: 'Sign in first.' })
  }
  // The statement app's query builder sends (mysql2 text protocol, as Kysely uses it).
  const [rows] = await pool.query<RowDataPacket[]>('select * from `wechat_users` where `id` = ?', [
    userId,
  ])
  const user = rows[0]
  if (user === undefined) {
    return reply.code(401).send({ code: 'UNAUTHENTICATED', message: 'Sign in first.' })
  }
  return { credits: Number(user.credits) }
})

await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0))
})
