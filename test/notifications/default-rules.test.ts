import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { at, changeInAuthorize, decide } from '../helpers/changes.js'
import { makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { approvedBy } from '../helpers/releases.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

/** The rules that ship for change events: nobody creates a rule here. */
describe('default rules for change events', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'desk@desk.example.test' })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = () => drainOutbox(t)
  const withMail = async (roles: Parameters<typeof makeUser>[1]) => {
    const email = `def-${suffix()}@example.test`
    return { ...(await makeUser(t, roles, { email })), email }
  }

  it('ship for approval decisions, scheduling, conflicts, readiness and escalations', async () => {
    const res = await t.api('GET', '/api/v1/notification-rules?limit=100')
    const rules = res
      .json()
      .items.map((r: { event: string; audience: string; channel: string }) =>
        [r.event, r.audience, r.channel].join(' ')
      )
    expect(rules).toEqual(
      expect.arrayContaining([
        'approval.decided requester mail',
        'change.scheduled ci_owner_team mail',
        'change.conflict ci_owner_team mail',
        'change.conflict team_manager mail',
        'release.ready team_manager mail',
        'sla.escalation layer mail'
      ])
    )
  })

  it('the CI owner team hears a change scheduled on its CI; the change team’s manager hears of a conflict', async () => {
    const approver = await makeUser(t, ['manager'])
    await approvedBy(t, approver.id)
    const owner = await withMail(['technician'])
    const manager = await withMail(['manager'])
    const tech = await withMail(['technician'])
    const owners = await makeTeam(t, [{ userId: owner.id, level: 1 }])
    const team = (
      await t.api('POST', '/api/v1/teams', {
        body: { name: `Changes ${suffix()}`, managerId: manager.id, layers: [{ name: '1st line' }] }
      })
    ).json() as { id: string }
    expect(
      (await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: { userId: tech.id, level: 1 } })).statusCode
    ).toBe(200)
    const ci = (await t.api('POST', '/api/v1/cis', { body: { name: `ci-${suffix()}`, ownerTeamId: owners.id } })).json()
    const schedule = async (start: number, end: number) => {
      const c = await changeInAuthorize(t, {
        teamId: team.id,
        assigneeId: tech.id,
        ciIds: [ci.id],
        plannedStart: at(5, start),
        plannedEnd: at(5, end)
      })
      const res = await decide(t, 'changes', c.id, approver.token, { decision: 'approve' })
      expect(res.statusCode, res.body).toBe(200)
      return c as typeof c & { number: string; title: string }
    }
    const first = await schedule(8, 10)
    const second = await schedule(9, 11)
    await drain()
    const toOwner = sink.to(owner.email).map(m => m.header('subject'))
    expect(toOwner).toEqual(
      expect.arrayContaining([
        `[${first.number}] Scheduled: ${first.title}`,
        `[${second.number}] Scheduled: ${second.title}`,
        `[${second.number}] Schedule conflict: ${second.title}`
      ])
    )
    const toManager = sink.to(manager.email).map(m => m.header('subject'))
    expect(toManager).toContain(`[${second.number}] Schedule conflict: ${second.title}`)
    expect(toManager.filter(s => s?.includes('Scheduled:'))).toHaveLength(0)
    // The assignee has no default rule for these events
    expect(sink.to(tech.email).filter(m => m.header('subject')?.includes('Schedule'))).toHaveLength(0)
  })
})
