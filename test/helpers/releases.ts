import { expect } from 'vitest'
import type { TestApp } from './app.js'
import { changeInAuthorize, decide, makeChange, move, setPolicy } from './changes.js'
import { suffix } from './factories.js'

type Json = Record<string, any>

export async function makeRelease(t: TestApp, body: Json, token?: string) {
  const res = await t.api('POST', '/api/v1/releases', {
    token: token ?? t.adminToken,
    body: { title: `Release ${suffix()}`, releaseVersion: `1.${suffix()}`, ...body }
  })
  if (res.statusCode !== 201) throw new Error(`release: ${res.statusCode} ${res.body}`)
  return res.json() as Json & { id: string; number: string; version: number; status: string }
}

/** Moves a release; fails the test on anything but 200. */
export async function moveRelease(t: TestApp, id: string, to: string, token?: string) {
  const res = await t.api('POST', `/api/v1/releases/${id}/transitions`, { token: token ?? t.adminToken, body: { to } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Json
}

export async function bundle(t: TestApp, releaseId: string, changeIds: string[]) {
  const res = await t.api('PUT', `/api/v1/releases/${releaseId}/changes`, { body: { changeIds } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Json
}

/** Normal changes are approved by `approverId` alone (the policy a test sets up once). */
export const approvedBy = (t: TestApp, approverId: string) =>
  setPolicy(t, 'normal', { rule: 'any', approverIds: [approverId] })

/** A normal change taken through the approval engine to scheduled. */
export async function scheduledChange(t: TestApp, approverToken: string) {
  const c = await changeInAuthorize(t)
  const res = await decide(t, 'changes', c.id, approverToken, { decision: 'approve' })
  expect(res.statusCode, res.body).toBe(200)
  const now = (await t.api('GET', `/api/v1/changes/${c.id}`)).json()
  expect(now.status).toBe('scheduled')
  return now as Json & { id: string; number: string }
}

/** A normal change its approver rejected. */
export async function rejectedChange(t: TestApp, approverToken: string) {
  const c = await changeInAuthorize(t)
  const res = await decide(t, 'changes', c.id, approverToken, { decision: 'reject', comment: 'Too risky' })
  expect(res.statusCode, res.body).toBe(200)
  return (await t.api('GET', `/api/v1/changes/${c.id}`)).json() as Json & { id: string; number: string }
}

export async function cancelledChange(t: TestApp) {
  const c = await makeChange(t)
  return move(t, c.id, 'cancelled') as Promise<Json & { id: string; number: string }>
}
