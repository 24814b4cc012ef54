import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { makeApiToken } from '../helpers/factories.js'

/** A 4xx problem+json answer whose `errors` name `field` (and whose detail contains `detail`, if given). */
export function expectProblem(res: LightMyRequestResponse, status: number, field: string, detail?: string | RegExp) {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
  const body = res.json()
  expect(body.errors.map((e: { field: string }) => e.field)).toContain(field)
  if (detail) expect(body.detail).toMatch(detail)
  return body
}

/** No token answers 401; a token of the same integration user without events:write answers 403. */
export async function expectIngestAuth(t: TestApp, userId: string, url: string, body: unknown) {
  const anonymous = await t.api('POST', url, { token: null, body })
  expect(anonymous.statusCode, anonymous.body).toBe(401)
  expect(anonymous.headers['content-type']).toMatch(/application\/problem\+json/)
  const readOnly = await makeApiToken(t, { scopes: ['tickets:read', 'tickets:write'], userId, name: 'no ingest' })
  const forbidden = await t.api('POST', url, { token: readOnly.token, body })
  expect(forbidden.statusCode, forbidden.body).toBe(403)
  expect(forbidden.headers['content-type']).toMatch(/application\/problem\+json/)
}

/** The incident as people see it. */
export async function incident(t: TestApp, id: string) {
  const res = await t.api('GET', `/api/v1/incidents/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Its notes, oldest first. */
export async function notes(t: TestApp, id: string): Promise<{ body: string }[]> {
  const res = await t.api('GET', `/api/v1/incidents/${id}/notes?limit=100`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().items
}
