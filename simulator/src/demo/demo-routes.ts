// The demo page: a front end against the real app API, served from this folder (no build step), plus a QR PNG.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import QRCode from 'qrcode'

interface StaticFile {
  type: string
  body: Buffer
}

const folder = new URL('./', import.meta.url)

function load(name: string, type: string): StaticFile {
  return { type, body: readFileSync(new URL(name, folder)) }
}

/** The longest text /demo/qr.png encodes (a NATIVE code_url is ~40 characters). */
export const QR_TEXT_MAX = 512

/**
 * `GET /` (the page), `/demo/demo.mjs`, `/demo/demo.css`, and `GET /demo/qr.png?text=` which draws any short text
 * as a QR code (WeChat's NATIVE `code_url` is a `weixin://` link the front end must draw itself).
 */
export function registerDemoRoutes(app: FastifyInstance): void {
  // Read once at wiring time; the files are small and the page is the same for every visitor.
  const files: Record<string, StaticFile> = {
    '/': load('index.html', 'text/html; charset=utf-8'),
    '/demo/demo.mjs': load('demo.mjs', 'text/javascript; charset=utf-8'),
    '/demo/demo.css': load('demo.css', 'text/css; charset=utf-8'),
  }
  for (const [path, file] of Object.entries(files)) {
    app.get(path, (_request, reply) =>
      reply.type(file.type).header('cache-control', 'no-cache').send(file.body),
    )
  }
  app.get('/favicon.ico', (_request, reply) => reply.code(204).send())

  app.get<{ Querystring: { text?: string | string[] } }>('/demo/qr.png', async (request, reply) => {
    const raw = request.query.text
    const text = Array.isArray(raw) ? raw[0] : raw
    if (text === undefined || text === '' || text.length > QR_TEXT_MAX) {
      return reply.code(400).send({
        code: 'INVALID_REQUEST',
        message: `text is required (1-${QR_TEXT_MAX} characters)`,
      })
    }
    const png = await QRCode.toBuffer(text, { type: 'png', margin: 2, width: 240 })
    return reply.type('image/png').header('cache-control', 'no-store').send(png)
  })
}
