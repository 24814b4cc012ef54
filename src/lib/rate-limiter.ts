import type { FastifyBaseLogger } from 'fastify'
import type { Hit, RateCounter } from './rate-counter.js'

/** Far below its limit a key is counted in this process, up to this share of the limit in all… */
const LOCAL_SHARE = 0.5
/** …and this share between two syncs, so N instances overshoot by at most N × 5 % of the limit. */
const PENDING_SHARE = 0.05
/** Keys kept in memory at most; the oldest are synced and forgotten past it. */
const MAX_KEYS = 10_000

interface Local {
  windowMs: number
  /** The database's count at the last sync (every instance's hits). */
  total: number
  /** Hits counted here since, not yet in the database. */
  pending: number
  resetAt: number
  syncedAt: number
}

/**
 * Per-caller request limits on top of the shared database counter (lib/rate-counter.ts), without an
 * upsert on every request. While a key is well under its limit, hits are counted in memory and added
 * to the database every `syncMs`; near the limit (past half of it, or after a burst of 5 % of it since
 * the last sync) every hit goes to the database and is exact, whichever instance takes it. A limit
 * below 20 is therefore always exact.
 */
export function createRateLimiter(counter: RateCounter, log: FastifyBaseLogger, syncMs = 250) {
  const locals = new Map<string, Local>()

  /** Takes the database's answer; hits counted here while it was on its way stay pending. */
  function remember(key: string, windowMs: number, hit: Hit, now: number): void {
    const pending = locals.get(key)?.pending ?? 0
    locals.delete(key) // re-inserted last: the map's order is the order keys were last synced
    locals.set(key, { windowMs, total: hit.hits, pending, resetAt: now + hit.resetMs, syncedAt: now })
    if (locals.size > MAX_KEYS) {
      const [oldest] = locals.keys()
      if (oldest !== undefined) void sync(oldest)
    }
  }

  async function sync(key: string): Promise<void> {
    const local = locals.get(key)
    if (!local) return
    if (local.pending === 0) {
      if (Date.now() >= local.resetAt || locals.size > MAX_KEYS) locals.delete(key)
      return
    }
    const n = local.pending
    local.pending = 0
    try {
      remember(key, local.windowMs, await counter.hit(key, local.windowMs, n), Date.now())
    } catch (err) {
      local.pending += n
      log.warn({ err, key }, 'could not sync a rate counter')
    }
  }

  let syncing = false
  const timer = setInterval(() => {
    if (syncing) return
    syncing = true
    Promise.all([...locals.keys()].map(sync)).finally(() => {
      syncing = false
    })
  }, syncMs)
  timer.unref()

  return {
    /** Counts one hit on `key` against `max` per `windowMs` and answers the window's total as known here. */
    async hit(key: string, windowMs: number, max: number): Promise<Hit> {
      const now = Date.now()
      const local = locals.get(key)
      if (
        local &&
        now < local.resetAt &&
        now - local.syncedAt < 4 * syncMs &&
        local.total + local.pending + 1 <= max * LOCAL_SHARE &&
        local.pending + 1 <= max * PENDING_SHARE
      ) {
        local.pending++
        return { hits: local.total + local.pending, resetMs: local.resetAt - now }
      }
      const n = 1 + (local?.pending ?? 0)
      if (local) local.pending = 0
      try {
        const hit = await counter.hit(key, windowMs, n)
        remember(key, windowMs, hit, now)
        return hit
      } catch (err) {
        // The hits counted here stay pending for the next sync; this request fails as the database did
        if (local) local.pending += n - 1
        throw err
      }
    },
    /** Stops syncing after adding what is pending (the app is closing). */
    async close(): Promise<void> {
      clearInterval(timer)
      await Promise.all([...locals.keys()].map(sync))
    }
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
