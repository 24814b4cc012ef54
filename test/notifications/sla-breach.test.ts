import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendOutbox } from '../../src/modules/notifications/outbox.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

/**
 * One breach, one notice: the breach timer's row reaches the audiences of the breach rules; a breach
 * row an escalation wrote (at 100 %) reaches only the people it names; an OLA breach only staff.
 */
describe('sla.breach notices', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'desk@desk.example.test' })
    for (const audience of ['assignee', 'requester']) {
      const res = await t.api('POST', '/api/v1/notification-rules', {
        body: { event: 'sla.breach', audience, channel: 'mail' }
      })
      expect(res.statusCode, res.body).toBe(201)
    }
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = () => drainOutbox(t)
  const withMail = async (roles: Parameters<typeof makeUser>[1], extra: Record<string, unknown> = {}) => {
    const email = `brc-${suffix()}@example.test`
    return { ...(await makeUser(t, roles, { email, ...extra })), email }
  }

  it('the assignee hears the timer’s breach once, not again from the escalation; the lead from the escalation', async () => {
    const org = await makeOrganisation(t)
    const customer = await withMail(['customer'], { organisationId: org.id })
    const tech = await withMail(['technician'])
    const lead = await withMail(['manager'])
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const inc = await makeIncident(t, {
      title: 'Mail relay down',
      requesterId: customer.id,
      teamId: team.id,
      assigneeId: tech.id
    })
    await drain()
    const before = { tech: sink.to(tech.email).length, customer: sink.to(customer.email).length }
    const clock = {
      clock: 'resolution',
      clockId: '00000000-0000-7000-8000-000000000001',
      dueAt: '2026-12-01T09:00:00.000Z'
    }
    await t.db.transaction(tx =>
      appendOutbox(tx, [
        // the breach timer's row
        { event: 'sla.breach', ticketId: inc.id, payload: { agreement: 'sla', run: 1, ...clock } },
        // the escalation's notify action at 100 % naming the team lead
        {
          event: 'sla.breach',
          ticketId: inc.id,
          payload: {
            clock: 'resolution',
            percent: 100,
            slaId: null,
            clockId: clock.clockId,
            audience: 'team_lead',
            userIds: [lead.id]
          }
        },
        // an OLA clock of the team breaching
        { event: 'sla.breach', ticketId: inc.id, payload: { agreement: 'ola', run: 1, teamId: team.id, ...clock } }
      ])
    )
    await drain()
    const breachMails = (email: string) =>
      sink.to(email).filter(m => m.header('subject')?.includes(inc.number) && m.header('subject')?.includes('breach'))
    // The assignee: the SLA breach and the OLA breach, not the escalation's copy
    expect(sink.to(tech.email).length - before.tech).toBe(2)
    // The lead: only the escalation's row names them
    expect(sink.to(lead.email)).toHaveLength(1)
    // The customer: the SLA breach only; an OLA is the desk's own target
    expect(sink.to(customer.email).length - before.customer).toBe(1)
    expect(breachMails(customer.email)).toHaveLength(1)
  })
  it('a 100 % escalation naming the assignee does not tell them a second time of the breach the timer told', async () => {
    const tech = await withMail(['technician'])
    const team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    const inc = await makeIncident(t, { title: 'Printer queue stuck', teamId: team.id, assigneeId: tech.id })
    await drain()
    const before = sink.to(tech.email).length
    const clockId = '00000000-0000-7000-8000-000000000002'
    await t.db.transaction(tx =>
      appendOutbox(tx, [
        {
          event: 'sla.breach',
          ticketId: inc.id,
          payload: { agreement: 'sla', run: 1, clock: 'resolution', clockId, dueAt: '2026-12-01T09:00:00.000Z' }
        },
        {
          event: 'sla.breach',
          ticketId: inc.id,
          payload: { clock: 'resolution', percent: 100, slaId: null, clockId, audience: 'assignee', userIds: [tech.id] }
        }
      ])
    )
    await drain()
    // One mail: the timer's (the assignee breach rule); the escalation's copy skips them
    expect(sink.to(tech.email).length - before).toBe(1)
  })
})
