import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { unauthenticated } from './errors.js'
import type { Metrics } from './metrics.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Bearer token check in constant time (both sides hashed to one length first). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : ''
  return timingSafeEqual(digest(given), digest(token))
}

export interface MetricsListener {
  /** The port it listens on (the one asked for, or the one given for 0). */
  port: number
  close(): Promise<void>
}

export interface MetricsListenerOptions {
  port: number
  host: string
  /** When set, a scrape must send `Authorization: Bearer <token>` (else 401, as the API's /metrics). */
  token?: string | undefined
  log: { error(obj: object, msg: string): void }
}

/**
 * GET /metrics from a plain HTTP listener of its own: the API's METRICS_PORT, and the scheduler
 * process, which has no Fastify app. Every other path is a 404; a failed collection a 500 with no detail.
 */
export async function listenForScrapes(metrics: Metrics, opts: MetricsListenerOptions): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    if (opts.token !== undefined && !tokenMatches(req.headers.authorization, opts.token)) {
      // The problem details the API's /metrics answers (plugins/errors.ts problemType)
      const { code, status, title, message } = unauthenticated('a valid metrics bearer token is required')
      const type = `urn:servicedesk:problem:${code.toLowerCase()}`
      res
        .writeHead(status, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer realm="metrics"' })
        .end(JSON.stringify({ type, title, status, detail: message, code }))
      return
    }
    metrics.registry.metrics().then(
      body => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => {
        opts.log.error({ err }, 'metrics collection failed')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
      }
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
