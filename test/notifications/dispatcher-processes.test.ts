import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationOutbox } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { createTestDatabase, driver, type TestDatabase } from '../helpers/db.js'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.js'
import { type Spawned, spawnEntry } from '../helpers/spawn.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

const DOMAIN = 'desk.example.test'

// PGlite is one process by nature; several dispatcher processes need PostgreSQL
describe.skipIf(driver !== 'pg')('the outbox dispatcher across scheduler processes', () => {
  let testDb: TestDatabase
  let sink: SmtpSink
  let slowMs = 0
  let userId: string
  const schedulers: Spawned[] = []

  function startScheduler(): Spawned {
    const s = spawnEntry('src/scheduler.ts', {
      DATABASE_URL: testDb.url!,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'debug',
      SCHEDULER_POLL_MS: '1000',
      SMTP_URL: sink.url,
      MAIL_FROM: `desk@${DOMAIN}`,
      NOTIFY_POLL_MS: '50',
      NOTIFY_BATCH: '50',
      NOTIFY_LEASE_MS: '2000'
    })
    schedulers.push(s)
    return s
  }

  beforeAll(async () => {
    sink = await startSmtpSink(() => null, { delayMs: () => slowMs })
    testDb = await createTestDatabase()
    userId = uuidv7()
    const db = testDb.database.db
    await db.execute(sql`INSERT INTO users (id, username, display_name, email, roles)
      VALUES (${userId}, 'ops', 'Ops', 'ops@example.test', '{technician}')`)
    await db.execute(sql`INSERT INTO notification_rules (id, event, audience, channel)
      VALUES (gen_random_uuid(), 'sla.warning', 'users', 'mail') ON CONFLICT DO NOTHING`)
  })
  afterAll(async () => {
    for (const s of schedulers) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
      await s.exited
    }
    await testDb?.drop()
    await sink?.close()
  })

  /** `n` outbox rows, each one mail to the ops user. */
  async function append(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => uuidv7())
    await testDb.database.db
      .insert(notificationOutbox)
      .values(ids.map(id => ({ id, event: 'sla.warning', payload: { userIds: [userId] } })))
    return ids
  }
  const messageIdOf = (rowId: string) => `<${rowId}.${userId}.mail@${DOMAIN}>`
  const pendingCount = async () =>
    rowsOf<{ n: number }>(
      await testDb.database.db.execute(
        sql`SELECT count(*)::int AS n FROM notification_outbox WHERE sent_at IS NULL AND dead_at IS NULL`
      )
    )[0]!.n

  it('two dispatchers deliver 2,000 rows: every row once, none twice', async () => {
    const a = startScheduler()
    const b = startScheduler()
    await waitFor('both schedulers to start', () => [a, b].every(s => s.output().includes('scheduler started')), {
      timeoutMs: 150_000,
      everyMs: 200
    })
    const ids = await append(2000)
    await waitFor('every row to be sent', async () => (await pendingCount()) === 0, {
      timeoutMs: 120_000,
      everyMs: 200
    })
    const got = sink.received.map(m => m.header('message-id'))
    expect(got).toHaveLength(2000)
    expect(new Set(got)).toEqual(new Set(ids.map(messageIdOf)))
    // Both took part
    for (const s of [a, b]) expect(s.output()).toContain('notifications dispatched')
    const dead = await testDb.database.db.execute(
      sql`SELECT count(*)::int AS n FROM notification_outbox WHERE dead_at IS NOT NULL`
    )
    expect(rowsOf<{ n: number }>(dead)[0]!.n).toBe(0)
  }, 300_000)

  it('a dispatcher killed with SIGKILL mid-batch: the other delivers its rows after the lease, duplicates share the Message-ID', async () => {
    const [a, b] = schedulers as [Spawned, Spawned]
    const before = sink.received.length
    slowMs = 20
    const ids = await append(600)
    const pidA = a.child.pid!
    type Held = { id: string }
    const held = await waitFor(
      'A to hold a batch while mails are going out',
      async () => {
        const rows = rowsOf<Held>(
          await testDb.database.db.execute(sql`SELECT id FROM notification_outbox
            WHERE sent_at IS NULL AND lease_owner LIKE ${`%:${pidA}:%`} AND lease_expires_at > now()`)
        )
        return rows.length > 0 && sink.received.length > before && rows.map(r => r.id)
      },
      { timeoutMs: 60_000, everyMs: 10 }
    )
    a.child.kill('SIGKILL')
    await a.exited
    slowMs = 0
    await waitFor('every row to be sent by the survivor', async () => (await pendingCount()) === 0, {
      timeoutMs: 120_000,
      everyMs: 200
    })
    const mine = sink.received.slice(before)
    const byId = new Map<string, number>()
    for (const m of mine) byId.set(m.header('message-id')!, (byId.get(m.header('message-id')!) ?? 0) + 1)
    // Nothing lost: every row reached the sink at least once, under its own Message-ID
    expect(new Set(byId.keys())).toEqual(new Set(ids.map(messageIdOf)))
    // A duplicate can only be a row A held when it died, and carries the same Message-ID
    const duplicates = [...byId].filter(([, n]) => n > 1).map(([id]) => id)
    const heldIds = new Set(held.map(messageIdOf))
    expect(duplicates.every(id => heldIds.has(id))).toBe(true)
    expect(duplicates.length).toBeLessThanOrEqual(held.length)
    // What A held was claimed again after its lease ran out, and settled by B
    const taken = rowsOf<{ n: number }>(
      await testDb.database.db.execute(sql`SELECT count(*)::int AS n FROM notification_outbox
        WHERE id = ANY(${sql.param(held)}::uuid[]) AND sent_at IS NOT NULL AND attempts >= 2`)
    )[0]!.n
    expect(taken).toBe(held.length)
    expect(b.child.exitCode).toBeNull()
  }, 300_000)
})
