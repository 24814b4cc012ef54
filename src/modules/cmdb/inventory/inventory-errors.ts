import { gunzipSync, inflateSync, constants as zlib } from 'node:zlib'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, type FieldError } from '../../../lib/errors.js'
import { type Encoding, encodeReply, REPLY_TYPE } from './inventory-protocol.js'

/** Which peer is talking: GLPI Agent's JSON protocol, the OCS / FusionInventory XML one, or neither. */
export type AgentProtocol = 'json' | 'xml' | null

const XML_TYPES = new Set(['application/xml', 'text/xml'])
const JSON_TYPES = new Set(['application/json', 'application/x-compress-gzip', 'application/x-compress-br'])
const ZLIB_TYPES = new Set(['application/x-compress-zlib', 'application/x-compress'])
const PEEK = 256

/** The first bytes of a body, inflated as far as a short prefix goes (never the whole body: bombs stay shut). */
function peek(type: string, body: Buffer): string {
  const prefix = body.subarray(0, PEEK)
  const flush = { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength: PEEK * 64 }
  try {
    if (ZLIB_TYPES.has(type)) return inflateSync(prefix, flush).toString('utf8')
    if (type === 'application/x-compress-gzip') return gunzipSync(prefix, flush).toString('utf8')
  } catch {
    return ''
  }
  return prefix.toString('utf8')
}

/**
 * The protocol of a request, for answering its errors in the shape its agent reads: by what the body
 * starts with (`<` XML, `{` JSON), then the GLPI-Agent-ID header (GLPI Agent sends it always), then the
 * Content-Type. Null for a client that is neither (it gets RFC 9457 problem+json like every other door).
 */
export function agentProtocol(contentType: string | undefined, agentId: unknown, body: unknown): AgentProtocol {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const first = Buffer.isBuffer(body) ? peek(type, body).trimStart()[0] : undefined
  if (first === '<') return 'xml'
  if (first === '{') return 'json'
  if (typeof agentId === 'string' && agentId) return 'json'
  if (XML_TYPES.has(type) || ZLIB_TYPES.has(type)) return 'xml'
  if (JSON_TYPES.has(type)) return 'json'
  return null
}

const xmlEscape = (s: string) =>
  s.replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)

/** What the message says: the detail, then each field that is wrong (agents show only the message). */
function messageOf(detail: string, errors: FieldError[] | undefined) {
  const named = (errors ?? []).map(e => `${e.field}: ${e.message}`).filter(m => !detail.includes(m))
  return [detail, ...named].join('; ').slice(0, 2000)
}

/**
 * A refused inventory request answered the way its agent reads it, with the same status:
 * - GLPI Agent (JSON): `{"status":"error","message":"…"}` (plus `code` and the field `errors`), and for
 *   429/503 `"expiration":1`, which makes the agent keep the inventory and retry in an hour;
 * - OCS / FusionInventory (XML): `<REPLY><ERROR>…</ERROR></REPLY>`, in the encoding of the request
 *   (zlib when it came zlib), as GLPI answers it.
 * Anything else (no agent, or a 5xx we did not choose) is thrown on to the problem+json handler.
 */
export function sendAgentError(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) {
  const status = err instanceof AppError ? err.status : ((err as FastifyError).statusCode ?? 500)
  const protocol = agentProtocol(request.headers['content-type'], request.headers['glpi-agent-id'], request.body)
  if (!protocol || status < 400 || (status >= 500 && !(err instanceof AppError))) throw err
  const app = err instanceof AppError ? err : null
  const detail = err.message
  const message = messageOf(detail, app?.errors)
  request.log.info({ status, detail: detail.slice(0, 200) }, 'inventory refused')
  if (status === 503) reply.header('retry-after', '5')
  if (protocol === 'json') {
    const body = {
      status: 'error',
      message,
      ...(status === 429 || status === 503 ? { expiration: 1 } : {}),
      code: app?.code ?? (err as FastifyError).code ?? 'ERROR',
      ...(app?.errors?.length ? { errors: app.errors } : {})
    }
    return reply.code(status).type('application/json').send(JSON.stringify(body))
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  const encoding: Encoding = ZLIB_TYPES.has(type) ? 'zlib' : 'none'
  const xml = `<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY>\n  <ERROR>${xmlEscape(message)}</ERROR>\n</REPLY>\n`
  return reply.code(status).type(REPLY_TYPE[encoding]).send(encodeReply(xml, encoding))
}
