import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from './helpers/app.js'

describe('smoke', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp()
  })
  afterAll(async () => t?.close())

  it('creates and lists an incident', async () => {
    const created = await t.api('POST', '/api/v1/incidents', { body: { title: 'Mail is down' } })
    expect(created.statusCode).toBe(201)
    const list = await t.api('GET', '/api/v1/incidents')
    expect(list.json().items.map((i: { title: string }) => i.title)).toContain('Mail is down')
  })
})
