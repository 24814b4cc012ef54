import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { PARIS } from '../helpers/calendars.js'
import { makeUser, suffix } from '../helpers/factories.js'
import { codes, errorWith, fields, nodesOf } from '../helpers/graphql.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

/** The body, as integrators will write it. */
const parisBody = (name = `Paris office ${suffix()}`) => ({ name, ...structuredClone(PARIS) })

const NOWHERE = '00000000-0000-7000-8000-000000000000'

describe('business calendars over REST', () => {
  let t: TestApp
  let tech: { token: string }
  let customer: { token: string }
  let paris: { id: string; version: number }

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
    const res = await t.api('POST', '/api/v1/calendars', { body: parisBody('Paris office') })
    expect(res.statusCode, res.body).toBe(201)
    paris = res.json()
  })
  afterAll(async () => t?.close())

  it('creates the issue body as given, every weekday listed, audited', async () => {
    const got = await t.api('GET', `/api/v1/calendars/${paris.id}`, { token: tech.token })
    expect(got.statusCode, got.body).toBe(200)
    const { id, version, createdAt, updatedAt, ...rest } = got.json()
    expect(rest).toEqual(parisBody('Paris office'))
    expect(version).toBe(1)
    expect(versionOfEtag(got.headers.etag)).toBe(1)
    const audit = await auditOf(t, 'calendar', paris.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'timeZone', old: null, new: 'Europe/Paris' })
  })

  it('fills in the weekdays left out and keeps intervals and exceptions in order', async () => {
    const res = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: `Sparse ${suffix()}`,
        timeZone: 'UTC',
        hours: {
          mon: [
            ['13:00', '17:00'],
            ['08:00', '12:00']
          ]
        },
        exceptions: [
          { date: '2026-06-02', hours: [] },
          { date: '2026-06-01', hours: [['10:00', '11:00']], name: 'Late start' }
        ]
      }
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({
      hours: {
        mon: [
          ['08:00', '12:00'],
          ['13:00', '17:00']
        ],
        tue: [],
        sun: []
      },
      holidays: [],
      exceptions: [
        { date: '2026-06-01', hours: [['10:00', '11:00']], name: 'Late start' },
        { date: '2026-06-02', hours: [] }
      ]
    })
  })

  it('lists by name in keyset pages, filtered by q', async () => {
    for (const n of ['Zulu', 'Alpha', 'Mike']) {
      const res = await t.api('POST', '/api/v1/calendars', {
        body: { name: `List ${n}`, timeZone: 'UTC', hours: { mon: [['09:00', '17:00']] } }
      })
      expect(res.statusCode, res.body).toBe(201)
    }
    const first = await t.api('GET', '/api/v1/calendars?q=List&limit=2', { token: tech.token })
    expect(first.statusCode, first.body).toBe(200)
    const page1 = first.json()
    expect(page1.items.map((c: { name: string }) => c.name)).toEqual(['List Alpha', 'List Mike'])
    const second = (
      await t.api('GET', `/api/v1/calendars?q=List&limit=2&cursor=${page1.nextCursor}`, { token: tech.token })
    ).json()
    expect(second.items.map((c: { name: string }) => c.name)).toEqual(['List Zulu'])
    expect(second.nextCursor).toBeNull()
  })

  it('refuses a second calendar of the same name, whatever its case (409 naming name)', async () => {
    const res = await t.api('POST', '/api/v1/calendars', { body: parisBody('PARIS OFFICE') })
    expect(fieldsOf(expectProblem(res, 409))).toEqual(['name'])
  })

  it('answers 400 naming the fields against the schema', async () => {
    const res = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: 'Broken',
        hours: { mon: [['08:00', '25:00']], caturday: [], tue: [['08:00']] },
        holidays: [{ date: '2026-02-30' }],
        exceptions: [{ hours: [] }]
      }
    })
    const body = expectProblem(res, 400)
    expect(fieldsOf(body).sort()).toEqual(
      ['timeZone', 'hours.mon.0.1', 'hours.caturday', 'hours.tue.0', 'holidays.0.date', 'exceptions.0.date'].sort()
    )
  })

  it('answers 422 naming every rule a calendar breaks, at once', async () => {
    const res = await t.api('POST', '/api/v1/calendars', {
      body: {
        name: 'Broken',
        timeZone: 'Europe/Parys',
        hours: {
          mon: [
            ['08:00', '12:00'],
            ['11:00', '13:00']
          ],
          tue: [['17:00', '08:00']],
          wed: [['09:00', '09:00']]
        },
        holidays: [{ name: 'no date' }, { month: 2, day: 30, yearly: true }, { date: '2026-01-01', yearly: true }],
        exceptions: [
          { date: '2026-12-19', hours: [] },
          { date: '2026-12-19', hours: [['10:00', '11:00']] }
        ]
      }
    })
    const body = expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(fieldsOf(body)).toEqual([
      'timeZone',
      'hours.mon.1',
      'hours.tue.0',
      'hours.wed.0',
      'holidays.0.date',
      'holidays.1.day',
      'holidays.2.date',
      'holidays.2.month',
      'exceptions.1.date'
    ])
    expect(body.errors).toContainEqual({ field: 'hours.mon.1', message: 'overlaps hours.mon.0' })
  })

  it('updates: lists replace the old ones whole, the result is validated, writes are audited', async () => {
    const made = (await t.api('POST', '/api/v1/calendars', { body: parisBody() })).json()
    const url = `/api/v1/calendars/${made.id}`
    const bad = await t.api('PATCH', url, { body: { timeZone: 'Mars/Olympus', version: made.version } })
    expect(fieldsOf(expectProblem(bad, 422))).toEqual(['timeZone'])
    const res = await t.api('PATCH', url, {
      body: { holidays: [{ month: 12, day: 24, yearly: true }], version: made.version }
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ version: 2, holidays: [{ month: 12, day: 24, yearly: true }] })
    expect(res.json().exceptions).toEqual(parisBody().exceptions)
    const audit = await auditOf(t, 'calendar', made.id)
    expect(audit.map(a => a.action)).toEqual(['created', 'updated'])
    expect((audit[1]!.changes as { field: string }[]).map(c => c.field)).toEqual(['holidays'])
  })

  it('answers the deadline in UTC (Fri 23:00 CET + 2 h: 1 h to midnight, then the extra Saturday 09:00–10:00)', async () => {
    const res = await t.api(
      'GET',
      `/api/v1/calendars/${paris.id}/deadline?from=${encodeURIComponent('2026-12-18T23:00:00+01:00')}&minutes=120`,
      { token: tech.token }
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ deadline: '2026-12-19T09:00:00.000Z' })
    // Thu 2026-12-24 16:00 CET + 2 h: 1 h to 17:00, Christmas, weekend, Mon 28 09:00 CET = 08:00Z
    const christmas = await t.api('GET', `/api/v1/calendars/${paris.id}/deadline?from=2026-12-24T15:00:00Z&minutes=120`)
    expect(christmas.json()).toEqual({ deadline: '2026-12-28T08:00:00.000Z' })
    // Across the spring change: Mon 2026-03-23 08:00 CET + one week (2,520) + 60 = Mon 30 09:00 CEST
    const dst = await t.api('GET', `/api/v1/calendars/${paris.id}/deadline?from=2026-03-23T07:00:00Z&minutes=2580`)
    expect(dst.json()).toEqual({ deadline: '2026-03-30T07:00:00.000Z' })
  })

  it('answers the business minutes between two instants', async () => {
    // Fri 18 Dec 23:00 CET to Sat 19 Dec 23:00 CET: 60 on Friday, 240 on the exception Saturday
    const res = await t.api(
      'GET',
      `/api/v1/calendars/${paris.id}/business-minutes?from=2026-12-18T22:00:00Z&to=2026-12-19T22:00:00Z`,
      { token: tech.token }
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ minutes: 300 })
    const back = await t.api(
      'GET',
      `/api/v1/calendars/${paris.id}/business-minutes?from=2026-12-19T22:00:00Z&to=2026-12-18T22:00:00Z`
    )
    expect(back.json()).toEqual({ minutes: -300 })
  })

  it('answers 400 naming the query field that is missing or malformed', async () => {
    const deadline = (qs: string) => t.api('GET', `/api/v1/calendars/${paris.id}/deadline?${qs}`)
    const minutes = (qs: string) => t.api('GET', `/api/v1/calendars/${paris.id}/business-minutes?${qs}`)
    expect(fieldsOf(expectProblem(await deadline('minutes=60'), 400))).toEqual(['from'])
    expect(fieldsOf(expectProblem(await deadline('from=2026-01-01T00:00:00Z'), 400))).toEqual(['minutes'])
    expect(fieldsOf(expectProblem(await deadline('from=yesterday&minutes=60'), 400))).toEqual(['from'])
    expect(fieldsOf(expectProblem(await deadline('from=2026-01-01T00:00:00Z&minutes=1.5'), 400))).toEqual(['minutes'])
    expect(fieldsOf(expectProblem(await deadline('from=2026-01-01T00:00:00Z&minutes=-1'), 400))).toEqual(['minutes'])
    expect(fieldsOf(expectProblem(await minutes('from=2026-01-01T00:00:00Z'), 400))).toEqual(['to'])
    expect(fieldsOf(expectProblem(await minutes('from=2026-01-01&to=2026-01-02T00:00:00Z'), 400))).toEqual(['from'])
    expect(fieldsOf(expectProblem(await minutes('from=2026-01-01T00:00:00Z&to=3026-01-01T00:00:00Z'), 422))).toEqual([
      'to'
    ])
  })

  it('answers 404 for an unknown calendar, 400 for an id that is none', async () => {
    expectProblem(await t.api('GET', `/api/v1/calendars/${NOWHERE}`), 404)
    expectProblem(await t.api('GET', `/api/v1/calendars/${NOWHERE}/deadline?from=2026-01-01T00:00:00Z&minutes=5`), 404)
    expectProblem(
      await t.api(
        'GET',
        `/api/v1/calendars/${NOWHERE}/business-minutes?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`
      ),
      404
    )
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/calendars/paris'), 400))).toEqual(['id'])
  })

  it('answers 422 when a calendar never holds that much working time', async () => {
    const closed = (
      await t.api('POST', '/api/v1/calendars', {
        body: {
          name: `Closed ${suffix()}`,
          timeZone: 'Europe/Paris',
          hours: {},
          exceptions: [{ date: '2026-06-06', hours: [['09:00', '10:00']] }]
        }
      })
    ).json()
    const url = `/api/v1/calendars/${closed.id}`
    // The one hour there is: 2026-06-06 09:00 CEST = 07:00Z, + 60 = 08:00Z
    expect((await t.api('GET', `${url}/deadline?from=2026-01-01T00:00:00Z&minutes=60`)).json()).toEqual({
      deadline: '2026-06-06T08:00:00.000Z'
    })
    const never = await t.api('GET', `${url}/deadline?from=2026-01-01T00:00:00Z&minutes=61`)
    expect(fieldsOf(expectProblem(never, 422, 'VALIDATION_FAILED'))).toEqual(['minutes'])
    expect(
      (await t.api('GET', `${url}/business-minutes?from=2027-01-01T00:00:00Z&to=2028-01-01T00:00:00Z`)).json()
    ).toEqual({ minutes: 0 })
  })

  it('deletes a calendar (admin), audited; then it is gone', async () => {
    const made = (await t.api('POST', '/api/v1/calendars', { body: parisBody() })).json()
    const url = `/api/v1/calendars/${made.id}`
    expectProblem(await t.api('DELETE', url, { headers: { 'if-match': '"9"' } }), 412)
    const res = await t.api('DELETE', url)
    expect(res.statusCode, res.body).toBe(204)
    expectProblem(await t.api('GET', url), 404)
    expect((await auditOf(t, 'calendar', made.id)).map(a => a.action)).toEqual(['created', 'deleted'])
  })

  it('refuses to delete a calendar something names (409), and the SLA side computes on it', async () => {
    const made = (await t.api('POST', '/api/v1/calendars', { body: parisBody() })).json()
    // A stand-in for the services and SLAs that will reference calendars by foreign key
    await t.db.execute(sql`CREATE TABLE calendar_users (calendar_id uuid NOT NULL REFERENCES calendars (id))`)
    await t.db.execute(sql`INSERT INTO calendar_users VALUES (${made.id})`)
    const res = await t.api('DELETE', `/api/v1/calendars/${made.id}`)
    expectProblem(res, 409, 'CONFLICT')
    expect((await t.api('GET', `/api/v1/calendars/${made.id}`)).statusCode).toBe(200)
    // One load, several due times: Fri 2026-12-18 23:00 CET + 60 (midnight), + 120 (Sat 10:00 CET),
    // + 300 (the exception's 13:00 CET), + 301 (Mon 21 08:01 CET)
    const due = await t.app.services.calendars.deadlinesOn(
      t.db,
      made.id,
      new Date('2026-12-18T22:00:00Z'),
      [60, 120, 300, 301]
    )
    expect(due.map(d => d.toISOString())).toEqual([
      '2026-12-18T23:00:00.000Z',
      '2026-12-19T09:00:00.000Z',
      '2026-12-19T12:00:00.000Z',
      '2026-12-21T07:01:00.000Z'
    ])
    expect(await t.app.services.calendars.minutesOn(t.db, made.id, new Date('2026-12-18T22:00:00Z'), due[3]!)).toBe(301)
    await t.db.execute(sql`DROP TABLE calendar_users`)
  })

  it('lets staff read and only admins write; customers get 403', async () => {
    const one = `/api/v1/calendars/${paris.id}`
    const deadline = `${one}/deadline?from=2026-01-01T00:00:00Z&minutes=5`
    const span = `${one}/business-minutes?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`
    for (const url of ['/api/v1/calendars', one, deadline, span]) {
      expect((await t.api('GET', url, { token: tech.token })).statusCode).toBe(200)
      expectProblem(await t.api('GET', url, { token: customer.token }), 403)
      expectProblem(await t.api('GET', url, { token: null }), 401)
    }
    expectProblem(await t.api('POST', '/api/v1/calendars', { body: parisBody(), token: tech.token }), 403)
    expectProblem(await t.api('POST', '/api/v1/calendars', { body: parisBody(), token: customer.token }), 403)
    expectProblem(await t.api('PATCH', one, { body: { name: 'Mine', version: 1 }, token: tech.token }), 403)
    expectProblem(await t.api('DELETE', one, { token: tech.token }), 403)
    expect((await t.api('GET', one)).json().name).toBe('Paris office')
  })
})

describe('business calendars over GraphQL', () => {
  let t: TestApp
  let tech: { token: string }
  let customer: { token: string }

  const CREATE = `mutation ($input: CreateCalendarInput!) {
    createCalendar(input: $input) {
      id name timeZone version
      hours { mon tue wed thu fri sat sun }
      holidays { date month day yearly name }
      exceptions { date hours name }
    }
  }`

  beforeAll(async () => {
    t = await buildTestApp()
    tech = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('creates, reads, lists, computes, updates and deletes through the same service', async () => {
    const created = await t.gql(CREATE, { input: parisBody('Paris GraphQL') })
    expect(created.body.errors).toBeUndefined()
    const cal = created.body.data!.createCalendar
    expect(cal).toMatchObject({
      name: 'Paris GraphQL',
      timeZone: 'Europe/Paris',
      version: 1,
      hours: { mon: parisBody().hours.mon, wed: [], fri: [['08:00', '24:00']] },
      holidays: [
        { date: '2026-12-25', month: null, day: null, yearly: false, name: 'Christmas' },
        { date: null, month: 5, day: 1, yearly: true, name: 'Labour day' }
      ],
      exceptions: [{ date: '2026-12-19', hours: [['09:00', '13:00']], name: null }]
    })

    // The REST door sees the very row
    const rest = (await t.api('GET', `/api/v1/calendars/${cal.id}`)).json()
    expect(rest.holidays).toEqual(parisBody().holidays)

    const read = await t.gql(
      `query ($id: ID!) {
        calendar(id: $id) { id name }
        calendarDeadline(id: $id, from: "2026-12-18T22:00:00Z", minutes: 120)
        calendarBusinessMinutes(id: $id, from: "2026-12-18T22:00:00Z", to: "2026-12-19T22:00:00Z")
      }`,
      { id: cal.id },
      tech.token
    )
    expect(read.body.errors).toBeUndefined()
    expect(read.body.data).toEqual({
      calendar: { id: cal.id, name: 'Paris GraphQL' },
      calendarDeadline: '2026-12-19T09:00:00.000Z',
      calendarBusinessMinutes: 300
    })

    for (const n of ['B', 'A']) {
      const res = await t.gql(CREATE, { input: { name: `GQL ${n}`, timeZone: 'UTC', hours: {} } })
      expect(res.body.errors).toBeUndefined()
    }
    const page = await t.gql(
      `{ calendars(q: "GQL", first: 1) { edges { node { name } cursor } pageInfo { hasNextPage endCursor } } }`,
      {},
      tech.token
    )
    expect(nodesOf(page.body.data!.calendars)).toEqual([{ name: 'GQL A' }])
    expect(page.body.data!.calendars.pageInfo.hasNextPage).toBe(true)
    const next = await t.gql(
      `query ($after: String) { calendars(q: "GQL", first: 1, after: $after) { edges { node { name } } } }`,
      { after: page.body.data!.calendars.pageInfo.endCursor },
      tech.token
    )
    expect(nodesOf(next.body.data!.calendars)).toEqual([{ name: 'GQL B' }])

    const UPDATE = `mutation ($id: ID!, $version: Int) {
      updateCalendar(id: $id, input: { timeZone: "America/New_York", hours: { mon: [["09:00", "17:00"]] } }, version: $version) {
        version timeZone hours { mon tue }
      }
    }`
    expect(codes((await t.gql(UPDATE, { id: cal.id })).body)).toEqual(['PRECONDITION_REQUIRED'])
    const updated = await t.gql(UPDATE, { id: cal.id, version: 1 })
    expect(updated.body.errors).toBeUndefined()
    expect(updated.body.data!.updateCalendar).toEqual({
      version: 2,
      timeZone: 'America/New_York',
      hours: { mon: [['09:00', '17:00']], tue: [] }
    })

    const deleted = await t.gql(`mutation ($id: ID!) { deleteCalendar(id: $id, version: 2) }`, { id: cal.id })
    expect(deleted.body.data).toEqual({ deleteCalendar: true })
    const gone = await t.gql(`query ($id: ID!) { calendar(id: $id) { id } }`, { id: cal.id })
    errorWith(gone.body, 'NOT_FOUND')
  })

  it('answers the same validation problems as REST, naming the fields', async () => {
    const bad = await t.gql(CREATE, {
      input: {
        name: 'Bad',
        timeZone: 'Nowhere/Land',
        hours: {
          mon: [
            ['08:00', '12:00'],
            ['11:00', '13:00']
          ]
        }
      }
    })
    errorWith(bad.body, 'VALIDATION_FAILED')
    expect(fields(bad.body)).toEqual(['timeZone', 'hours.mon.1'])

    const shape = await t.gql(CREATE, { input: { name: 'Bad', timeZone: 'UTC', hours: { mon: [['8:00', '12:00']] } } })
    errorWith(shape.body, 'VALIDATION_FAILED')
    expect(fields(shape.body)).toEqual(['input.hours.mon.0.0'])

    const made = (await t.api('POST', '/api/v1/calendars', { body: parisBody() })).json()
    const minutes = await t.gql(
      `query ($id: ID!) { calendarDeadline(id: $id, from: "2026-01-01T00:00:00Z", minutes: -5) }`,
      { id: made.id }
    )
    errorWith(minutes.body, 'VALIDATION_FAILED')
    expect(fields(minutes.body)).toEqual(['minutes'])
    const from = await t.gql(
      `query ($id: ID!) { calendarBusinessMinutes(id: $id, from: "2026-01-01", to: "2026-01-02T00:00:00Z") }`,
      { id: made.id }
    )
    errorWith(from.body, 'VALIDATION_FAILED')
    expect(fields(from.body)).toEqual(['from'])
    const unknown = await t.gql(`{ calendarDeadline(id: "${NOWHERE}", from: "2026-01-01T00:00:00Z", minutes: 5) }`)
    errorWith(unknown.body, 'NOT_FOUND')
  })

  it('lets technicians read, not write; customers neither', async () => {
    const made = (await t.api('POST', '/api/v1/calendars', { body: parisBody() })).json()
    const read = `{ calendar(id: "${made.id}") { name } calendars { edges { node { id } } } }`
    expect((await t.gql(read, {}, tech.token)).body.errors).toBeUndefined()
    errorWith((await t.gql(read, {}, customer.token)).body, 'FORBIDDEN')
    const compute = `{ calendarDeadline(id: "${made.id}", from: "2026-01-01T00:00:00Z", minutes: 5) }`
    errorWith((await t.gql(compute, {}, customer.token)).body, 'FORBIDDEN')
    errorWith((await t.gql(CREATE, { input: parisBody() }, tech.token)).body, 'FORBIDDEN')
    errorWith((await t.gql(`mutation { deleteCalendar(id: "${made.id}") }`, {}, tech.token)).body, 'FORBIDDEN')
  })
})
