import { expect } from 'vitest'
import type { TestApp } from './app.js'
import { suffix } from './factories.js'

type Json = Record<string, any>

/** A UTC instant on a day of January 2031 (far from now, so nothing else plans there by accident). */
export const at = (day: number, hour = 0) => new Date(Date.UTC(2031, 0, day, hour)).toISOString()

export async function makeChange(t: TestApp, body: Json = {}, token?: string) {
  const res = await t.api('POST', '/api/v1/changes', {
    token: token ?? t.adminToken,
    body: { title: `Change ${suffix()}`, type: 'normal', ...body }
  })
  if (res.statusCode !== 201) throw new Error(`change: ${res.statusCode} ${res.body}`)
  return res.json() as Json & { id: string; number: string; version: number; status: string }
}

export async function makeChangeTemplate(t: TestApp, standard: boolean, values: Json = {}) {
  const res = await t.api('POST', '/api/v1/templates', {
    body: {
      kind: 'change',
      name: `Template ${suffix()}`,
      standard,
      values: { type: standard ? 'standard' : 'normal', ...values }
    }
  })
  if (res.statusCode !== 201) throw new Error(`template: ${res.statusCode} ${res.body}`)
  return res.json() as Json & { id: string }
}

export async function makeCi(t: TestApp, name = `ci-${suffix()}`) {
  const res = await t.api('POST', '/api/v1/cis', { body: { name } })
  if (res.statusCode !== 201) throw new Error(`ci: ${res.statusCode} ${res.body}`)
  return res.json() as Json & { id: string }
}

export async function relate(t: TestApp, sourceId: string, targetId: string, type = 'runs_on') {
  const res = await t.api('POST', `/api/v1/cis/${sourceId}/relationships`, { body: { targetId, type } })
  if (res.statusCode !== 201) throw new Error(`relate: ${res.statusCode} ${res.body}`)
}

/** Sets a change type's policy at the version read (428 without one, like every admin edit). */
export async function setPolicy(t: TestApp, type: string, body: Json) {
  const { version } = (await t.api('GET', `/api/v1/change-approval-policies/${type}`)).json()
  const res = await t.api('PUT', `/api/v1/change-approval-policies/${type}`, { body: { version, ...body } })
  if (res.statusCode !== 200) throw new Error(`policy: ${res.statusCode} ${res.body}`)
  return res.json() as Json
}

/** Moves a change (admin unless a token is given); fails the test on anything but 200. */
export async function move(t: TestApp, id: string, to: string, extra: Json = {}, token?: string) {
  const res = await t.api('POST', `/api/v1/changes/${id}/transitions`, {
    token: token ?? t.adminToken,
    body: { to, ...extra }
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Json
}

/** A planned normal change brought to authorize: a round opens. */
export async function changeInAuthorize(t: TestApp, body: Json = {}) {
  const c = await makeChange(t, { plannedStart: at(1, 8), plannedEnd: at(1, 10), ...body })
  await move(t, c.id, 'assess')
  return move(t, c.id, 'authorize')
}

export const decide = (t: TestApp, collection: string, id: string, token: string, body: Json) =>
  t.api('POST', `/api/v1/${collection}/${id}/approvals`, { token, body })

export const getChange = async (t: TestApp, id: string) => (await t.api('GET', `/api/v1/changes/${id}`)).json() as Json
