import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 }

function scryptAsync(password: string, salt: Buffer, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key)
    )
  })
}

/** scrypt with the parameters stored beside the hash, so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, SCRYPT.keylen)
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Without a stored hash still spend the time of one check, so unknown users answer as slowly as known ones
  const parts = (stored ?? '').split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    await scryptAsync(password, randomBytes(16), SCRYPT.keylen)
    return false
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string]
  const expected = Buffer.from(hash, 'base64url')
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(
      password,
      Buffer.from(salt, 'base64url'),
      expected.length,
      { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 },
      (err, k) => (err ? reject(err) : resolve(k))
    )
  })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/**
 * Bearer secrets: a recognisable prefix (secret scanners), 32 random bytes. Only a SHA-256 of the
 * whole token is stored; a 256-bit random secret needs no slow hash, and lookups stay one index probe.
 */
export function newToken(kind: 'session' | 'api'): { token: string; hash: string; prefix: string } {
  const secret = randomBytes(32).toString('base64url')
  const token = `${kind === 'session' ? 'sds_' : 'sdt_'}${secret}`
  return { token, hash: hashToken(token), prefix: token.slice(0, 10) }
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url')

/** Stable hash of a JSON-able value with sorted keys: the request fingerprint for idempotency. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('base64url')
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  const obj = value as Record<string, unknown>
  return `{${Object.keys(obj)
    .filter(k => obj[k] !== undefined)
    .sort()
    .map(k => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
    .join(',')}}`
}
