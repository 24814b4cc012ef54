import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'drizzle-orm'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { type Database, openReadDatabase } from '../../src/db/client.js'
import { ADMIN, buildTestApp, type TestApp } from '../helpers/app.js'
import { driver } from '../helpers/db.js'
import { makeIncident, makeOrganisation } from '../helpers/factories.js'
import { randomPort } from '../helpers/spawn.js'
import { rowsOf, waitFor } from '../helpers/wait.js'

const run = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'
const TOKEN = 'metrics-token-0123456789'
const serverUrl = process.env.TEST_DATABASE_URL
/** pg_ctl refuses to run as root: the cluster's files and processes then belong to the postgres user. */
const asRoot = process.getuid?.() === 0

type Json = Record<string, any>

/** True when an address column of pg_hba_file_rules covers 127.0.0.1. */
function coversLoopback(address: string | null, netmask: string | null): boolean {
  if (address === null) return false
  if (['all', 'samehost', 'samenet', '127.0.0.1'].includes(address)) return true
  const toInt = (ip: string) => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address) || !netmask || !/^\d+\.\d+\.\d+\.\d+$/.test(netmask)) return false
  return (toInt(address) & toInt(netmask)) >>> 0 === (toInt('127.0.0.1') & toInt(netmask)) >>> 0
}

/**
 * Why this machine cannot make a streaming replica of the test server on loopback, or null when it
 * can. Reads the primary's settings and never changes them (.ci/run allows replication on CI).
 */
async function whyNoReplica(): Promise<string | null> {
  if (!serverUrl) return 'TEST_DATABASE_URL is not set (the replica is made from that PostgreSQL server)'
  if (driver !== 'pg') return 'runs in the pg project'
  for (const tool of ['pg_basebackup', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(BIN, tool))) return `${join(BIN, tool)} is missing (PostgreSQL 15 server binaries)`
  }
  if (
    asRoot &&
    !(await run('id', ['-u', 'postgres']).then(
      () => true,
      () => false
    ))
  ) {
    return 'running as root without a postgres user to run the replica as (pg_ctl refuses root)'
  }
  const url = new URL(serverUrl)
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) return `TEST_DATABASE_URL is not on loopback (${url.host})`
  const client = new pg.Client({ connectionString: serverUrl })
  try {
    await client.connect()
    const one = async (q: string) => (await client.query(q)).rows[0] as Json
    const version = Number((await one('show server_version_num')).server_version_num)
    if (Math.floor(version / 10000) !== 15) return `the primary runs PostgreSQL ${version}, the binaries are 15`
    const { wal_level } = await one('show wal_level')
    if (!['replica', 'logical'].includes(wal_level)) return `the primary has wal_level=${wal_level} (needs replica)`
    const senders = Number((await one('show max_wal_senders')).max_wal_senders)
    const busy = Number((await one('select count(*)::int as n from pg_stat_replication')).n)
    if (senders - busy < 1) return `the primary has no free WAL sender (max_wal_senders=${senders}, ${busy} in use)`
    const user = decodeURIComponent(url.username || 'postgres')
    const rules = (
      await client.query(
        `select type, database, user_name, address, netmask, auth_method from pg_hba_file_rules
         where error is null and type in ('host', 'hostnossl') order by line_number`
      )
    ).rows as {
      database: string[]
      user_name: string[]
      address: string | null
      netmask: string | null
      auth_method: string
    }[]
    // pg_hba takes the first line matching the connection: "all" databases never match a replication one
    const rule = rules.find(
      r =>
        r.database.includes('replication') &&
        (r.user_name.includes('all') || r.user_name.includes(user)) &&
        coversLoopback(r.address, r.netmask)
    )
    if (!rule) return "the primary's pg_hba.conf allows no replication connection from 127.0.0.1 (.ci/run adds one)"
    if (rule.auth_method !== 'trust')
      return `replication from 127.0.0.1 needs ${rule.auth_method} auth (the test uses trust)`
    return null
  } catch (err) {
    return `cannot read the primary's settings: ${(err as Error).message}`
  } finally {
    await client.end().catch(() => {})
  }
}

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
const pgTool = (tool: string, args: string[]) =>
  asRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args]) : run(join(BIN, tool), args)

interface Replica {
  dir: string
  port: number
  stop(): Promise<void>
}

/** A streaming replica of the test server in a temp folder, on a free loopback port. */
async function startReplica(): Promise<Replica> {
  const primary = new URL(serverUrl!)
  const dir = await mkdtemp(join(tmpdir(), 'sd-replica-'))
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  await chmod(dir, 0o700)
  const port = randomPort()
  const stop = async () => {
    await pgTool('pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await pgTool('pg_basebackup', [
      '-h',
      primary.hostname,
      '-p',
      primary.port || '5432',
      '-U',
      decodeURIComponent(primary.username || 'postgres'),
      '-D',
      dir,
      '-R',
      '-X',
      'stream',
      // A fast checkpoint to start from: a spread one can take minutes
      '-c',
      'fast'
    ])
    // A hot standby needs these at least as high as its primary's; Debian keeps the config files
    // outside the data folder, so the copy may have none
    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    const settings = (
      await client.query(
        `select name, setting from pg_settings where name in
         ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')`
      )
    ).rows as { name: string; setting: string }[]
    await client.end()
    const conf = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '/tmp'`,
      'hot_standby = on',
      ...settings.map(s => `${s.name} = ${s.setting}`)
    ]
    await appendFile(join(dir, 'postgresql.conf'), `\n${conf.join('\n')}\n`)
    if (!existsSync(join(dir, 'pg_hba.conf'))) {
      await writeFile(join(dir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n')
    }
    if (!existsSync(join(dir, 'pg_ident.conf'))) await writeFile(join(dir, 'pg_ident.conf'), '')
    if (asRoot) await run('chown', ['-R', 'postgres:postgres', dir])
    await pgTool('pg_ctl', ['-D', dir, '-o', `-p ${port} -k /tmp`, '-l', join(dir, 'replica.log'), '-w', 'start'])
  } catch (err) {
    await stop()
    throw err
  }
  return { dir, port, stop }
}

const whyNot = await whyNoReplica()

describe.skipIf(whyNot !== null)(
  `reports through DATABASE_READ_URL on a real streaming replica${whyNot ? ` (SKIPPED: ${whyNot})` : ''}`,
  () => {
    let replica: Replica | undefined
    // Held apart from `replica` so afterAll stops it even when beforeAll timed out while it started
    let starting: Promise<Replica> | undefined
    let t: TestApp
    let readDatabase: Database
    let reader: App
    let replicaUrl: string
    let ciClass: string

    beforeAll(async () => {
      starting = startReplica()
      replica = await starting
      // The test database is made on the primary after the base backup: its creation streams over too
      t = await buildTestApp()
      const url = new URL(t.testDb.url!)
      url.hostname = '127.0.0.1'
      url.port = String(replica.port)
      replicaUrl = url.toString()
      await waitFor(
        'the test database on the replica',
        async () => {
          const c = new pg.Client({ connectionString: replicaUrl })
          try {
            await c.connect()
            return true
          } catch {
            return false
          } finally {
            await c.end().catch(() => {})
          }
        },
        { timeoutMs: 30_000, everyMs: 100 }
      )
      const config = loadConfig({
        LOG_LEVEL: 'silent',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        AUTH_CACHE_TTL_MS: '0',
        MAX_EVENT_LOOP_DELAY_MS: '0',
        METRICS_TOKEN: TOKEN,
        DATABASE_URL: t.testDb.url!,
        DATABASE_READ_URL: replicaUrl
      })
      readDatabase = await openReadDatabase(t.testDb.database, {
        url: config.DATABASE_READ_URL,
        poolSize: 3,
        connectTimeoutMs: 10_000
      })
      // A second API instance on the same primary, reading its reports from the replica
      reader = await buildApp({ config, database: t.testDb.database, readDatabase, logger: false })
      await reader.ready()
      ciClass = `replica_${Math.random().toString(36).slice(2, 8)}`
      const made = await t.api('POST', '/api/v1/ci-classes', { body: { name: ciClass, label: 'Replica test class' } })
      expect(made.statusCode, made.body).toBe(201)
    }, 240_000)

    afterAll(async () => {
      await reader?.close()
      if (readDatabase && readDatabase !== t?.testDb.database) await readDatabase.close()
      await t?.close()
      const started = replica ?? (await starting?.catch(() => undefined))
      await started?.stop()
    }, 60_000)

    /** A CI of the test class costing `amount` a month from January 2026. */
    async function costlyCi(amount: string) {
      const ci = await t.api('POST', '/api/v1/cis', { body: { name: `replica-ci-${amount}`, class: ciClass } })
      expect(ci.statusCode, ci.body).toBe(201)
      const cost = await t.api('POST', `/api/v1/cis/${ci.json().id}/costs`, {
        body: { kind: 'recurring', category: 'support', amount, period: 'month', startDate: '2026-01-01' }
      })
      expect(cost.statusCode, cost.body).toBe(201)
    }

    const report = (app: App) =>
      app.inject({
        url: '/api/v1/reports/finance/cost-per-class?from=2026-01&to=2026-01',
        headers: { authorization: `Bearer ${t.adminToken}` }
      })
    const rowOf = (body: Json) => (body.items as Json[]).find(i => i.ciClass === ciClass)
    const onReplica = async (q: string) => {
      const c = new pg.Client({ connectionString: replicaUrl })
      await c.connect()
      try {
        return (await c.query(q)).rows[0] as Json
      } finally {
        await c.end()
      }
    }

    it('the read handle is the replica, and refuses writes', async () => {
      expect(reader.readDatabase).toBe(readDatabase)
      expect(reader.readDatabase).not.toBe(reader.database)
      const [row] = rowsOf<Json>(await readDatabase.db.execute(sql`select pg_is_in_recovery() as standby`))
      expect(row?.standby).toBe(true)
      // drizzle wraps the driver's error: its cause is PostgreSQL's read_only_sql_transaction (25006)
      const refusal = (db: Database) =>
        db.db
          .execute(sql`insert into cost_centres (id, code, name) values (gen_random_uuid(), 'RO-1', 'refused')`)
          .then(
            () => 'written',
            (err: { cause?: { code?: string; message?: string } }) => `${err.cause?.code}: ${err.cause?.message}`
          )
      expect(await refusal(readDatabase)).toBe('25006: cannot execute INSERT in a read-only transaction')
      // Its sessions are read-only too: a read URL naming the primary by mistake cannot write either
      const misnamed = await openReadDatabase(t.testDb.database, { url: t.testDb.url! })
      try {
        expect(await refusal(misnamed)).toBe('25006: cannot execute INSERT in a read-only transaction')
      } finally {
        await misnamed.close()
      }
    })

    it('a report written on the primary shows through the replica, saying how fresh it is', async () => {
      await costlyCi('100')
      // January 2026 in full at 100 a month
      const first = await waitFor('the first cost on the replica', async () => {
        const res = await report(reader)
        return res.statusCode === 200 && rowOf(res.json())?.cost === '100.00' ? res : undefined
      })
      expect(rowOf(first.json())).toEqual({ ciClass, cost: '100.00', ciCount: 1 })
      const body = first.json()
      expect(typeof body.replicaLagSeconds).toBe('number')
      expect(body.replicaLagSeconds).toBeGreaterThanOrEqual(0)
      expect(Date.parse(body.asOf)).toBeLessThanOrEqual(Date.now())
      expect(first.headers['x-report-as-of']).toBe(body.asOf)
      expect(first.headers['x-replica-lag-seconds']).toBe(String(body.replicaLagSeconds))
      // The same over GraphQL
      const gql = await reader.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${t.adminToken}` },
        payload: { query: '{ costPerClass(from: "2026-01", to: "2026-01") { asOf replicaLagSeconds } }' }
      })
      expect(gql.json().data.costPerClass.replicaLagSeconds).toBeGreaterThanOrEqual(0)
      expect(Date.parse(gql.json().data.costPerClass.asOf)).not.toBeNaN()
    })

    it('while the replica is behind, its reports lag and say so; the primary is current', async () => {
      await onReplica('select pg_wal_replay_pause()')
      try {
        await costlyCi('50')
        // Received but not replayed: the replica is behind by the time since its last replayed commit
        await waitFor('the second write received by the replica', async () => {
          const r = await onReplica(
            'select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() as behind, pg_is_wal_replay_paused() as paused'
          )
          return r.behind === true && r.paused === true
        })
        const stale = await waitFor('a lag over 0', async () => {
          const res = await report(reader)
          return res.json().replicaLagSeconds > 0 ? res : undefined
        })
        expect(rowOf(stale.json())).toEqual({ ciClass, cost: '100.00', ciCount: 1 })
        expect(Date.parse(stale.json().asOf)).toBeLessThan(Date.now())
        // The instance without a read URL reads the primary: current, and no lag to tell
        const current = await report(t.app)
        expect(rowOf(current.json())).toEqual({ ciClass, cost: '150.00', ciCount: 2 })
        expect(current.json().replicaLagSeconds).toBeNull()
        expect(current.headers['x-replica-lag-seconds']).toBeUndefined()
      } finally {
        await onReplica('select pg_wal_replay_resume()')
      }
      const caughtUp = await waitFor('the replica caught up', async () => {
        const res = await report(reader)
        return rowOf(res.json())?.cost === '150.00' ? res : undefined
      })
      expect(rowOf(caughtUp.json())).toEqual({ ciClass, cost: '150.00', ciCount: 2 })
    })

    it('ticket reports (summary, ageing, trends) through the replica count as of the data they read', async () => {
      const orgId = (await makeOrganisation(t)).id
      const filter = encodeURIComponent(`organisationId==${orgId}`)
      const inOrg = async () => {
        const id = (await makeIncident(t)).id
        await t.db.execute(sql`update tickets set organisation_id = ${orgId} where id = ${id}`)
      }
      const from = new Date(Date.now() - 86_400_000).toISOString()
      const to = new Date(Date.now() + 86_400_000).toISOString()
      const urls = [
        `/api/v1/reports/summary?from=${from}&to=${to}&filter=${filter}`,
        `/api/v1/reports/ageing?filter=${filter}`,
        `/api/v1/reports/trends?from=${from}&to=${to}&interval=day&filter=${filter}`
      ]
      const get = (app: App, url: string) => app.inject({ url, headers: { authorization: `Bearer ${t.adminToken}` } })
      const totalOf = (res: { json: () => Json }) =>
        (res.json().rows as Json[]).reduce((n, r) => n + (r.total as number), 0)
      await inOrg()
      await waitFor('the first ticket on the replica', async () => totalOf(await get(reader, urls[0]!)) === 1)
      for (const url of urls) {
        const res = await get(reader, url)
        expect(res.statusCode, res.body).toBe(200)
        const body = res.json()
        expect(body.replicaLagSeconds).toBeGreaterThanOrEqual(0)
        expect(res.headers['x-report-as-of']).toBe(body.asOf)
        expect(res.headers['x-replica-lag-seconds']).toBe(String(body.replicaLagSeconds))
      }
      await onReplica('select pg_wal_replay_pause()')
      try {
        await inOrg()
        await waitFor('the second ticket received by the replica', async () => {
          const r = await onReplica('select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() as behind')
          return r.behind === true
        })
        const stale = await waitFor('a lag over 0', async () => {
          const res = await get(reader, urls[0]!)
          return res.json().replicaLagSeconds > 0 ? res : undefined
        })
        // The replica's data is behind: one ticket, as of a moment before now by the lag
        expect(totalOf(stale)).toBe(1)
        const body = stale.json()
        expect(Date.parse(body.asOf)).toBeLessThan(Date.now() - body.replicaLagSeconds * 1000 + 1000)
        expect(stale.headers['x-replica-lag-seconds']).toBe(String(body.replicaLagSeconds))
        const ageing = await get(reader, urls[1]!)
        expect(ageing.json().replicaLagSeconds).toBeGreaterThan(0)
        expect((ageing.json().rows as Json[])[0]).toMatchObject({ section: 'age', fromDays: 0, count: 1 })
        const trends = await get(reader, `${urls[2]!}&format=csv`)
        expect(Number(trends.headers['x-replica-lag-seconds'])).toBeGreaterThan(0)
        // The primary is current: two tickets, no lag
        const current = await get(t.app, urls[0]!)
        expect(totalOf(current)).toBe(2)
        expect(current.json().replicaLagSeconds).toBeNull()
        expect(current.headers['x-replica-lag-seconds']).toBeUndefined()
      } finally {
        await onReplica('select pg_wal_replay_resume()')
      }
    })

    it("exports the replica's pool and lag in /metrics", async () => {
      const res = await reader.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.statusCode).toBe(200)
      const families = parsePrometheusTextFormat(res.body)
      const pools = families.find(f => f.name === 'servicedesk_db_pool_connections')
      expect(pools?.metrics.map(m => m.labels?.pool).sort()).toEqual(['primary', 'replica'])
      const replicaPool = pools?.metrics.find(m => m.labels?.pool === 'replica')
      expect(Number(replicaPool?.value)).toBeGreaterThanOrEqual(1)
      const lag = families.find(f => f.name === 'servicedesk_db_replica_lag_seconds')
      expect(lag?.type).toBe('GAUGE')
      expect(Number(lag?.metrics[0]?.value)).toBeGreaterThanOrEqual(0)
    })
  }
)

describe('without a read replica, reports read the primary', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('DATABASE_READ_URL unset: the read handle is the primary, and reports have no lag', async () => {
    expect(t.app.readDatabase).toBe(t.app.database)
    const code = `FB-${Math.random().toString(36).slice(2, 8)}`
    const made = await t.api('POST', '/api/v1/cost-centres', { body: { code, name: 'Fallback' } })
    expect(made.statusCode, made.body).toBe(201)
    const before = Date.now()
    const res = await t.api('GET', '/api/v1/reports/finance/cost-per-cost-centre?from=2026-01&to=2026-01')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    // Written a moment ago, read at once: the primary answers
    expect((body.items as Json[]).some(i => i.code === code)).toBe(true)
    expect(body.replicaLagSeconds).toBeNull()
    expect(Date.parse(body.asOf)).toBeGreaterThanOrEqual(before - 5000)
    expect(res.headers['x-report-as-of']).toBe(body.asOf)
    expect(res.headers['x-replica-lag-seconds']).toBeUndefined()
    // CSV has no room for freshness: the header says it
    const csv = await t.api('GET', '/api/v1/reports/finance/cost-per-cost-centre?from=2026-01&to=2026-01&format=csv')
    expect(csv.headers['content-type']).toMatch(/^text\/csv/)
    expect(Date.parse(String(csv.headers['x-report-as-of']))).not.toBeNaN()
  })

  it('with PGlite, or without DATABASE_URL, a read URL falls back to the primary', async () => {
    const config = loadConfig({ DATABASE_READ_URL: 'postgres://replica.invalid:5432/sd' })
    expect(config.DATABASE_READ_URL).toBe('postgres://replica.invalid:5432/sd')
    if (t.app.database.driver === 'pglite') {
      expect(await openReadDatabase(t.app.database, { url: config.DATABASE_READ_URL })).toBe(t.app.database)
    }
    expect(await openReadDatabase(t.app.database, { url: undefined })).toBe(t.app.database)
  })

  it('DATABASE_READ_URL is validated at start like DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_READ_URL: 'mysql://replica:3306/sd' })).toThrow(ConfigError)
    expect(() => loadConfig({ DATABASE_READ_URL: 'mysql://replica:3306/sd' })).toThrow(/DATABASE_READ_URL/)
  })
})
