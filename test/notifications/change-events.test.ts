import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationOutbox } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, changeInAuthorize, decide, makeCi } from '../helpers/changes.js'
import { makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { approvedBy, bundle, makeRelease } from '../helpers/releases.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

describe('change.scheduled, change.conflict and release.ready reach the outbox in the transition', () => {
  let t: TestApp
  let sink: SmtpSink
  let approver: Awaited<ReturnType<typeof makeUser>>
  let tech: Awaited<ReturnType<typeof makeUser>> & { email: string }
  let team: { id: string }
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'desk@desk.example.test' })
    approver = await makeUser(t, ['manager'])
    await approvedBy(t, approver.id)
    const email = `chg-${suffix()}@example.test`
    tech = { ...(await makeUser(t, ['technician'], { email })), email }
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    for (const event of ['change.scheduled', 'change.conflict', 'release.ready']) {
      const res = await t.api('POST', '/api/v1/notification-rules', {
        body: { event, audience: 'assignee', channel: 'mail' }
      })
      expect(res.statusCode).toBe(201)
    }
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = () => drainOutbox(t)
  const rowsOf = (ticketId: string, event: string) =>
    t.db
      .select()
      .from(notificationOutbox)
      .where(and(eq(notificationOutbox.ticketId, ticketId), eq(notificationOutbox.event, event)))
  const schedule = async (body: Record<string, unknown>) => {
    const c = await changeInAuthorize(t, { teamId: team.id, assigneeId: tech.id, ...body })
    const res = await decide(t, 'changes', c.id, approver.token, { decision: 'approve' })
    expect(res.statusCode, res.body).toBe(200)
    return c as typeof c & { id: string; number: string; title: string }
  }

  it('scheduling tells change.scheduled with the window; a second change on the same CI also change.conflict', async () => {
    const ci = await makeCi(t)
    const window = { plannedStart: at(3, 8), plannedEnd: at(3, 10), ciIds: [ci.id] }
    const first = await schedule(window)
    const [scheduled, ...more] = await rowsOf(first.id, 'change.scheduled')
    expect(more).toHaveLength(0)
    expect(scheduled!.payload).toEqual({ plannedStart: at(3, 8), plannedEnd: at(3, 10) })
    expect(await rowsOf(first.id, 'change.conflict')).toHaveLength(0)

    const second = await schedule({ ...window, plannedStart: at(3, 9), plannedEnd: at(3, 11) })
    expect(await rowsOf(second.id, 'change.scheduled')).toHaveLength(1)
    const [conflict] = await rowsOf(second.id, 'change.conflict')
    expect(conflict!.payload).toEqual({
      plannedStart: at(3, 9),
      plannedEnd: at(3, 11),
      conflicts: [{ reason: 'same_ci', changeId: first.id, number: first.number, ciIds: [ci.id] }]
    })
    await drain()
    const subjects = sink.to(tech.email).map(m => m.header('subject'))
    expect(subjects).toEqual(
      expect.arrayContaining([
        `[${first.number}] Scheduled: ${first.title}`,
        `[${second.number}] Scheduled: ${second.title}`,
        `[${second.number}] Schedule conflict: ${second.title}`
      ])
    )
    expect(subjects.filter(s => s?.includes('Schedule conflict'))).toHaveLength(1)
    const mail = sink.to(tech.email).find(m => m.header('subject')?.includes('Schedule conflict'))!
    expect(mail.text).toContain(`conflicts with the change calendar: ${first.number}.`)
  })

  it('the change that completes a release’s readiness tells release.ready once', async () => {
    const manager = await makeUser(t, ['manager'])
    const a = await changeInAuthorize(t, { plannedStart: at(10, 8), plannedEnd: at(10, 9) })
    const b = await changeInAuthorize(t, { plannedStart: at(11, 8), plannedEnd: at(11, 9) })
    const rel = await makeRelease(t, { managerId: manager.id, teamId: team.id, assigneeId: tech.id })
    await bundle(t, rel.id, [a.id, b.id])
    expect((await decide(t, 'changes', a.id, approver.token, { decision: 'approve' })).statusCode).toBe(200)
    expect(await rowsOf(rel.id, 'release.ready')).toHaveLength(0)
    expect((await decide(t, 'changes', b.id, approver.token, { decision: 'approve' })).statusCode).toBe(200)
    const [ready, ...more] = await rowsOf(rel.id, 'release.ready')
    expect(more).toHaveLength(0)
    expect(ready!.payload).toMatchObject({ completedBy: b.id })
    expect((ready!.payload.changeIds as string[]).sort()).toEqual([a.id, b.id].sort())
    // A later move of a ready change does not tell again
    const res = await t.api('POST', `/api/v1/changes/${a.id}/transitions`, { body: { to: 'implement' } })
    expect(res.statusCode, res.body).toBe(200)
    expect(await rowsOf(rel.id, 'release.ready')).toHaveLength(1)
    await drain()
    expect(sink.to(tech.email).map(m => m.header('subject'))).toContain(`[${rel.number}] Release ready: ${rel.title}`)
  })
})
