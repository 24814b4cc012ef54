/**
 * Dispatcher throughput: N outbox rows (one mail each) on a fresh PostgreSQL database, sent by the
 * notification dispatcher (pooled SMTP) to a local SMTP sink in its own process. Messages per second
 * from the first claim until the outbox is empty. `npm run bench` runs it after the HTTP scenarios;
 * `tsx bench/dispatch.ts` runs it alone.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import pino from 'pino'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { createNotificationService } from '../src/modules/notifications/notifications.service.js'
import { canPin } from './processes.js'
import { settings } from './settings.js'

const root = fileURLToPath(new URL('..', import.meta.url))
export const DISPATCH_AIM = 1000

async function startSink(): Promise<{ port: number; stop(): void }> {
  const command = [process.execPath, '--import', 'tsx', `${root}bench/smtp-sink.ts`]
  const [cmd, ...args] = canPin ? ['taskset', '-c', settings.loadCpu, ...command] : command
  const child = spawn(cmd!, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', d => {
      out += String(d)
      const m = /listening (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', code => reject(new Error(`smtp sink exited (${code})`)))
  })
  return { port, stop: () => child.kill('SIGTERM') }
}

export async function measureDispatch(serverUrl: string, rows = 20_000) {
  const url = new URL(serverUrl)
  url.pathname = '/servicedesk_bench_dispatch'
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query('DROP DATABASE IF EXISTS servicedesk_bench_dispatch WITH (FORCE)')
  await admin.query('CREATE DATABASE servicedesk_bench_dispatch')
  const sink = await startSink()
  const database = await openDatabase({ url: url.toString(), poolSize: 10 })
  try {
    await runMigrations(database, url.toString())
    const c = new pg.Client({ connectionString: url.toString() })
    await c.connect()
    const user = '01900000-0000-7000-8000-000000000001'
    await c.query(
      `INSERT INTO users (id, username, display_name, email, roles)
      VALUES ($1, 'ops', 'Ops', 'ops@example.test', '{technician}')`,
      [user]
    )
    await c.query(`INSERT INTO notification_rules (id, event, audience, channel)
      VALUES (gen_random_uuid(), 'sla.warning', 'users', 'mail') ON CONFLICT DO NOTHING`)
    await c.query(
      `INSERT INTO notification_outbox (id, event, payload)
       SELECT gen_random_uuid(), 'sla.warning', jsonb_build_object('userIds', jsonb_build_array($1::text))
       FROM generate_series(1, $2)`,
      [user, rows]
    )
    await c.end()
    const config = loadConfig({
      DATABASE_URL: url.toString(),
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      MAIL_FROM: 'desk@bench.example.test',
      SMTP_POOL_SIZE: '10',
      NOTIFY_BATCH: '500',
      LOG_LEVEL: 'warn'
    })
    const log = pino({ level: 'warn' })
    const svc = createNotificationService({ db: database.db, config, log })
    const started = performance.now()
    let sent = 0
    for (;;) {
      const s = await svc.dispatchOnce()
      if (s.claimed === 0) break
      sent += s.sent
    }
    const seconds = (performance.now() - started) / 1000
    svc.close()
    return { rows, sent, seconds, perSecond: sent / seconds }
  } finally {
    await database.close()
    sink.stop()
    await admin.query('DROP DATABASE IF EXISTS servicedesk_bench_dispatch WITH (FORCE)')
    await admin.end()
  }
}

export function printDispatch(r: Awaited<ReturnType<typeof measureDispatch>>) {
  const verdict = r.perSecond >= DISPATCH_AIM ? 'ok' : 'BELOW'
  console.log(
    `\ndispatcher to a local SMTP sink (pooled, batches of 500): ${r.sent}/${r.rows} messages in ${r.seconds.toFixed(1)} s = ${r.perSecond.toFixed(0)} messages/s  ${verdict} (aim >= ${DISPATCH_AIM})`
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = Number(process.env.BENCH_DISPATCH_ROWS ?? 20_000)
  measureDispatch(settings.databaseUrl.replace(/\/[^/]*$/, '/postgres'), rows).then(
    r => {
      printDispatch(r)
      process.exit(r.sent === r.rows ? 0 : 1)
    },
    err => {
      console.error(err)
      process.exit(1)
    }
  )
}
