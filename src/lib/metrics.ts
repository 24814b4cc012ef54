import { sql } from 'drizzle-orm'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Database } from '../db/client.js'

const PREFIX = 'servicedesk_'
/** Database figures are read at most this often, however often Prometheus scrapes. */
const SNAPSHOT_TTL_MS = 5000

interface Snapshot {
  openTickets: { kind: string; priority: number; n: number }[]
  outboxPending: number
  outboxDead: number
  slaBreached: number
  workDue: number
  workOldestDueLagSeconds: number
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows

/** One cheap query per figure, each served by an index (partial where the table has one). */
async function readSnapshot(database: Database): Promise<Snapshot> {
  const { db } = database
  const open = rowsOf<{ kind: string; priority: number; n: number | string }>(
    await db.execute(
      sql`select kind, priority, count(*)::int as n from tickets where closed_at is null group by kind, priority`
    )
  )
  const [outbox] = rowsOf<{ pending: number | string; dead: number | string }>(
    await db.execute(sql`select
      (select count(*)::int from notification_outbox where sent_at is null and dead_at is null) as pending,
      (select count(*)::int from notification_outbox where dead_at is not null) as dead`)
  )
  const [sla] = rowsOf<{ n: number | string }>(
    await db.execute(
      sql`select count(*)::int as n from sla_clocks where breached_at is not null and state <> 'stopped'`
    )
  )
  const [work] = rowsOf<{ due: number | string; lag: number | string | null }>(
    await db.execute(sql`select count(*)::int as due,
      extract(epoch from (now() - min(due_at)))::float8 as lag
      from work_items where dead_at is null and due_at <= now()`)
  )
  return {
    openTickets: open.map(r => ({ kind: r.kind, priority: Number(r.priority), n: Number(r.n) })),
    outboxPending: Number(outbox?.pending ?? 0),
    outboxDead: Number(outbox?.dead ?? 0),
    slaBreached: Number(sla?.n ?? 0),
    workDue: Number(work?.due ?? 0),
    workOldestDueLagSeconds: Math.max(0, Number(work?.lag ?? 0))
  }
}

export interface Metrics {
  registry: Registry
  /** Records one answered request: `route` is the route pattern, or 'unmatched'. */
  observeRequest(method: string, route: string, status: number, seconds: number): void
}

/** One registry per app: process defaults, HTTP traffic, and database figures read on scrape. */
export function createMetrics(database: Database): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: PREFIX })

  const labelNames = ['method', 'route', 'status'] as const
  const duration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP request duration by route pattern and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const requests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by route pattern and status',
    labelNames,
    registers: [registry]
  })

  let cached: { at: number; value: Promise<Snapshot> } | null = null
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now()
    if (!cached || now - cached.at >= SNAPSHOT_TTL_MS) {
      const value = readSnapshot(database)
      // A failed read is not cached: the next scrape tries again
      value.catch(() => {
        if (cached?.value === value) cached = null
      })
      cached = { at: now, value }
    }
    return cached.value
  }

  new Gauge({
    name: `${PREFIX}open_tickets`,
    help: 'Tickets not closed, by kind and priority',
    labelNames: ['kind', 'priority'] as const,
    registers: [registry],
    async collect() {
      const s = await snapshot()
      this.reset()
      for (const r of s.openTickets) this.set({ kind: r.kind, priority: String(r.priority) }, r.n)
    }
  })
  const simple = (name: string, help: string, read: (s: Snapshot) => number) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await snapshot()))
      }
    })
  simple('outbox_pending', 'Notification outbox rows neither sent nor dead', s => s.outboxPending)
  simple('outbox_dead', 'Notification outbox rows given up after their attempts (dead letters)', s => s.outboxDead)
  simple('sla_breached_clocks', 'SLA clocks breached and still running or paused', s => s.slaBreached)
  simple('work_items_due', 'Scheduler work items due now and not dead', s => s.workDue)
  simple(
    'work_items_oldest_due_lag_seconds',
    'How long the oldest due work item has waited past its due time',
    s => s.workOldestDueLagSeconds
  )

  if (database.poolStats() !== null) {
    const pool = (name: string, help: string, read: (p: { total: number; idle: number; waiting: number }) => number) =>
      new Gauge({
        name: `${PREFIX}db_pool_${name}`,
        help,
        registers: [registry],
        collect() {
          const p = database.poolStats()
          if (p) this.set(read(p))
        }
      })
    pool('connections', 'Connections the pool holds', p => p.total)
    pool('idle_connections', 'Pool connections idle', p => p.idle)
    pool('waiting_requests', 'Queries waiting for a pool connection', p => p.waiting)
  }

  // The children per label set, made once: prom-client validates labels on every labelled call, a cost
  // every request paid (route patterns, methods and statuses are few, so the map stays small)
  const children = new Map<string, { duration: { observe(v: number): void }; requests: { inc(): void } }>()
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`
      let child = children.get(key)
      if (!child) {
        const labels = { method, route, status: String(status) }
        child = { duration: duration.labels(labels), requests: requests.labels(labels) }
        children.set(key, child)
      }
      child.duration.observe(seconds)
      child.requests.inc()
    }
  }
}
