import { brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { XMLParser } from 'fast-xml-parser'
import { AppError, badRequest } from '../../../lib/errors.js'

/** How a body came and how its answer must go: agents read the encoding they wrote. */
export type Encoding = 'none' | 'zlib' | 'gzip' | 'br'

const BY_TYPE: Record<string, Encoding> = {
  'application/json': 'none',
  'application/xml': 'none',
  'text/xml': 'none',
  'application/x-compress-zlib': 'zlib',
  'application/x-compress': 'zlib',
  'application/x-compress-gzip': 'gzip',
  'application/x-compress-br': 'br'
}

export const tooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', 413, 'Payload Too Large', `the body inflates past ${limit} bytes`)

/**
 * The body as text, inflated by what its Content-Type says (Content-Encoding was already undone,
 * bounded, by the HTTP layer). Inflating stops at `limit` output bytes: a compression bomb is a 413
 * without ever being inflated whole.
 */
export function decodeBody(
  contentType: string | undefined,
  body: Buffer,
  limit: number
): { text: string; encoding: Encoding } {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const encoding = BY_TYPE[type]
  if (encoding === undefined) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      'Unsupported Media Type',
      `Content-Type ${type.slice(0, 60) || '(none)'} is not taken; send ${Object.keys(BY_TYPE).join(', ')}`
    )
  }
  const opts = { maxOutputLength: limit }
  let raw: Buffer
  try {
    raw =
      encoding === 'zlib'
        ? inflateSync(body, opts)
        : encoding === 'gzip'
          ? gunzipSync(body, opts)
          : encoding === 'br'
            ? brotliDecompressSync(body, opts)
            : body
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(limit)
    throw badRequest(`the body is not valid ${encoding} data (Content-Type ${type})`)
  }
  if (raw.length > limit) throw tooLarge(limit)
  return { text: raw.toString('utf8'), encoding }
}

export function encodeReply(text: string, encoding: Encoding): Buffer {
  const buf = Buffer.from(text, 'utf8')
  if (encoding === 'zlib') return deflateSync(buf)
  if (encoding === 'gzip') return gzipSync(buf)
  return buf
}

export const REPLY_TYPE: Record<Encoding, string> = {
  none: 'application/xml',
  zlib: 'application/x-compress-zlib',
  gzip: 'application/x-compress-gzip',
  br: 'application/xml'
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true
})

type Obj = Record<string, unknown>

/** Upper-case XML sections become the JSON protocol's lower-case keys (GLPI's Converter does the same). */
function lowerKeys(v: unknown, depth = 0): unknown {
  if (depth > 32) throw badRequest('the XML nests too deep')
  if (Array.isArray(v)) return v.map(x => lowerKeys(x, depth + 1))
  if (v && typeof v === 'object') {
    const out: Obj = {}
    for (const [k, x] of Object.entries(v)) out[k.toLowerCase()] = lowerKeys(x, depth + 1)
    return out
  }
  return v
}

/**
 * An OCS / FusionInventory XML request: `<REQUEST><DEVICEID/><QUERY>PROLOG|INVENTORY</QUERY><CONTENT/>`.
 * No DTD is taken (entity expansion is how XML bombs work); the shape is converted to the JSON one.
 */
export function parseXmlRequest(text: string): { query: string; body: Obj } {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw badRequest('XML with a DTD or entities is not taken')
  let doc: Obj
  try {
    doc = parser.parse(text, true) as Obj
  } catch (err) {
    throw badRequest(`the body is not well-formed XML: ${(err as Error).message.slice(0, 200)}`)
  }
  const request = doc.REQUEST
  if (!request || typeof request !== 'object') {
    throw badRequest('an XML inventory is a <REQUEST> document', [{ field: 'REQUEST', message: 'required' }])
  }
  const r = request as Obj
  const query = typeof r.QUERY === 'string' ? r.QUERY.toUpperCase() : ''
  if (!query)
    throw badRequest('REQUEST/QUERY: required (PROLOG or INVENTORY)', [{ field: 'REQUEST/QUERY', message: 'required' }])
  return { query, body: lowerKeys(r) as Obj }
}

export const prologReply = () =>
  '<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>\n'
export const inventoryReply = () =>
  '<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY><RESPONSE>no_update</RESPONSE></REPLY>\n'
