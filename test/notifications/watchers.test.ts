import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeUser, suffix } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

const DOMAIN = 'desk.example.test'
const schema = loadSchema()

describe('watchers on any ticket', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: `Service Desk <desk@${DOMAIN}>` })
    // Watchers hear of public replies (an admin rule; none ships for watchers)
    const rule = await t.api('POST', '/api/v1/notification-rules', {
      body: { event: 'ticket.public_reply', audience: 'watchers', channel: 'mail' }
    })
    expect(rule.statusCode, rule.body).toBe(201)
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = async () => {
    for (let i = 0; i < 50; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
  }
  const person = async (roles: ('customer' | 'technician')[], organisationId?: string) => {
    const email = `w-${suffix()}@example.test`
    return { ...(await makeUser(t, roles, { email, ...(organisationId ? { organisationId } : {}) })), email }
  }

  it('staff add, list and remove watchers over REST; a watcher hears of a public reply by mail', async () => {
    const org = await makeOrganisation(t)
    const requester = await person(['customer'], org.id)
    const colleague = await person(['customer'], org.id)
    const tech = await person(['technician'])
    const inc = await makeIncident(t, { title: 'Shared printer' }, requester.token)

    const added = await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: { userId: colleague.id } })
    expect(added.statusCode, added.body).toBe(201)
    expect(added.json()).toMatchObject({ userId: colleague.id, displayName: colleague.username })
    // Adding again changes nothing
    expect(
      (await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: { userId: colleague.id } })).statusCode
    ).toBe(201)
    const self = await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: {}, token: tech.token })
    expect(self.json()).toMatchObject({ userId: tech.id })

    const page1 = await t.api('GET', `/api/v1/incidents/${inc.id}/watchers?limit=1`)
    expect(page1.statusCode).toBe(200)
    expect(page1.json().items).toHaveLength(1)
    const page2 = await t.api('GET', `/api/v1/incidents/${inc.id}/watchers?limit=1&cursor=${page1.json().nextCursor}`)
    expect(page2.json().items).toHaveLength(1)
    expect(page2.json().nextCursor).toBeNull()
    expect([page1.json().items[0].userId, page2.json().items[0].userId].sort()).toEqual([colleague.id, tech.id].sort())

    const audits = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityId, inc.id), eq(auditLog.action, 'ticket.watcher_added')))
    expect(audits).toHaveLength(2)

    await drain()
    const before = sink.to(colleague.email).length
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Toner ordered' }, token: tech.token })
    await drain()
    const mails = sink.to(colleague.email)
    expect(mails).toHaveLength(before + 1)
    expect(mails.at(-1)!.to).toEqual([colleague.email])
    expect(mails.at(-1)!.text).toContain('Toner ordered')
    // The author of the reply is a watcher too, but nobody hears of their own change
    expect(sink.to(tech.email)).toHaveLength(0)

    const removed = await t.api('DELETE', `/api/v1/incidents/${inc.id}/watchers/${colleague.id}`)
    expect(removed.statusCode).toBe(204)
    expectProblem(await t.api('DELETE', `/api/v1/incidents/${inc.id}/watchers/${colleague.id}`), 404)
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'Fixed' }, token: tech.token })
    await drain()
    expect(sink.to(colleague.email)).toHaveLength(before + 1)
  })

  it('customers watch only for themselves, and only people who can see the ticket are added', async () => {
    const org = await makeOrganisation(t)
    const other = await makeOrganisation(t)
    const requester = await person(['customer'], org.id)
    const colleague = await person(['customer'], org.id)
    const stranger = await person(['customer'], other.id)
    const inc = await makeIncident(t, {}, requester.token)

    const forOther = expectProblem(
      await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, {
        body: { userId: colleague.id },
        token: requester.token
      }),
      403
    )
    expect(forOther.detail).toMatch(/yourself/)
    const mine = await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: {}, token: colleague.token })
    expect(mine.statusCode, mine.body).toBe(201)
    expect(
      fieldsOf(
        expectProblem(
          await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: { userId: stranger.id } }),
          422
        )
      )
    ).toEqual(['userId'])
    expectProblem(await t.api('GET', `/api/v1/incidents/${inc.id}/watchers`, { token: stranger.token }), 404)
    expect(
      fieldsOf(
        expectProblem(await t.api('POST', `/api/v1/incidents/${inc.id}/watchers`, { body: { userId: 'nope' } }), 400)
      )
    ).toEqual(['userId'])
  })

  it('answers the same over GraphQL', async () => {
    const tech = await person(['technician'])
    const inc = await makeIncident(t)
    const watched = await t.gql(
      `mutation($id: ID!) { watchTicket(id: $id) ${selectAll(schema, 'TicketWatcher')} }`,
      { id: inc.id },
      tech.token
    )
    expect(watched.body.errors).toBeUndefined()
    expect(shapeProblems(schema, 'TicketWatcher', watched.body.data!.watchTicket, { strict: true })).toEqual([])
    expect(watched.body.data!.watchTicket.userId).toBe(tech.id)
    const listed = await t.gql(
      `query($id: ID!) { ticketWatchers(id: $id, first: 10) ${selectAll(schema, 'TicketWatcherConnection')} }`,
      { id: inc.id }
    )
    expect(listed.body.errors).toBeUndefined()
    expect(listed.body.data!.ticketWatchers.edges.map((e: { node: { userId: string } }) => e.node.userId)).toEqual([
      tech.id
    ])
    const gone = await t.gql(`mutation($id: ID!) { unwatchTicket(id: $id) }`, { id: inc.id }, tech.token)
    expect(gone.body.data!.unwatchTicket).toBe(true)
    const after = await t.gql(`query($id: ID!) { ticketWatchers(id: $id) { edges { node { userId } } } }`, {
      id: inc.id
    })
    expect(after.body.data!.ticketWatchers.edges).toEqual([])
  })
})
