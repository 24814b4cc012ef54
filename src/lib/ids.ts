import { createHash, randomFillSync } from 'node:crypto'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const isUuid = (value: string): boolean => UUID_RE.test(value)

/** Random bytes drawn from a pool refilled 256 ids at a time (one randomBytes call per id cost ~30 µs). */
const POOL = Buffer.alloc(16 * 256)
let pooled = POOL.length
function random16(): Buffer {
  if (pooled === POOL.length) {
    randomFillSync(POOL)
    pooled = 0
  }
  const out = Buffer.from(POOL.subarray(pooled, pooled + 16))
  pooled += 16
  return out
}

/**
 * UUIDv7 (RFC 9562): time-ordered, so new rows land at the right edge of the primary-key index
 * instead of scattering writes over it as v4 does.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = random16()
  bytes.writeUIntBE(now, 0, 6)
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** A stable UUID (v5-style, SHA-1) naming a thing that has no UUID of its own, for audit rows. */
export function nameUuid(name: string): string {
  const hex = createHash('sha1').update(`servicedesk:${name}`).digest('hex')
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
