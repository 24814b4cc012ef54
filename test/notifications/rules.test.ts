import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

const schema = loadSchema()

describe('notification rules as data', () => {
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

  it('ships the default rules, readable by admins only', async () => {
    const res = await t.api('GET', '/api/v1/notification-rules?limit=100')
    expect(res.statusCode).toBe(200)
    const rules = res
      .json()
      .items.map((r: { event: string; audience: string; channel: string }) =>
        [r.event, r.audience, r.channel].join(' ')
      )
    expect(rules).toEqual(
      expect.arrayContaining([
        'ticket.created requester mail',
        'ticket.public_reply requester mail',
        'ticket.resolved requester mail',
        'ticket.closed requester mail',
        'ticket.assigned assignee_or_layer mail',
        'ticket.assigned assignee sms',
        'sla.breach assignee sms',
        'approval.requested approvers mail'
      ])
    )
    const tech = await makeUser(t, ['technician'])
    expect((await t.api('GET', '/api/v1/notification-rules', { token: tech.token })).statusCode).toBe(403)
  })

  it('checks rules: unknown audiences are 400, a second rule for the same triple 409 naming the field', async () => {
    const bad = await t.api('POST', '/api/v1/notification-rules', {
      body: { event: 'ticket.created', audience: 'everyone', channel: 'mail' }
    })
    expect(bad.statusCode).toBe(400)
    const twice = await t.api('POST', '/api/v1/notification-rules', {
      body: { event: 'ticket.created', audience: 'requester', channel: 'mail' }
    })
    expect(twice.statusCode).toBe(409)
    expect(twice.json().errors[0].field).toBe('audience')
  })

  it('an admin disabling a rule stops what it sent; rules are added over GraphQL too', async () => {
    const org = await makeOrganisation(t)
    const email = `c-${suffix()}@example.test`
    const c = await makeUser(t, ['customer'], { organisationId: org.id, email })
    await makeIncident(t, { title: 'Before' }, c.token)
    await drain()
    expect(sink.to(email)).toHaveLength(1)

    const list = (await t.api('GET', '/api/v1/notification-rules?limit=100')).json().items
    const created = list.find(
      (r: { event: string; audience: string }) => r.event === 'ticket.created' && r.audience === 'requester'
    )
    const off = await t.edit(`/api/v1/notification-rules/${created.id}`, { body: { enabled: false } })
    expect(off.statusCode, off.body).toBe(200)
    expect(off.json()).toMatchObject({ enabled: false, version: 2 })
    await makeIncident(t, { title: 'After' }, c.token)
    await drain()
    expect(sink.to(email)).toHaveLength(1)

    const gql = await t.gql(
      `mutation($input: NotificationRuleInput!) { createNotificationRule(input: $input) ${selectAll(schema, 'NotificationRule')} }`,
      { input: { event: 'ticket.public_reply', audience: 'watchers', channel: 'mail', kinds: ['incident'] } }
    )
    expect(gql.body.errors).toBeUndefined()
    expect(
      shapeProblems(schema, 'NotificationRule', gql.body.data!.createNotificationRule, {
        strict: true,
        allowNull: ['NotificationRule.maxPriority']
      })
    ).toEqual([])
    const listed = await t.gql(`{ notificationRules(first: 50) ${selectAll(schema, 'NotificationRuleConnection')} }`)
    expect(listed.body.errors).toBeUndefined()
    expect(listed.body.data!.notificationRules.edges.length).toBeGreaterThanOrEqual(10)
  })
})
