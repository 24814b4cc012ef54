import type { TestApp } from '../helpers/app.js'
import type { makeUser } from '../helpers/factories.js'

export type User = Awaited<ReturnType<typeof makeUser>>

export async function makeProblem(t: TestApp, body: Record<string, unknown> = {}, token?: string) {
  const res = await t.api('POST', '/api/v1/problems', {
    token: token ?? t.adminToken,
    body: { title: 'Disk fills', ...body }
  })
  if (res.statusCode !== 201) throw new Error(`problem: ${res.statusCode} ${res.body}`)
  return res.json() as Record<string, any> & { id: string; number: string; version: number }
}

export const history = async (t: TestApp, kind: string, id: string) =>
  (await t.api('GET', `/api/v1/${kind}/${id}/history`)).json().items as {
    action: string
    changes: { field: string; old: unknown; new: unknown }[]
  }[]
