/**
 * The ceilings: a bare Fastify server (no auth, no schemas, no hooks) doing the same database work as
 * the app's hot routes through one pg Pool of 10. Like the app, only the get-by-id SELECT is a named
 * prepared statement; the INSERT and the list are plain parameterised (unnamed) queries.
 */
import Fastify from 'fastify'
import pg from 'pg'
import { uuidv7 } from '../src/lib/ids.js'
import { priorityOf } from '../src/modules/tickets/priority.js'

const port = Number(process.env.PORT)
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })

// The app's create files the ticket for the caller (the bootstrap admin) in the caller's organisation
const admin = await pool.query<{ id: string; organisation_id: string | null }>(
  `SELECT id, organisation_id FROM users WHERE 'admin' = ANY(roles) ORDER BY created_at LIMIT 1`
)
const requester = admin.rows[0]
if (!requester) throw new Error('no admin user: start the app once first')

/** The app's full incident columns (everything but the search vector). */
const FULL = `id, kind, number, title, description, status, impact, urgency, priority, category, requester_id,
  organisation_id, team_id, layer, assignee_id, created_by, resolution_code, resolution, version, created_at,
  updated_at, resolved_at, closed_at`
/** The app's list columns: no long text. */
const SUMMARY = `id, kind, number, title, status, impact, urgency, priority, category, requester_id, organisation_id,
  team_id, layer, assignee_id, version, created_at, updated_at, resolved_at, closed_at`

const INSERT = `INSERT INTO tickets (id, kind, number, title, description, status, impact, urgency, priority,
    requester_id, organisation_id, created_by)
  VALUES ($1, 'incident', nextval('incident_number_seq'), $2, $3, 'new', $4, $5, $6, $7, $8, $7)
  RETURNING ${FULL}`
const BY_ID = {
  name: 'ceiling_incident_by_id',
  text: `SELECT ${FULL} FROM tickets WHERE id = $1 AND kind = 'incident'`
}
// The plain DESC order the app sends; tickets_kind_status_created_idx is (kind, status, created_at DESC NULLS
// FIRST, id DESC NULLS FIRST), which is what DESC means, so both read the index in order.
const LIST = `SELECT ${SUMMARY} FROM tickets WHERE kind = 'incident' AND status = $1
  ORDER BY created_at DESC, id DESC LIMIT 50`

interface CreateBody {
  title: string
  description?: string
  impact?: number
  urgency?: number
}

const app = Fastify({ logger: false })

app.get('/health', async () => ({ status: 'ok' }))

app.get('/json', async () => ({ hello: 'world', ok: true, n: 42 }))

app.post<{ Body: CreateBody }>('/incidents', async (request, reply) => {
  const { title, description = '', impact = 2, urgency = 2 } = request.body
  const { rows } = await pool.query(INSERT, [
    uuidv7(),
    title,
    description,
    impact,
    urgency,
    priorityOf(impact, urgency),
    requester.id,
    requester.organisation_id
  ])
  return reply.code(201).send(rows[0])
})

app.get<{ Params: { id: string } }>('/incidents/:id', async (request, reply) => {
  const { rows } = await pool.query({ ...BY_ID, values: [request.params.id] })
  return rows[0] ?? reply.code(404).send({ status: 404 })
})

app.get<{ Querystring: { status?: string } }>('/incidents', async request => {
  const { rows } = await pool.query(LIST, [request.query.status ?? 'new'])
  return { items: rows, nextCursor: null }
})

const stop = async () => {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)

await app.listen({ port, host: '127.0.0.1' })
