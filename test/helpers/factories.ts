import { randomBytes } from 'node:crypto'
import type { Role } from '../../src/auth/actor.js'
import { PASSWORD, type TestApp } from './app.js'

/** A short random suffix keeping names unique across tests. */
export const suffix = () => randomBytes(4).toString('hex')

const costCentres = new WeakMap<TestApp, Promise<string>>()

/**
 * One cost centre per test app that the factories' organisations and services name, so their every
 * field is set (test/finance tests cost centres themselves).
 */
export function factoryCostCentre(t: TestApp): Promise<string> {
  let found = costCentres.get(t)
  if (!found) {
    found = (async () => {
      const res = await t.api('POST', '/api/v1/cost-centres', { body: { code: `F-${suffix()}`, name: 'Factory' } })
      if (res.statusCode !== 201) throw new Error(`cost centre: ${res.body}`)
      return res.json().id as string
    })()
    costCentres.set(t, found)
  }
  return found
}

/** Rows built through the API itself, so factories obey the same rules as clients. */
export async function makeOrganisation(t: TestApp, name = `Org ${suffix()}`) {
  const res = await t.api('POST', '/api/v1/organisations', { body: { name, costCentreId: await factoryCostCentre(t) } })
  if (res.statusCode !== 201) throw new Error(`organisation: ${res.body}`)
  return res.json() as { id: string; name: string }
}

export async function makeUser(
  t: TestApp,
  roles: Role[],
  extra: { organisationId?: string; username?: string; displayName?: string; email?: string; phone?: string } = {}
) {
  const username = extra.username ?? `${roles[0]}-${suffix()}`
  const res = await t.api('POST', '/api/v1/users', {
    body: { username, displayName: extra.displayName ?? username, roles, password: PASSWORD, ...extra }
  })
  if (res.statusCode !== 201) throw new Error(`user: ${res.body}`)
  const user = res.json() as { id: string; username: string; organisationId: string | null }
  const token = await t.login(username, PASSWORD)
  return { ...user, token }
}

/** A user without a local password: the kind header SSO may sign in (no session is made). */
export async function makeSsoUser(
  t: TestApp,
  roles: Role[],
  extra: { organisationId?: string; username?: string } = {}
) {
  const username = extra.username ?? `${roles[0]}-${suffix()}`
  const res = await t.api('POST', '/api/v1/users', { body: { username, displayName: username, roles, ...extra } })
  if (res.statusCode !== 201) throw new Error(`user: ${res.body}`)
  return res.json() as { id: string; username: string; organisationId: string | null }
}

export async function makeTeam(
  t: TestApp,
  members: { userId: string; level: number }[] = [],
  name = `Team ${suffix()}`
) {
  const res = await t.api('POST', '/api/v1/teams', {
    body: { name, layers: [{ name: '1st line' }, { name: '2nd line' }] }
  })
  if (res.statusCode !== 201) throw new Error(`team: ${res.body}`)
  const team = res.json() as { id: string }
  for (const m of members) {
    const r = await t.api('POST', `/api/v1/teams/${team.id}/members`, { body: m })
    if (r.statusCode !== 200) throw new Error(`member: ${r.body}`)
  }
  return team
}

export async function makeIncident(t: TestApp, body: Record<string, unknown> = {}, token?: string) {
  const res = await t.api('POST', '/api/v1/incidents', {
    token: token ?? t.adminToken,
    body: { title: `Incident ${suffix()}`, ...body }
  })
  if (res.statusCode !== 201) throw new Error(`incident: ${res.statusCode} ${res.body}`)
  return res.json() as Record<string, any> & { id: string; number: string; version: number; status: string }
}

/** A live service in the catalog with every field set (teams, hours of cover), made through the API. */
export async function makeService(t: TestApp, body: Record<string, unknown> = {}) {
  const team = await makeTeam(t)
  const day = [['08:00', '17:00']]
  const calendar = await t.api('POST', '/api/v1/calendars', {
    token: t.adminToken,
    body: {
      name: `Hours ${suffix()}`,
      timeZone: 'Europe/Paris',
      hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] }
    }
  })
  if (calendar.statusCode !== 201) throw new Error(`calendar: ${calendar.statusCode} ${calendar.body}`)
  const res = await t.api('POST', '/api/v1/services', {
    token: t.adminToken,
    body: {
      name: `Service ${suffix()}`,
      description: 'A service',
      status: 'live',
      ownerTeamId: team.id,
      supportTeamId: team.id,
      hoursCalendarId: calendar.json().id,
      costCentreId: await factoryCostCentre(t),
      ...body
    }
  })
  if (res.statusCode !== 201) throw new Error(`service: ${res.statusCode} ${res.body}`)
  return res.json() as Record<string, any> & { id: string; name: string }
}

/** An API token made through the API; answers the row and its secret (shown only once). */
export async function makeApiToken(
  t: TestApp,
  body: { scopes: string[]; name?: string; userId?: string; organisationId?: string; expiresAt?: string },
  token?: string
) {
  const res = await t.api('POST', '/api/v1/api-tokens', {
    token: token ?? t.adminToken,
    body: { name: `Token ${suffix()}`, ...body }
  })
  if (res.statusCode !== 201) throw new Error(`api token: ${res.statusCode} ${res.body}`)
  return res.json() as { id: string; token: string; prefix: string; userId: string; scopes: string[] }
}

/** Every history entry of a ticket, oldest first. */
export async function historyOf(t: TestApp, collection: string, id: string) {
  const res = await t.api('GET', `/api/v1/${collection}/${id}/history?limit=500`)
  if (res.statusCode !== 200) throw new Error(`history: ${res.statusCode} ${res.body}`)
  return res.json().items as {
    action: string
    actor: string
    changes: { field: string; old: unknown; new: unknown }[]
  }[]
}
