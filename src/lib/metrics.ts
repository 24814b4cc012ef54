import { sql } from 'drizzle-orm'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Database } from '../db/client.js'
import { freshnessOf } from './freshness.js'

const PREFIX = 'servicedesk_'
/** Database figures are read at most this often, however often Prometheus scrapes. */
const SNAPSHOT_TTL_MS = 5000
/** Distinct event sources given a series of their own; later ones count under `other` (sources are client text). */
const MAX_EVENT_SOURCES = 100

/** A workflow phase: open (work goes on), resolved, closed. */
export type Phase = 'open' | 'resolved' | 'closed'
/** The phase of a status in its kind's workflow (undefined: a status the workflow does not know). */
export type PhaseOf = (kind: string, status: string) => Promise<Phase | undefined>

export interface MetricsOptions {
  /** Where reports read, when it is not `database` (a read replica): its pool and lag are exported too. */
  readDatabase?: Database
  /** Open tickets are those whose status is of phase open; without this, those not resolved or closed. */
  phaseOf?: PhaseOf
}

interface Snapshot {
  openTickets: { kind: string; priority: number; n: number }[]
  replicaLagSeconds: number | null
  outboxPending: number
  outboxDead: number
  slaBreached: number
  workDue: number
  workOldestDueLagSeconds: number
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows

/**
 * Tickets whose status is of phase open in their kind's workflow, by kind and priority. The phase lives
 * in the workflow (data an admin edits), not in a column: the rows not closed are counted by status in
 * SQL (a few dozen groups), and each status is looked up. Without a lookup, a status counts as open
 * while the ticket has neither resolved_at nor closed_at (what moving into a resolved or closed phase stamps).
 */
async function openTickets(database: Database, phaseOf: PhaseOf | undefined): Promise<Snapshot['openTickets']> {
  const rows = rowsOf<{ kind: string; status: string; priority: number; n: number | string; unresolved: boolean }>(
    await database.db.execute(sql`select kind, status, priority, count(*)::int as n,
      bool_and(resolved_at is null) as unresolved
      from tickets where closed_at is null group by kind, status, priority`)
  )
  const totals = new Map<string, { kind: string; priority: number; n: number }>()
  for (const r of rows) {
    const phase = phaseOf ? ((await phaseOf(r.kind, r.status)) ?? 'open') : r.unresolved ? 'open' : 'resolved'
    if (phase !== 'open') continue
    const key = `${r.kind}:${r.priority}`
    const total = totals.get(key) ?? { kind: r.kind, priority: Number(r.priority), n: 0 }
    total.n += Number(r.n)
    totals.set(key, total)
  }
  return [...totals.values()]
}

/** One cheap query per figure, each served by an index (partial where the table has one). */
async function readSnapshot(database: Database, opts: MetricsOptions): Promise<Snapshot> {
  const { db } = database
  const open = await openTickets(database, opts.phaseOf)
  // A replica that does not answer has no lag to tell: the gauge is left out, the rest still answers
  const replicaLagSeconds =
    opts.readDatabase && opts.readDatabase !== database
      ? await freshnessOf(opts.readDatabase.db).then(
          f => f.replicaLagSeconds ?? 0,
          () => null
        )
      : null
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
    openTickets: open,
    replicaLagSeconds,
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
  /** Records one job run that ended (the job runner's `observe`). */
  observeJob(job: string, outcome: 'ok' | 'failed' | 'abandoned', seconds: number): void
  /** Records ingested events: how many of a source had an outcome (an engine action, or rejected). */
  observeEvents(counts: readonly { source: string; outcome: string; n: number }[]): void
}

/** One registry per app: process defaults, HTTP traffic, jobs, events, and database figures read on scrape. */
export function createMetrics(database: Database, opts: MetricsOptions = {}): Metrics {
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

  const jobRuns = new Counter({
    name: `${PREFIX}job_runs_total`,
    help: 'Job runs that ended, by job and outcome (ok, failed, abandoned: its lease was lost)',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry]
  })
  const jobFailures = new Counter({
    name: `${PREFIX}jobs_failed_total`,
    help: 'Job runs that threw or timed out, by job (each is retried with backoff or dead-lettered)',
    labelNames: ['job'] as const,
    registers: [registry]
  })
  const jobDuration = new Histogram({
    name: `${PREFIX}job_duration_seconds`,
    help: 'How long job runs took, by job',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry]
  })
  const eventsIngested = new Counter({
    name: `${PREFIX}events_ingested_total`,
    help: 'Monitoring events ingested, by source and outcome (opened, deduplicated, resolved, noted, held, ignored, rejected)',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry]
  })
  const sources = new Set<string>()
  const sourceLabel = (source: string) => {
    if (sources.has(source)) return source
    if (sources.size >= MAX_EVENT_SOURCES) return 'other'
    sources.add(source)
    return source
  }

  let cached: { at: number; value: Promise<Snapshot> } | null = null
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now()
    if (!cached || now - cached.at >= SNAPSHOT_TTL_MS) {
      const value = readSnapshot(database, opts)
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
    help: 'Tickets in a status of phase open (neither resolved nor closed), by kind and priority',
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

  // The primary's pool, and the read replica's beside it when reports read there (label pool)
  const pools: { pool: 'primary' | 'replica'; database: Database }[] = []
  if (database.poolStats() !== null) pools.push({ pool: 'primary', database })
  const replica = opts.readDatabase && opts.readDatabase !== database ? opts.readDatabase : null
  if (replica?.poolStats()) pools.push({ pool: 'replica', database: replica })
  if (pools.length > 0) {
    const pool = (name: string, help: string, read: (p: { total: number; idle: number; waiting: number }) => number) =>
      new Gauge({
        name: `${PREFIX}db_pool_${name}`,
        help,
        labelNames: ['pool'] as const,
        registers: [registry],
        collect() {
          for (const entry of pools) {
            const p = entry.database.poolStats()
            if (p) this.set({ pool: entry.pool }, read(p))
          }
        }
      })
    pool('connections', 'Connections the pool holds (pool: primary, or the replica reports read from)', p => p.total)
    pool('idle_connections', 'Pool connections idle', p => p.idle)
    pool('waiting_requests', 'Queries waiting for a pool connection', p => p.waiting)
  }
  if (replica) {
    new Gauge({
      name: `${PREFIX}db_replica_lag_seconds`,
      help: 'How far the read replica (DATABASE_READ_URL) is behind the primary; absent while it does not answer',
      registers: [registry],
      async collect() {
        const { replicaLagSeconds } = await snapshot()
        this.reset()
        if (replicaLagSeconds !== null) this.set(replicaLagSeconds)
      }
    })
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
    },
    observeJob(job, outcome, seconds) {
      jobRuns.inc({ job, outcome })
      if (outcome === 'failed') jobFailures.inc({ job })
      jobDuration.observe({ job }, seconds)
    },
    observeEvents(counts) {
      for (const c of counts) eventsIngested.inc({ source: sourceLabel(c.source), outcome: c.outcome }, c.n)
    }
  }
}
