import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { calendars } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { historyOf, makeOrganisation, makeTeam, makeUser, suffix } from '../helpers/factories.js'
import { codes, fields, nodesOf } from '../helpers/graphql.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('service catalog', () => {
  let t: TestApp
  let team: { id: string }
  let support: { id: string }
  let calendarId: string
  let orgA: { id: string }
  let orgB: { id: string }
  let customerA: { id: string; token: string }
  let technician: { id: string; token: string }
  // Services seen by customers of orgA: `shown` only
  let shown: Json
  let unsubscribed: Json
  let internal: Json
  const ghost = '00000000-0000-7000-8000-000000000000'

  const post = (body: Json, token?: string) => t.api('POST', '/api/v1/services', { body, ...(token ? { token } : {}) })
  async function create(body: Json) {
    const res = await post({ name: `Service ${suffix()}`, ...body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }

  beforeAll(async () => {
    t = await buildTestApp()
    team = await makeTeam(t)
    support = await makeTeam(t)
    orgA = await makeOrganisation(t)
    orgB = await makeOrganisation(t)
    customerA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    technician = await makeUser(t, ['technician'])
    calendarId = uuidv7()
    await t.db.insert(calendars).values({
      id: calendarId,
      name: `Office ${suffix()}`,
      timeZone: 'Europe/Paris',
      hours: { mon: [['08:00', '17:00']], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] }
    })
    shown = await create({ customerVisible: true, organisationIds: [orgA.id, orgB.id] })
    unsubscribed = await create({ customerVisible: true, organisationIds: [orgB.id] })
    internal = await create({ customerVisible: false, organisationIds: [orgA.id] })
  })
  afterAll(async () => t?.close())

  it('creates a service with teams, hours of cover and subscribers, reads it back, audited', async () => {
    const body = {
      name: 'E-mail',
      description: 'Mailboxes and calendars',
      status: 'planned',
      ownerTeamId: team.id,
      supportTeamId: support.id,
      hoursCalendarId: calendarId,
      customerVisible: true,
      organisationIds: [orgB.id, orgA.id, orgB.id]
    }
    const res = await post(body)
    expect(res.statusCode, res.body).toBe(201)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    const service = res.json()
    // Subscribers stored sorted, without repeats
    expect(service).toMatchObject({
      ...body,
      organisationIds: [orgA.id, orgB.id].sort(),
      version: 1
    })
    expect(res.headers.location).toBe(`/api/v1/services/${service.id}`)
    expect((await t.api('GET', `/api/v1/services/${service.id}`)).json()).toEqual(service)
    const audit = await auditOf(t, 'service', service.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'hoursCalendarId', old: null, new: calendarId })

    // Defaults: live, staff only, no teams, no subscribers
    const bare = await create({})
    expect(bare).toMatchObject({
      status: 'live',
      customerVisible: false,
      organisationIds: [],
      ownerTeamId: null,
      hoursCalendarId: null,
      description: ''
    })
  })

  it('updates with a version; null clears; a no-op moves nothing; names are unique regardless of case', async () => {
    const s = await create({ ownerTeamId: team.id, hoursCalendarId: calendarId })
    expectProblem(await t.api('PATCH', `/api/v1/services/${s.id}`, { body: { status: 'retired' } }), 428)
    expectProblem(
      await t.api('PATCH', `/api/v1/services/${s.id}`, { body: { status: 'retired' }, headers: { 'if-match': '"7"' } }),
      412
    )
    const res = await t.api('PATCH', `/api/v1/services/${s.id}`, {
      body: { ownerTeamId: null, hoursCalendarId: null, organisationIds: [orgA.id], version: 1 }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      ownerTeamId: null,
      hoursCalendarId: null,
      organisationIds: [orgA.id],
      version: 2
    })
    const noop = await t.api('PATCH', `/api/v1/services/${s.id}`, { body: { organisationIds: [orgA.id], version: 2 } })
    expect(noop.json().version).toBe(2)
    const audit = await auditOf(t, 'service', s.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated'])
    expect((audit[1]!.changes as { field: string }[]).map(c => c.field).sort()).toEqual([
      'hoursCalendarId',
      'organisationIds',
      'ownerTeamId'
    ])

    await create({ name: 'Payroll' })
    expect(fieldsOf(expectProblem(await post({ name: 'PAYROLL' }), 409))).toEqual(['name'])
    expect(
      fieldsOf(
        expectProblem(await t.api('PATCH', `/api/v1/services/${s.id}`, { body: { name: 'payroll', version: 2 } }), 409)
      )
    ).toEqual(['name'])
  })

  it('refuses references that do not exist, naming every field at once (422), and malformed input (400)', async () => {
    const res = expectProblem(
      await post({
        name: 'Broken',
        ownerTeamId: ghost,
        supportTeamId: ghost,
        hoursCalendarId: ghost,
        organisationIds: [orgA.id, ghost]
      }),
      422,
      'VALIDATION_FAILED'
    )
    expect(fieldsOf(res).sort()).toEqual(['hoursCalendarId', 'organisationIds.1', 'ownerTeamId', 'supportTeamId'])
    expect(fieldsOf(expectProblem(await post({ name: 'x', status: 'dead' }), 400))).toContain('status')
    expect(fieldsOf(expectProblem(await post({ name: '' }), 400))).toContain('name')
    expect(fieldsOf(expectProblem(await post({ name: 'x', colour: 'red' }), 400)).length).toBeGreaterThan(0)
  })

  it('lets admins write and staff read; others are refused (403)', async () => {
    expectProblem(await post({ name: 'By a technician' }, technician.token), 403)
    expectProblem(await post({ name: 'By a customer' }, customerA.token), 403)
    const staffList = await t.api('GET', '/api/v1/services?limit=500', { token: technician.token })
    expect(staffList.statusCode).toBe(200)
    const ids = staffList.json().items.map((s: Json) => s.id)
    expect(ids).toEqual(expect.arrayContaining([shown.id, unsubscribed.id, internal.id]))
    const gql = await t.gql('mutation { createService(input: { name: "Via GraphQL" }) { id } }', {}, technician.token)
    expect(codes(gql.body)).toEqual(['FORBIDDEN'])
  })

  it('shows customers only the customer-visible services their organisation subscribes to', async () => {
    const list = await t.api('GET', '/api/v1/services?limit=500', { token: customerA.token })
    expect(list.statusCode, list.body).toBe(200)
    const items = list.json().items as Json[]
    expect(items.map(s => s.id)).toContain(shown.id)
    expect(items.map(s => s.id)).not.toContain(unsubscribed.id)
    expect(items.map(s => s.id)).not.toContain(internal.id)
    for (const s of items) {
      expect(s.customerVisible).toBe(true)
      expect(s.organisationIds).toContain(orgA.id)
    }
    expect((await t.api('GET', `/api/v1/services/${shown.id}`, { token: customerA.token })).statusCode).toBe(200)
    expectProblem(await t.api('GET', `/api/v1/services/${unsubscribed.id}`, { token: customerA.token }), 404)
    expectProblem(await t.api('GET', `/api/v1/services/${internal.id}`, { token: customerA.token }), 404)
    // A customer without an organisation sees none
    const loner = await makeUser(t, ['customer'])
    expect((await t.api('GET', '/api/v1/services', { token: loner.token })).json().items).toEqual([])

    const gql = await t.gql(
      `query($hidden: ID!) { services(first: 500) { edges { node { id } } } service(id: $hidden) { id } }`,
      { hidden: internal.id },
      customerA.token
    )
    expect(nodesOf(gql.body.data!.services).map(n => n.id)).toEqual(items.map(s => s.id))
    expect(gql.body.data!.service).toBeNull()
  })

  it('filters the list and pages it by name', async () => {
    const mine = await create({ name: `zz-filter-${suffix()}`, supportTeamId: support.id, status: 'retired' })
    const bySupport = await t.api('GET', `/api/v1/services?supportTeamId=${support.id}&status=retired`)
    expect(bySupport.json().items.map((s: Json) => s.id)).toEqual([mine.id])
    const byOrg = (await t.api('GET', `/api/v1/services?organisationId=${orgB.id}&limit=500`)).json().items
    expect(byOrg.map((s: Json) => s.id)).toEqual(expect.arrayContaining([shown.id, unsubscribed.id]))
    expect(byOrg.map((s: Json) => s.id)).not.toContain(internal.id)
    const first = await t.api('GET', '/api/v1/services?limit=2')
    const page1 = first.json()
    expect(page1.items).toHaveLength(2)
    const page2 = (await t.api('GET', `/api/v1/services?limit=2&cursor=${page1.nextCursor}`)).json()
    expect(page2.items[0].name >= page1.items[1].name).toBe(true)
    expect(page2.items.map((s: Json) => s.id)).not.toContain(page1.items[0].id)
  })

  it('creates and updates through GraphQL with the same rules', async () => {
    const made = await t.gql(
      `mutation($input: CreateServiceInput!) { createService(input: $input) { id name status ownerTeam { id } organisationIds version } }`,
      { input: { name: `GQL ${suffix()}`, status: 'live', ownerTeamId: team.id, organisationIds: [orgA.id] } }
    )
    expect(made.body.errors).toBeUndefined()
    const s = made.body.data!.createService
    expect(s).toMatchObject({ status: 'live', ownerTeam: { id: team.id }, organisationIds: [orgA.id], version: 1 })
    const bad = await t.gql(
      `mutation($id: ID!) { updateService(id: $id, version: 1, input: { supportTeamId: "${ghost}" }) { id } }`,
      {
        id: s.id
      }
    )
    expect(fields(bad.body)).toEqual(['supportTeamId'])
    const cleared = await t.gql(
      `mutation($id: ID!) { updateService(id: $id, version: 1, input: { ownerTeamId: null, status: retired }) { ownerTeamId status version } }`,
      { id: s.id }
    )
    expect(cleared.body.data!.updateService).toEqual({ ownerTeamId: null, status: 'retired', version: 2 })
  })

  it('lists the offerings under a service (REST filter and GraphQL), checking the service named', async () => {
    const service = await create({ customerVisible: true, organisationIds: [orgA.id] })
    const mk = async (body: Json) => {
      const res = await t.api('POST', '/api/v1/catalog/offerings', { body: { name: `Offering ${suffix()}`, ...body } })
      expect(res.statusCode, res.body).toBe(201)
      return res.json() as Json
    }
    const a = await mk({ serviceId: service.id })
    const b = await mk({ serviceId: service.id, active: false })
    const other = await mk({})
    expect(a.serviceId).toBe(service.id)
    expect(other.serviceId).toBeNull()
    const under = (await t.api('GET', `/api/v1/catalog/offerings?serviceId=${service.id}`)).json().items
    expect(under.map((o: Json) => o.id).sort()).toEqual([a.id, b.id].sort())

    const gql = await t.gql(`query($id: ID!) { service(id: $id) { offerings { id serviceId } } }`, { id: service.id })
    expect(gql.body.data!.service.offerings.map((o: Json) => o.id).sort()).toEqual([a.id, b.id].sort())
    // Customers see the active ones only
    const asCustomer = await t.gql(
      `query($id: ID!) { service(id: $id) { offerings { id } } }`,
      { id: service.id },
      customerA.token
    )
    expect(asCustomer.body.data!.service.offerings).toEqual([{ id: a.id }])

    const moved = await t.api('PATCH', `/api/v1/catalog/offerings/${other.id}`, {
      body: { serviceId: service.id, version: 1 }
    })
    expect(moved.json().serviceId).toBe(service.id)
    expect(
      fieldsOf(
        expectProblem(await t.api('POST', '/api/v1/catalog/offerings', { body: { name: 'x1', serviceId: ghost } }), 422)
      )
    ).toEqual(['serviceId'])
    const cleared = await t.api('PATCH', `/api/v1/catalog/offerings/${other.id}`, {
      body: { serviceId: null, version: 2 }
    })
    expect(cleared.json().serviceId).toBeNull()
  })

  describe('tickets naming a service', () => {
    it('creates, reads, updates and filters tickets by serviceId (REST), audited in the history', async () => {
      const created = await t.api('POST', '/api/v1/incidents', { body: { title: 'Mail down', serviceId: shown.id } })
      expect(created.statusCode, created.body).toBe(201)
      const incident = created.json()
      expect(incident.serviceId).toBe(shown.id)
      expect((await t.api('GET', `/api/v1/incidents/${incident.id}`)).json().serviceId).toBe(shown.id)
      const plain = await t.api('POST', '/api/v1/incidents', { body: { title: 'No service' } })
      expect(plain.json().serviceId).toBeNull()

      const byParam = (await t.api('GET', `/api/v1/incidents?serviceId=${shown.id}&limit=500`)).json().items
      expect(byParam.map((i: Json) => i.id)).toEqual([incident.id])
      expect(byParam[0].serviceId).toBe(shown.id)
      const byRsql = (
        await t.api('GET', `/api/v1/tickets?filter=${encodeURIComponent(`serviceId==${shown.id}`)}`)
      ).json()
      expect(byRsql.items.map((i: Json) => i.id)).toEqual([incident.id])
      const none = (
        await t.api('GET', `/api/v1/incidents?filter=${encodeURIComponent('serviceId=isnull=true')}&limit=500`)
      ).json()
      expect(none.items.map((i: Json) => i.id)).toContain(plain.json().id)
      expect(none.items.map((i: Json) => i.id)).not.toContain(incident.id)

      const updated = await t.api('PATCH', `/api/v1/incidents/${incident.id}`, {
        body: { serviceId: unsubscribed.id, version: incident.version }
      })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json().serviceId).toBe(unsubscribed.id)
      const cleared = await t.api('PATCH', `/api/v1/incidents/${incident.id}`, {
        body: { serviceId: null, version: updated.json().version }
      })
      expect(cleared.json().serviceId).toBeNull()

      const history = await historyOf(t, 'incidents', incident.id)
      expect(history[0]!.changes).toContainEqual({ field: 'serviceId', old: null, new: shown.id })
      const changes = history.filter(h => h.action === 'updated').map(h => h.changes)
      expect(changes).toEqual([
        [{ field: 'serviceId', old: shown.id, new: unsubscribed.id }],
        [{ field: 'serviceId', old: unsubscribed.id, new: null }]
      ])
    })

    it('takes a service on every kind', async () => {
      const problem = await t.api('POST', '/api/v1/problems', { body: { title: 'Mail flaps', serviceId: shown.id } })
      expect(problem.statusCode, problem.body).toBe(201)
      expect(problem.json().serviceId).toBe(shown.id)
      const change = await t.api('POST', '/api/v1/changes', {
        body: { title: 'Patch mail', type: 'normal', serviceId: shown.id }
      })
      expect(change.statusCode, change.body).toBe(201)
      expect(change.json().serviceId).toBe(shown.id)
      const release = await t.api('POST', '/api/v1/releases', {
        body: { title: 'Mail 2.0', serviceId: shown.id, releaseVersion: '2.0', managerId: technician.id }
      })
      expect(release.statusCode, release.body).toBe(201)
      expect(release.json().serviceId).toBe(shown.id)
      const offering = await t.api('POST', '/api/v1/catalog/offerings', {
        body: { name: `Mailbox ${suffix()}`, serviceId: unsubscribed.id }
      })
      const offeringId = offering.json().id
      const request = await t.api('POST', '/api/v1/requests', {
        body: { title: 'New mailbox', offeringId, serviceId: shown.id }
      })
      expect(request.statusCode, request.body).toBe(201)
      expect(request.json().serviceId).toBe(shown.id)
      // A request naming no service takes its offering's
      const defaulted = await t.api('POST', '/api/v1/requests', { body: { title: 'Another mailbox', offeringId } })
      expect(defaulted.json().serviceId).toBe(unsubscribed.id)
      const history = await historyOf(t, 'requests', defaulted.json().id)
      expect(history[0]!.changes).toContainEqual({ field: 'serviceId', old: null, new: unsubscribed.id })
    })

    it('refuses a service that does not exist or is retired (422 naming serviceId)', async () => {
      const retired = await create({ status: 'retired' })
      for (const serviceId of [ghost, retired.id]) {
        const res = expectProblem(await t.api('POST', '/api/v1/incidents', { body: { title: 'x', serviceId } }), 422)
        expect(fieldsOf(res)).toEqual(['serviceId'])
      }
      const live = await create({})
      const incident = (await t.api('POST', '/api/v1/incidents', { body: { title: 'Old', serviceId: live.id } })).json()
      // Retiring the service keeps the tickets that name it editable
      await t.api('PATCH', `/api/v1/services/${live.id}`, { body: { status: 'retired', version: 1 } })
      const edit = await t.api('PATCH', `/api/v1/incidents/${incident.id}`, {
        body: { title: 'Old, still on it', serviceId: live.id, version: incident.version }
      })
      expect(edit.statusCode, edit.body).toBe(200)
      expect(edit.json().serviceId).toBe(live.id)
    })

    it('lets a customer name only a service they can see', async () => {
      const ok = await t.api('POST', '/api/v1/incidents', {
        token: customerA.token,
        body: { title: 'My mail', serviceId: shown.id }
      })
      expect(ok.statusCode, ok.body).toBe(201)
      for (const serviceId of [unsubscribed.id, internal.id]) {
        const res = await t.api('POST', '/api/v1/incidents', {
          token: customerA.token,
          body: { title: 'x', serviceId }
        })
        expect(fieldsOf(expectProblem(res, 422))).toEqual(['serviceId'])
      }
    })

    it('names a service through GraphQL: create, read with the service, update, filter', async () => {
      const made = await t.gql(
        `mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id version serviceId service { id name } } }`,
        { input: { title: 'GQL mail', serviceId: shown.id } }
      )
      expect(made.body.errors).toBeUndefined()
      const incident = made.body.data!.createIncident
      expect(incident.service).toEqual({ id: shown.id, name: shown.name })

      const bad = await t.gql(`mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id } }`, {
        input: { title: 'x', serviceId: ghost }
      })
      expect(fields(bad.body)).toEqual(['serviceId'])

      const updated = await t.gql(
        `mutation($id: ID!, $v: Int!, $s: ID) { updateIncident(id: $id, version: $v, input: { serviceId: $s }) { serviceId version } }`,
        { id: incident.id, v: incident.version, s: internal.id }
      )
      expect(updated.body.data!.updateIncident.serviceId).toBe(internal.id)

      const listed = await t.gql(
        `query($s: ID) { incidents(serviceId: $s, first: 50) { edges { node { id serviceId } } }
           tickets(filter: "serviceId==${internal.id}") { edges { node { id } } } }`,
        { s: internal.id }
      )
      expect(nodesOf(listed.body.data!.incidents)).toEqual([{ id: incident.id, serviceId: internal.id }])
      expect(nodesOf(listed.body.data!.tickets).map(n => n.id)).toEqual([incident.id])

      // A customer reading a ticket of theirs sees the service only when it is visible to them
      const mine = await t.api('POST', '/api/v1/incidents', {
        body: { title: 'For the customer', requesterId: customerA.id, serviceId: internal.id }
      })
      expect(mine.statusCode, mine.body).toBe(201)
      const read = await t.gql(
        `query($id: ID!) { incident(id: $id) { serviceId service { id } } }`,
        { id: mine.json().id },
        customerA.token
      )
      expect(read.body.data!.incident).toEqual({ serviceId: internal.id, service: null })
    })
  })
})
