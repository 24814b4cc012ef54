import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'

export interface ProblemJson {
  type: string
  title: string
  status: number
  detail: string
  code: string
  errors?: { field: string; message: string }[]
  [extra: string]: unknown
}

/** Asserts an RFC 9457 answer with this status (and code, when given) and returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number, code?: string): ProblemJson {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = res.json() as ProblemJson
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code: expect.any(String)
  })
  if (code) expect(body.code).toBe(code)
  return body
}

/** The field names a problem's `errors` array complains about. */
export const fieldsOf = (body: ProblemJson): string[] => (body.errors ?? []).map(e => e.field)
