import { readFileSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, ticketFormerNumbers } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam } from '../helpers/factories.js'
import { makeOffering, makeRequest } from '../helpers/requests.js'

const BACKFILL = readFileSync(new URL('../../migrations/0009_former_numbers_backfill.sql', import.meta.url), 'utf8')

/**
 * Tickets reclassified before migration 0008 had their old number only in the audit trail. The backfill
 * (migration 0009) gives them their former-number rows, so the old number finds them again.
 */
describe('former-number backfill (migration 0009)', () => {
  let t: TestApp
  let team: { id: string }

  beforeAll(async () => {
    t = await buildTestApp()
    team = await makeTeam(t)
  })
  afterAll(async () => {
    await t?.close()
  })

  const backfill = () => t.db.execute(sql.raw(BACKFILL))
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
})
