import { readFileSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, ticketFormerNumbers } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

const MIGRATION = readFileSync(new URL('../../migrations/0009_former_numbers_backfill.sql', import.meta.url), 'utf8')
/** Its statements, as drizzle's migrator splits them. */
const STATEMENTS = MIGRATION.split('--> statement-breakpoint').filter(s => s.trim())

/**
 * Tickets reclassified before migration 0008 had their old number only in the audit trail. The backfill
 * (migration 0009) gives them their former-number rows, so the old number finds them again.
 */
describe('data backfills of migration 0009: former numbers, the onAssign status', () => {
  let t: TestApp
  let team: { id: string }

  beforeAll(async () => {
    t = await buildTestApp()
    team = await makeTeam(t)
  })
  afterAll(async () => {
    await t?.close()
  })

  const backfill = async () => {
    for (const statement of STATEMENTS) await t.db.execute(sql.raw(statement))
  }
  const lookup = (number: string) => t.api('GET', `/api/v1/tickets/${number}`)

  it('restores the former numbers of tickets reclassified before 0008, once, and leaves others alone', async () => {
    const offering = await makeOffering(t, { teamId: team.id })
    // A reclassification as it ran before 0008: the audit row names the old number, no former-number row
    const inc = await makeIncident(t, { title: 'Reclassified long ago' })
    const moved = await t.api('POST', `/api/v1/incidents/${inc.id}/reclassify`, {
      body: { to: 'request', offeringId: offering.id }
    })
    expect(moved.statusCode, moved.body).toBe(200)
    await t.db.delete(ticketFormerNumbers).where(eq(ticketFormerNumbers.ticketId, inc.id))
    expect((await lookup(inc.number)).statusCode).toBe(404)

    // A hand-made pre-0008 audit row: a request that was once problem PRB-987654
    const req = await makeRequest(t, { offeringId: offering.id })
    await t.db.insert(auditLog).values({
      actorLabel: 'admin',
      entityType: 'ticket',
      entityId: req.id,
      action: 'reclassified',
      changes: [
        { field: 'kind', old: 'problem', new: 'request' },
        { field: 'number', old: 'PRB-987654', new: req.number }
      ]
    })
    // Rows that are no former number: another entity, a malformed value, a number that never was old
    await t.db.insert(auditLog).values([
      {
        actorLabel: 'admin',
        entityType: 'ci',
        entityId: req.id,
        action: 'updated',
        changes: [{ field: 'number', old: 'INC-987655', new: 'x' }]
      },
      {
        actorLabel: 'admin',
        entityType: 'ticket',
        entityId: req.id,
        action: 'reclassified',
        changes: [{ field: 'number', old: 'not a number', new: req.number }]
      },
      {
        actorLabel: 'admin',
        entityType: 'ticket',
        entityId: req.id,
        action: 'updated',
        changes: [{ field: 'number', old: null, new: req.number }]
      }
    ])

    await backfill()
    await backfill() // idempotent: a second run adds nothing and fails on nothing

    const old = await lookup(inc.number)
    expect(old.statusCode, old.body).toBe(200)
    expect(old.json()).toMatchObject({ id: inc.id, kind: 'request', number: moved.json().number })
    const once = await lookup('PRB-987654')
    expect(once.statusCode, once.body).toBe(200)
    expect(once.json()).toMatchObject({ id: req.id, kind: 'request' })
    expect((await lookup('INC-987655')).statusCode).toBe(404)

    const rows = await t.db.select().from(ticketFormerNumbers).where(eq(ticketFormerNumbers.ticketId, req.id))
    expect(rows.map(r => [r.kind, r.number])).toEqual([['problem', 987654]])
    const mine = await t.db.select().from(ticketFormerNumbers).where(eq(ticketFormerNumbers.ticketId, inc.id))
    expect(mine.map(r => [r.kind, r.number])).toEqual([['incident', Number(inc.number.slice(4))]])
  })

  it('keeps a former number already recorded (ON CONFLICT DO NOTHING)', async () => {
    const offering = await makeOffering(t, { teamId: team.id })
    const inc = await makeIncident(t)
    const moved = await t.api('POST', `/api/v1/incidents/${inc.id}/reclassify`, {
      body: { to: 'request', offeringId: offering.id }
    })
    expect(moved.statusCode, moved.body).toBe(200)
    const [before] = await t.db.select().from(ticketFormerNumbers).where(eq(ticketFormerNumbers.ticketId, inc.id))
    await backfill()
    const after = await t.db.select().from(ticketFormerNumbers).where(eq(ticketFormerNumbers.ticketId, inc.id))
    expect(after).toEqual([before])
  })

  it('flags the status keyed assigned in a stored workflow that flags none, so assignment still moves it', async () => {
    const wf = (await t.api('GET', '/api/v1/workflows/incident')).json()
    // A workflow stored before onAssign existed: the same statuses, none flagged
    const statuses = wf.statuses.map(({ onAssign: _, ...s }: { onAssign?: boolean }) => s)
    const put = await t.api('PUT', '/api/v1/workflows/incident', { body: { ...pick(wf), statuses } })
    expect(put.statusCode, put.body).toBe(200)
    const tech = await makeUser(t, ['technician'])
    const owners = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const before = await makeIncident(t)
    const unflagged = await t.api('PUT', `/api/v1/incidents/${before.id}/assignment`, {
      body: { teamId: owners.id, assigneeId: tech.id }
    })
    expect(unflagged.json()).toMatchObject({ status: 'new', assigneeId: tech.id })

    await backfill()
    await backfill()
    const stored = (await t.api('GET', '/api/v1/workflows/incident')).json()
    expect(
      stored.statuses.filter((s: { onAssign?: boolean }) => s.onAssign).map((s: { key: string }) => s.key)
    ).toEqual(['assigned'])
    expect(stored.statuses.map((s: { key: string }) => s.key)).toEqual(wf.statuses.map((s: { key: string }) => s.key))
    const inc = await makeIncident(t)
    const flagged = await t.api('PUT', `/api/v1/incidents/${inc.id}/assignment`, {
      body: { teamId: owners.id, assigneeId: tech.id }
    })
    expect(flagged.json()).toMatchObject({ status: 'assigned', assigneeId: tech.id })
    const reset = await t.api('DELETE', '/api/v1/workflows/incident')
    expect(reset.statusCode, reset.body).toBeLessThan(300)
  })
})

const pick = (wf: {
  initial: string
  transitions: { from: string; to: string; by: string[]; requires: string[] }[]
}) => ({
  initial: wf.initial,
  transitions: wf.transitions.map(t => ({
    from: t.from,
    to: t.to,
    by: t.by,
    ...(t.requires.length ? { requires: t.requires } : {})
  }))
})
