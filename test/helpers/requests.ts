import type { TestApp } from './app.js'
import { suffix } from './factories.js'

/** A catalog offering made through the API (admin). */
export async function makeOffering(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/api/v1/catalog/offerings', { body: { name: `Offering ${suffix()}`, ...body } })
  if (res.statusCode !== 201) throw new Error(`offering: ${res.statusCode} ${res.body}`)
  return res.json() as Record<string, any> & { id: string; name: string; teamId: string | null; tasks: string[] }
}

export async function makeRequest(t: TestApp, body: Record<string, unknown>, token?: string) {
  const res = await t.api('POST', '/api/v1/requests', {
    token: token ?? t.adminToken,
    body: { title: `Request ${suffix()}`, ...body }
  })
  if (res.statusCode !== 201) throw new Error(`request: ${res.statusCode} ${res.body}`)
  return res.json() as Record<string, any> & { id: string; number: string; version: number; status: string }
}

export async function tasksOf(t: TestApp, requestId: string, token?: string) {
  const res = await t.api('GET', `/api/v1/requests/${requestId}/tasks`, { token: token ?? t.adminToken })
  if (res.statusCode !== 200) throw new Error(`tasks: ${res.statusCode} ${res.body}`)
  return res.json().items as (Record<string, any> & { id: string; title: string; status: string })[]
}
