import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { settings } from './settings.js'

const TEAM = 'Bench Service Desk'
/** The incident custom field the bulk scenario sets; the seed (v2, with searchable words) creates it. */
export const SITE_FIELD = 'benchSite'

/** Creates the bench database on its server when missing (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bench database name "${name}" must be a plain identifier`)
  const server = new URL(url)
  server.pathname = '/postgres'
  const client = new pg.Client({ connectionString: server.toString() })
  await client.connect()
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount === 0) {
      console.log(`creating database ${name}`)
      await client.query(`CREATE DATABASE ${name}`)
    }
  } finally {
    await client.end()
  }
}

export async function migrate(url: string): Promise<void> {
  const database = await openDatabase({ url, poolSize: 1 })
  try {
    await runMigrations(database, url)
  } finally {
    await database.close()
  }
}

/** Removes what the write scenarios added (their tickets and audit rows); answers how many tickets went. */
export async function removeBenchWrites(client: pg.Client): Promise<number> {
  const like = `${settings.writeMarker}%`
  // The event scenarios: their stored events and alerts (alerts also go with their incidents below)
  await client.query(`DELETE FROM monitoring_events WHERE source LIKE 'bench%'`)
  await client.query(`DELETE FROM event_alerts WHERE source LIKE 'bench%'`)
  await client.query(
    `DELETE FROM audit_log WHERE entity_type = 'ticket' AND action = 'created'
       AND entity_id IN (SELECT id FROM tickets WHERE kind = 'incident' AND title LIKE $1)`,
    [like]
  )
  const gone = await client.query(`DELETE FROM tickets WHERE kind = 'incident' AND title LIKE $1`, [like])
  // The timers and thresholds armed for the clocks of those incidents (the clocks went with them)
  await client.query(
    `DELETE FROM work_items WHERE queue IN ('sla.timer', 'sla.escalation')
       AND NOT EXISTS (SELECT 1 FROM sla_clocks WHERE sla_clocks.id::text = work_items.key)`
  )
  // The bulk scenario changes seeded tickets in place; its audit rows go, the changed values may stay
  const bulk = await client.query(`DELETE FROM audit_log WHERE entity_type = 'ticket' AND action = 'bulk.updated'`)
  if (gone.rowCount || bulk.rowCount) await client.query('VACUUM ANALYZE tickets, audit_log')
  // Runs delete ~100,000 events each: reclaim them so runs start from the same table state
  await client.query('VACUUM ANALYZE monitoring_events, event_alerts, ticket_notes, ticket_links')
  return gone.rowCount ?? 0
}

const PEOPLE_SQL = `
INSERT INTO organisations (id, name)
SELECT gen_random_uuid(), 'Bench Org ' || lpad(g::text, 2, '0') FROM generate_series(1, 20) g
ON CONFLICT DO NOTHING;
INSERT INTO users (id, username, display_name, email, organisation_id, roles)
SELECT gen_random_uuid(), 'bench-customer-' || lpad(g::text, 4, '0'), 'Customer ' || g, 'customer' || g || '@example.com',
       (SELECT id FROM organisations WHERE name = 'Bench Org ' || lpad((1 + g % 20)::text, 2, '0')), ARRAY['customer']
FROM generate_series(1, 1000) g
ON CONFLICT DO NOTHING;
INSERT INTO users (id, username, display_name, email, roles)
SELECT gen_random_uuid(), 'bench-tech-' || lpad(g::text, 2, '0'), 'Technician ' || g, 'tech' || g || '@example.com',
       ARRAY['technician']
FROM generate_series(1, 30) g
ON CONFLICT DO NOTHING;
INSERT INTO teams (id, name) VALUES (gen_random_uuid(), '${TEAM}') ON CONFLICT DO NOTHING;
INSERT INTO team_layers (team_id, level, name)
SELECT id, l, CASE l WHEN 1 THEN '1st line' ELSE '2nd line' END FROM teams, generate_series(1, 2) l WHERE name = '${TEAM}'
ON CONFLICT DO NOTHING;
INSERT INTO custom_field_definitions (id, kind, key, label, type)
VALUES (gen_random_uuid(), 'incident', '${SITE_FIELD}', 'Site', 'text') ON CONFLICT DO NOTHING;
INSERT INTO team_members (team_id, level, user_id)
SELECT t.id, CASE WHEN u.username <= 'bench-tech-20' THEN 1 ELSE 2 END, u.id
FROM teams t, users u WHERE t.name = '${TEAM}' AND u.username LIKE 'bench-tech-%'
ON CONFLICT DO NOTHING;`

const TOPICS = [
  ['Printer on floor 3 jams on every job', 'The shared printer near the kitchen stops with a paper jam error'],
  ['VPN drops every few minutes', 'Working from home, the VPN client disconnects and asks for the token again'],
  ['Cannot open the payroll application', 'The payroll client shows a blank window after the splash screen'],
  ['Outlook keeps asking for my password', 'Since this morning Outlook prompts for credentials every ten minutes'],
  ['Laptop battery drains within an hour', 'The battery goes from full to empty in about an hour of normal use'],
  ['Access request for the finance share', 'I moved to the finance team and need write access to the finance share'],
  ['Wi-Fi in meeting room B is very slow', 'Video calls from meeting room B freeze; speed tests show under 1 Mbit/s'],
  ['Monitor flickers after docking', 'The external monitor flickers whenever the laptop is put in the dock'],
  ['ERP report export times out', 'Exporting the monthly ERP sales report to Excel fails with a timeout'],
  ['New starter needs an account', 'A new colleague starts on Monday and needs an account, mail and a laptop'],
  ['Phone line has no dial tone', 'The desk phone shows the line as registered but there is no dial tone'],
  ['Website contact form returns an error', 'Customers report that the contact form answers with an internal error']
] as const

/**
 * Words every description draws from, the first far more often than the last (index = V·u³), so a
 * search meets every selectivity: the first word sits in about half the tickets, the last in ~0.5 %.
 * Each description also ends with an asset tag (ast00000 to ast99999) that a ticket or two share.
 */
export const VOCABULARY = `
  error user server network laptop access password email account printer issue system update login screen
  application file share folder database backup restore license install upgrade windows linux mac mobile phone
  tablet browser chrome firefox edge outlook teams zoom calendar meeting invite room projector display cable
  dock keyboard mouse headset camera microphone speaker audio video driver firmware bios disk drive storage
  memory cpu fan battery charger power adapter socket switch router firewall proxy dns dhcp certificate token
  vpn wifi ethernet port latency timeout crash freeze reboot shutdown slow performance quota mailbox calendar
  contact signature spam phishing virus malware antivirus scan patch hotfix rollback deployment release build
  pipeline repository branch merge commit ticket request incident problem change approval manager director
  finance payroll invoice purchase order supplier contract budget report export import spreadsheet document
  template policy procedure onboarding offboarding starter leaver badge door alarm camera parking canteen
  kitchen floor building office remote home hotel travel visa expense receipt scanner fax toner cartridge
  paper tray jam duplex colour monochrome label barcode warehouse inventory asset tag serial warranty repair
  replacement vendor courier shipment delivery tracking portal intranet website domain hosting cloud tenant
  subscription sso mfa authenticator sms voicemail extension handset headquarters branch region country
  language translation keyboard layout timezone daylight clock sync ntp backup snapshot replica cluster node
  container kubernetes docker registry image volume bucket queue broker topic consumer producer webhook api
  endpoint schema migration index query transaction deadlock lock replication failover loadbalancer gateway
  bandwidth packet jitter throughput outage incident escalation pager rota weekend holiday overtime shift
  training course exam certification mentor appraisal holiday sickness leave pension benefits insurance
  marigold quartz tundra saffron obsidian juniper pelican walnut zephyr lantern harbour meadow glacier
  cobalt ember falcon granite heather indigo jasmine kestrel lagoon mistral nectar orchid prairie quiver
  raven sequoia thistle umber velvet willow yarrow azure birch cedar dune fjord grove hazel iris jade
  `
  .trim()
  .split(/\s+/)
  .filter((w, i, all) => all.indexOf(w) === i)

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`
const titles = `ARRAY[${TOPICS.map(t => quote(t[0])).join(', ')}]`
const descriptions = `ARRAY[${TOPICS.map(t => quote(`${t[1]}. It started after the last update and happens to several colleagues as well. Restarting did not help; please have a look as soon as you can.`)).join(', ')}]`

/**
 * Incidents in one INSERT … SELECT over generate_series. Open tickets are recent, resolved and closed
 * ones spread over a year; ids are UUIDv7 from created_at (as the app makes them); numbers follow time.
 */
const INCIDENTS_SQL = `
WITH cust AS (
  SELECT array_agg(id ORDER BY username) AS ids, array_agg(organisation_id ORDER BY username) AS orgs
  FROM users WHERE username LIKE 'bench-customer-%'
), tech AS (
  SELECT array_agg(m.user_id ORDER BY u.username) AS ids, array_agg(m.level ORDER BY u.username) AS levels,
         (array_agg(m.team_id))[1] AS team
  FROM team_members m JOIN teams t ON t.id = m.team_id JOIN users u ON u.id = m.user_id WHERE t.name = '${TEAM}'
), r AS (
  SELECT g, random() AS s, 1 + floor(random() * 3)::int AS impact, 1 + floor(random() * 3)::int AS urgency,
         1 + floor(random() * 1000)::int AS who, 1 + floor(random() * 30)::int AS tech, floor(random() * 8)::int AS cat,
         1 + floor(random() * ${TOPICS.length})::int AS topic, random() AS age, random() AS took,
         md5(random()::text) AS h, substr('89ab', 1 + floor(random() * 4)::int, 1) AS variant,
         -- referencing g makes the subquery run per row (uncorrelated, it would run once)
         (SELECT string_agg(($2::text[])[1 + floor(cardinality($2::text[]) * power(random(), 3))::int], ' ')
          FROM generate_series(1, 8 + 0 * g)) || '. Asset tag ast' || lpad(floor(random() * 100000)::text, 5, '0')
           AS words
  FROM generate_series(1, $1::int) g
), s AS (
  SELECT r.*, CASE WHEN s < 0.06 THEN 'new' WHEN s < 0.12 THEN 'assigned' WHEN s < 0.22 THEN 'in_progress'
                   WHEN s < 0.27 THEN 'pending' WHEN s < 0.42 THEN 'resolved' ELSE 'closed' END AS status
  FROM r
), c AS (
  SELECT s.*, now() - CASE WHEN status IN ('resolved', 'closed') THEN age * interval '365 days'
                           ELSE age * interval '30 days' END AS created_at
  FROM s
), d AS (
  SELECT c.*, CASE WHEN status IN ('resolved', 'closed')
                   THEN least(now(), created_at + took * interval '72 hours') END AS resolved_at
  FROM c
)
INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority, category,
                     requester_id, organisation_id, team_id, layer, assignee_id, created_by, resolution_code,
                     resolution, version, created_at, updated_at, resolved_at, closed_at)
SELECT (lpad(to_hex((extract(epoch FROM created_at) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
          || variant || substr(h, 4, 15))::uuid,
       'incident', nextval('incident_number_seq'), (${titles})[topic], (${descriptions})[topic] || ' Seen with: ' || words,
       status,
       impact, urgency, (ARRAY[[1, 2, 3], [2, 3, 4], [3, 4, 5]])[impact][urgency],
       (ARRAY['hardware', 'software', 'network', 'access', 'email', 'printing', 'telephony', NULL])[cat + 1],
       cust.ids[who], cust.orgs[who],
       CASE WHEN status <> 'new' THEN tech.team END, CASE WHEN status <> 'new' THEN tech.levels[tech] END,
       CASE WHEN status <> 'new' THEN tech.ids[tech] END, cust.ids[who],
       CASE WHEN resolved_at IS NOT NULL THEN 'solved' END,
       CASE WHEN resolved_at IS NOT NULL THEN 'Cleared the cached profile and confirmed with the user.' END,
       CASE status WHEN 'new' THEN 1 WHEN 'assigned' THEN 2 ELSE 3 + floor(took * 4)::int END,
       created_at,
       CASE WHEN status = 'closed' THEN least(now(), resolved_at + interval '3 days')
            ELSE coalesce(resolved_at, least(now(), created_at + took * interval '1 day')) END,
       resolved_at,
       CASE WHEN status = 'closed' THEN least(now(), resolved_at + interval '3 days') END
FROM d, cust, tech
ORDER BY created_at`

async function seed(client: pg.Client): Promise<void> {
  const started = Date.now()
  console.log(`seeding ${settings.incidents.toLocaleString('en')} incidents…`)
  await client.query('BEGIN')
  await client.query(PEOPLE_SQL)
  await client.query('TRUNCATE tickets CASCADE')
  await client.query(`DELETE FROM audit_log WHERE entity_type = 'ticket'`)
  await client.query('ALTER SEQUENCE incident_number_seq RESTART WITH 1')
  await client.query(INCIDENTS_SQL, [settings.incidents, VOCABULARY])
  await client.query('COMMIT')
  await client.query('VACUUM ANALYZE')
  console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

export interface BenchData {
  /** Seeded incident ids, a fixed spread over the table, for the read scenarios. */
  ids: string[]
  /** The bench team, and open incidents in chunks of 1,000 (disjoint) for the bulk scenario. */
  teamId: string
  chunks: string[][]
  /** Search words from rare to common, with how many incidents hold each. */
  words: { word: string; matches: number }[]
  /** The bench service: an SLA (with escalation thresholds) applies to incidents naming it. */
  slaServiceId: string
}

/**
 * The SLA the "create with SLA clocks" scenario's incidents get: a 24x7 calendar, a service, and an
 * SLA on incidents of that service with response and resolution targets for every priority and two
 * resolution thresholds. Only incidents naming the service match, so the other scenarios start no
 * clock. Kept across runs (upserted by name).
 */
const SLA_SQL = `
WITH cal AS (
  INSERT INTO calendars (id, name, time_zone, hours)
  VALUES (gen_random_uuid(), 'Bench 24x7', 'UTC',
          '{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],
            "fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}'::jsonb)
  ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name
  RETURNING id
), svc AS (
  INSERT INTO services (id, name) SELECT gen_random_uuid(), 'Bench service'
  WHERE NOT EXISTS (SELECT 1 FROM services WHERE name = 'Bench service')
  RETURNING id
), service AS (
  SELECT id FROM svc UNION ALL SELECT id FROM services WHERE name = 'Bench service'
)
INSERT INTO slas (id, name, calendar_id, service_id, kind, targets, escalations)
SELECT gen_random_uuid(), 'Bench SLA', (SELECT id FROM cal), (SELECT id FROM service LIMIT 1), 'incident',
       (SELECT jsonb_agg(jsonb_build_object('priority', p, 'responseMinutes', 60 * p, 'resolutionMinutes', 480 * p))
          FROM generate_series(1, 5) p),
       '[{"percent":50,"clock":"resolution","actions":[{"type":"notify","audience":"assignee"}]},
         {"percent":75,"clock":"resolution","actions":[{"type":"notify","audience":"team_lead"}]}]'::jsonb
ON CONFLICT (lower(name)) DO NOTHING`

/** Words for the search scenario: vocabulary of every frequency, a topic word, an asset tag, a miss. */
const SEARCH_WORDS = [
  ...[0, 2, 8, 30, 90, 180, VOCABULARY.length - 1].map(i => VOCABULARY[i]!),
  'printer',
  'update',
  'ast04711',
  'nosuchword'
]

/** Database present, migrated, holding exactly the seeded incidents (reseeded only when the count is off). */
export async function prepareData(url: string): Promise<BenchData> {
  await ensureDatabase(url)
  await migrate(url)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const removed = await removeBenchWrites(client)
    if (removed) console.log(`removed ${removed} incidents left by an earlier run`)
    const { rows } = await client.query<{ n: number; site: boolean }>(
      `SELECT count(*)::int AS n, EXISTS (SELECT 1 FROM custom_field_definitions WHERE key = $1) AS site
       FROM tickets WHERE kind = 'incident'`,
      [SITE_FIELD]
    )
    // A seed from before the searchable words (no bench custom field) is redone too
    if (rows[0]?.n === settings.incidents && rows[0].site) {
      console.log(`database holds ${rows[0].n.toLocaleString('en')} incidents`)
    } else await seed(client)
    const sample = await client.query<{ id: string }>(
      `SELECT id FROM tickets WHERE kind = 'incident' ORDER BY md5(id::text) LIMIT 200`
    )
    const team = await client.query<{ id: string }>('SELECT id FROM teams WHERE name = $1', [TEAM])
    const open = await client.query<{ id: string }>(
      `SELECT id FROM tickets WHERE kind = 'incident' AND status <> 'closed' ORDER BY md5(id::text) LIMIT 40000`
    )
    const chunks: string[][] = []
    for (let i = 0; i + 1000 <= open.rows.length; i += 1000) chunks.push(open.rows.slice(i, i + 1000).map(r => r.id))
    // Where the bulk scenario starts: its chunks on layer 2 of the bench team, nobody assigned
    const moved = await client.query(
      `UPDATE tickets SET team_id = $2, layer = 2, assignee_id = NULL
       WHERE id = ANY($1::uuid[]) AND (team_id IS DISTINCT FROM $2 OR layer IS DISTINCT FROM 2 OR assignee_id IS NOT NULL)`,
      [chunks.flat(), team.rows[0]!.id]
    )
    if (moved.rowCount) await client.query('VACUUM ANALYZE tickets')
    const words = []
    for (const word of SEARCH_WORDS) {
      const found = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM tickets WHERE kind = 'incident' AND search @@ websearch_to_tsquery('simple', $1)`,
        [word]
      )
      words.push({ word, matches: found.rows[0]!.n })
    }
    await client.query(SLA_SQL)
    const service = await client.query<{ id: string }>(`SELECT id FROM services WHERE name = 'Bench service'`)
    return {
      ids: sample.rows.map(r => r.id),
      teamId: team.rows[0]!.id,
      chunks,
      words,
      slaServiceId: service.rows[0]!.id
    }
  } finally {
    await client.end()
  }
}

/** Drops the rows the write scenarios added, so the next run finds the seed as it was. */
export async function cleanUp(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await removeBenchWrites(client)
  } finally {
    await client.end()
  }
}

/**
 * A migrated database of its own on `serverUrl`'s server, named `prefix` and a random suffix, for a
 * scenario that seeds its own data; `drop()` closes it and drops it (`keep` leaves it for EXPLAIN).
 */
export async function openScratchDatabase(serverUrl: string, prefix: string) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const target = new URL(serverUrl)
  target.pathname = `/${name}`
  const url = target.toString()
  const database = await openDatabase({ url, poolSize: 10 })
  return {
    name,
    url,
    database,
    migrate: () => runMigrations(database, url),
    async drop(keep = false) {
      await database.close()
      if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}
