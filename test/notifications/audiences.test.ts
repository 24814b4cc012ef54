import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeChange } from '../helpers/changes.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

describe('audiences: organisation contacts and the CI owner team of a change', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'desk@desk.example.test' })
    for (const audience of ['organisation_contacts', 'ci_owner_team']) {
      const res = await t.api('POST', '/api/v1/notification-rules', {
        body: { event: 'ticket.created', audience, channel: 'mail' }
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
  const withMail = async (roles: Parameters<typeof makeUser>[1], extra: { organisationId?: string } = {}) => {
    const email = `aud-${suffix()}@example.test`
    return { ...(await makeUser(t, roles, { email, ...extra })), email }
  }

  it('organisation contacts: set over REST and GraphQL, told of their organisation’s tickets only', async () => {
    const org = await makeOrganisation(t)
    const other = await makeOrganisation(t)
    const contact = await withMail(['customer'], { organisationId: org.id })
    const customer = await withMail(['customer'], { organisationId: org.id })
    const outsider = await withMail(['customer'], { organisationId: other.id })
    const path = `/api/v1/organisations/${org.id}/notification-contacts`

    const read = await t.api('GET', path)
    expect(read.json()).toMatchObject({ organisationId: org.id, userIds: [], version: 0 })
    expect((await t.api('GET', path, { token: customer.token })).statusCode).toBe(403)
    const bad = await t.api('PUT', path, {
      body: { version: 0, userIds: [contact.id, '00000000-0000-4000-8000-000000000000'] }
    })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().errors).toEqual([{ field: 'userIds.1', message: 'no such active user' }])
    expect((await t.api('PUT', path, { body: { userIds: [contact.id] } })).statusCode).toBe(428)
    const set = await t.api('PUT', path, { body: { version: 0, userIds: [contact.id] } })
    expect(set.statusCode).toBe(200)
    expect(set.json()).toMatchObject({ userIds: [contact.id], version: 1 })
    const gql = await t.gql(
      `query($id: ID!) { organisationNotificationContacts(organisationId: $id) { userIds version } }`,
      { id: org.id }
    )
    expect(gql.body.errors).toBeUndefined()
    expect(gql.body.data?.organisationNotificationContacts).toEqual({ userIds: [contact.id], version: 1 })

    const mine = await makeIncident(t, { title: 'Org printer offline', impact: 3, urgency: 3 }, customer.token)
    await makeIncident(t, { title: 'Elsewhere', impact: 3, urgency: 3 }, outsider.token)
    await drain()
    const told = sink.to(contact.email)
    expect(told).toHaveLength(1)
    expect(told[0]!.to).toEqual([contact.email])
    expect(told[0]!.header('subject')).toBe(`[${mine.number}] Org printer offline`)

    // Cleared over GraphQL: not told any more
    const cleared = await t.gql(
      `mutation($id: ID!) { setOrganisationNotificationContacts(organisationId: $id, input: { userIds: [] }, version: 1) { userIds version } }`,
      { id: org.id }
    )
    expect(cleared.body.data?.setOrganisationNotificationContacts).toEqual({ userIds: [], version: 2 })
    await makeIncident(t, { title: 'After clearing', impact: 3, urgency: 3 }, customer.token)
    await drain()
    expect(sink.to(contact.email)).toHaveLength(1)
  })

  it('the owner team of the CIs a change names hears of it, every layer; not for incidents or other CIs', async () => {
    const first = await withMail(['technician'])
    const second = await withMail(['technician'])
    const bystander = await withMail(['technician'])
    const owners = await makeTeam(t, [
      { userId: first.id, level: 1 },
      { userId: second.id, level: 2 }
    ])
    const others = await makeTeam(t, [{ userId: bystander.id, level: 1 }])
    const ci = async (ownerTeamId: string | null) => {
      const res = await t.api('POST', '/api/v1/cis', { body: { name: `ci-${suffix()}`, ownerTeamId } })
      expect(res.statusCode).toBe(201)
      return res.json() as { id: string }
    }
    const owned = await ci(owners.id)
    const unowned = await ci(null)

    const change = await makeChange(t, { title: 'Patch the owned database', ciIds: [owned.id, unowned.id] })
    await makeIncident(t, { title: 'Incident on the owned CI', impact: 3, urgency: 3, ciIds: [owned.id] })
    await makeChange(t, { title: 'Touches only the unowned CI', ciIds: [unowned.id] })
    await drain()
    for (const member of [first, second]) {
      const mails = sink.to(member.email)
      expect(mails.map(m => m.header('subject'))).toEqual([`[${change.number}] Patch the owned database`])
      expect(mails[0]!.to).toEqual([member.email])
    }
    expect(sink.to(bystander.email)).toHaveLength(0)
    expect(others.id).not.toBe(owners.id)
  })
})
