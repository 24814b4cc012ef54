import { and, asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

const URL = '/api/v1/custom-fields'

interface Definition {
  id: string
  kind: string
  key: string
  label: string
  type: string
  required: boolean
  defaultValue: unknown
  options: string[]
  position: number
  active: boolean
  version: number
  createdAt: string
  updatedAt: string
}

describe('custom-field definitions over REST', () => {
  let t: TestApp
  let technician: { token: string }
  let customer: { token: string }

  async function define(body: Record<string, unknown>): Promise<Definition> {
    const res = await t.api('POST', URL, { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Definition
  }

  const audits = (entityId: string) =>
    t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'custom_field'), eq(auditLog.entityId, entityId)))
      .orderBy(asc(auditLog.id))

  beforeAll(async () => {
    t = await buildTestApp()
    technician = await makeUser(t, ['technician'])
    customer = await makeUser(t, ['customer'])
  })
  afterAll(async () => t?.close())

  it('creates, reads, updates and deactivates a definition, auditing every write', async () => {
    const res = await t.api('POST', URL, {
      body: {
        kind: 'change',
        key: 'site',
        label: 'Site',
        type: 'choice',
        options: ['Leeds', 'York'],
        defaultValue: 'Leeds',
        position: 3
      }
    })
    expect(res.statusCode, res.body).toBe(201)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    const def = res.json() as Definition
    expect(def).toMatchObject({
      kind: 'change',
      key: 'site',
      label: 'Site',
      type: 'choice',
      required: false,
      defaultValue: 'Leeds',
      options: ['Leeds', 'York'],
      position: 3,
      active: true,
      version: 1
    })
    expect(Number.isNaN(Date.parse(def.createdAt))).toBe(false)

    const got = await t.api('GET', `${URL}/${def.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toEqual(def)

    const patched = await t.api('PATCH', `${URL}/${def.id}`, {
      body: { label: 'Site name', options: ['Leeds', 'York', 'Hull'], required: true },
      headers: { 'if-match': '"1"' }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(versionOfEtag(patched.headers.etag)).toBe(2)
    expect(patched.json()).toMatchObject({ label: 'Site name', options: ['Leeds', 'York', 'Hull'], version: 2 })

    const stale = await t.api('PATCH', `${URL}/${def.id}`, { body: { label: 'x' }, headers: { 'if-match': '"1"' } })
    expect(expectProblem(stale, 412).currentVersion).toBe(2)

    const cleared = await t.api('PATCH', `${URL}/${def.id}`, {
      body: { defaultValue: null, active: false },
      headers: { 'if-match': '"2"' }
    })
    expect(cleared.statusCode, cleared.body).toBe(200)
    expect(cleared.json()).toMatchObject({ defaultValue: null, active: false, version: 3 })

    const rows = await audits(def.id)
    expect(rows.map(r => r.action)).toEqual(['created', 'updated', 'updated'])
    expect(rows[0]!.changes).toContainEqual({ field: 'key', old: null, new: 'site' })
    expect(rows[1]!.changes).toEqual([
      { field: 'label', old: 'Site', new: 'Site name' },
      { field: 'required', old: false, new: true },
      { field: 'options', old: ['Leeds', 'York'], new: ['Leeds', 'York', 'Hull'] }
    ])
    expect(rows[2]!.changes).toEqual([
      { field: 'defaultValue', old: 'Leeds', new: null },
      { field: 'active', old: true, new: false }
    ])
  })

  it('has no delete: fields are retired with active=false', async () => {
    const def = await define({ kind: 'incident', key: 'noDelete', label: 'No delete', type: 'text' })
    const res = await t.api('DELETE', `${URL}/${def.id}`)
    // the path exists without DELETE: 405 naming what it takes (issue 10 #9; was 404)
    expect(res.statusCode).toBe(405)
    expect(String(res.headers.allow)).toContain('PATCH')
    expect((await t.api('GET', `${URL}/${def.id}`)).statusCode).toBe(200)
  })

  it('lists by kind, position and key with filters and keyset pages', async () => {
    const made = [
      await define({ kind: 'release', key: 'bKey', label: 'B', type: 'text', position: 1 }),
      await define({ kind: 'release', key: 'aKey', label: 'A', type: 'text', position: 1 }),
      await define({ kind: 'release', key: 'first', label: 'F', type: 'number', position: 0 }),
      await define({ kind: 'release', key: 'retired', label: 'R', type: 'boolean', position: 0, active: false }),
      await define({ kind: 'problem', key: 'other', label: 'O', type: 'date' })
    ]
    const keys: string[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const res = await t.api('GET', `${URL}?kind=release&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json() as { items: Definition[]; nextCursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(2)
      keys.push(...page.items.map(d => d.key))
      cursor = page.nextCursor
      if (!cursor) break
    }
    expect(keys).toEqual(['first', 'retired', 'aKey', 'bKey'])

    const active = await t.api('GET', `${URL}?kind=release&active=true`)
    expect(active.json().items.map((d: Definition) => d.key)).toEqual(['first', 'aKey', 'bKey'])
    const inactive = await t.api('GET', `${URL}?kind=release&active=false`)
    expect(inactive.json().items.map((d: Definition) => d.key)).toEqual(['retired'])

    const all = (await t.api('GET', `${URL}?limit=500`)).json().items as Definition[]
    const kinds = all.map(d => d.kind)
    expect(kinds).toEqual([...kinds].sort())
    expect(all.map(d => d.id)).toEqual(expect.arrayContaining(made.map(d => d.id)))

    expect(fieldsOf(expectProblem(await t.api('GET', `${URL}?cursor=nonsense`), 400))).toContain('cursor')
    expect(fieldsOf(expectProblem(await t.api('GET', `${URL}?kind=widget`), 400))).toContain('kind')
  })

  it('refuses a second field with the same kind and key (409 naming key), but not on another kind', async () => {
    await define({ kind: 'request', key: 'costCode', label: 'Cost code', type: 'text' })
    const dup = await t.api('POST', URL, { body: { kind: 'request', key: 'costCode', label: 'Again', type: 'number' } })
    expect(fieldsOf(expectProblem(dup, 409, 'CONFLICT'))).toEqual(['key'])
    await define({ kind: 'incident', key: 'costCode', label: 'Cost code', type: 'text' })

    // Two at once: the unique index settles the race, still as a 409 naming key
    const racing = await Promise.all(
      [1, 2].map(() => t.api('POST', URL, { body: { kind: 'problem', key: 'raced', label: 'Raced', type: 'text' } }))
    )
    expect(racing.map(r => r.statusCode).sort()).toEqual([201, 409])
    expect(fieldsOf(racing.find(r => r.statusCode === 409)!.json())).toEqual(['key'])
  })

  it.each([
    [{ key: 'Site' }, 'key'],
    [{ key: '1site' }, 'key'],
    [{ key: 'a'.repeat(64) }, 'key'],
    [{ key: 'with-dash' }, 'key'],
    [{ kind: 'ticket' }, 'kind'],
    [{ type: 'colour' }, 'type'],
    [{ label: '' }, 'label'],
    [{ position: -1 }, 'position'],
    [{ options: ['a', 'a'] }, 'options'],
    [{ options: ['x'.repeat(201)] }, 'options.0'],
    [{ options: Array.from({ length: 201 }, (_, i) => `o${i}`) }, 'options'],
    [{ version: 3 }, 'version']
  ])('refuses a malformed definition %j with 400 naming %s', async (patch, field) => {
    const body = { kind: 'change', key: 'good', label: 'Good', type: 'choice', options: ['a'], ...patch }
    const res = await t.api('POST', URL, { body })
    expect(fieldsOf(expectProblem(res, 400))).toContain(field)
  })

  it.each([
    [{ type: 'choice' }, 'options', 'required'],
    [{ type: 'multichoice', options: [] }, 'options', 'required'],
    [{ type: 'text', options: ['a'] }, 'options', 'not allowed'],
    [{ type: 'number', defaultValue: 'seven' }, 'defaultValue', 'number'],
    [{ type: 'number', defaultValue: '7' }, 'defaultValue', 'number'],
    [{ type: 'date', defaultValue: '2024-02-30' }, 'defaultValue', 'YYYY-MM-DD'],
    [{ type: 'boolean', defaultValue: 'yes' }, 'defaultValue', 'true or false'],
    [{ type: 'text', defaultValue: 'x'.repeat(10_001) }, 'defaultValue', '10000'],
    [{ type: 'choice', options: ['a', 'b'], defaultValue: 'c' }, 'defaultValue', 'one of: a, b'],
    [{ type: 'multichoice', options: ['a', 'b'], defaultValue: 'a' }, 'defaultValue', 'distinct options'],
    [{ type: 'multichoice', options: ['a', 'b'], defaultValue: ['a', 'a'] }, 'defaultValue', 'distinct options'],
    [{ type: 'user', defaultValue: '00000000-0000-4000-8000-000000000000' }, 'defaultValue', 'cannot have a default'],
    [{ type: 'ci', defaultValue: '00000000-0000-4000-8000-000000000000' }, 'defaultValue', 'cannot have a default']
  ])('refuses an invalid definition %j with 422 naming %s', async (patch, field, words) => {
    const res = await t.api('POST', URL, { body: { kind: 'change', key: 'bad', label: 'Bad', ...patch } })
    const problem = expectProblem(res, 422, 'VALIDATION_FAILED')
    expect(problem.errors).toContainEqual({ field, message: expect.stringContaining(words) })
  })

  it('accepts a default of every defaultable type', async () => {
    const cases: [string, unknown, string[]?][] = [
      ['text', 'hello'],
      ['number', 2.5],
      ['date', '2024-02-29'],
      ['boolean', false],
      ['choice', 'b', ['a', 'b']],
      ['multichoice', ['b', 'a'], ['a', 'b']]
    ]
    for (const [type, defaultValue, options] of cases) {
      const def = await define({
        kind: 'problem',
        key: `default_${type}`,
        label: type,
        type,
        defaultValue,
        ...(options ? { options } : {})
      })
      expect(def.defaultValue).toEqual(defaultValue)
    }
  })

  it('keeps kind, key and type fixed and refuses bad updates', async () => {
    const def = await define({
      kind: 'change',
      key: 'risk',
      label: 'Risk',
      type: 'multichoice',
      options: ['low', 'high', 'extreme'],
      defaultValue: ['low']
    })
    for (const body of [{ kind: 'incident' }, { key: 'other' }, { type: 'text' }]) {
      const res = await t.api('PATCH', `${URL}/${def.id}`, { body })
      expect(fieldsOf(expectProblem(res, 400))).toEqual(Object.keys(body))
    }
    expectProblem(await t.api('PATCH', `${URL}/${def.id}`, { body: {} }), 400)

    // Removing the option the default uses is refused naming options; changing both at once is fine
    const v1 = { 'if-match': '"1"' }
    const drop = await t.api('PATCH', `${URL}/${def.id}`, { body: { options: ['high', 'extreme'] }, headers: v1 })
    expect(fieldsOf(expectProblem(drop, 422))).toEqual(['options'])
    const empty = await t.api('PATCH', `${URL}/${def.id}`, { body: { options: [], defaultValue: null }, headers: v1 })
    expect(fieldsOf(expectProblem(empty, 422))).toEqual(['options'])
    const badDefault = await t.api('PATCH', `${URL}/${def.id}`, { body: { defaultValue: ['medium'] }, headers: v1 })
    expect(fieldsOf(expectProblem(badDefault, 422))).toEqual(['defaultValue'])
    const both = await t.api('PATCH', `${URL}/${def.id}`, {
      body: { options: ['high', 'extreme'], defaultValue: ['high'] },
      headers: v1
    })
    expect(both.statusCode, both.body).toBe(200)
    expect(both.json()).toMatchObject({ options: ['high', 'extreme'], defaultValue: ['high'], version: 2 })

    const text = await define({ kind: 'change', key: 'notes2', label: 'Notes', type: 'text' })
    const opts = await t.api('PATCH', `${URL}/${text.id}`, { body: { options: ['a'] }, headers: v1 })
    expect(fieldsOf(expectProblem(opts, 422))).toEqual(['options'])

    const missing = await t.api('PATCH', `${URL}/0190f5d2-7b7a-7c3e-9d3a-1f2e3d4c5b6a`, {
      body: { label: 'x' },
      headers: v1
    })
    expectProblem(missing, 404)
    expect((await audits(def.id)).length).toBe(2)
  })

  it('lets staff and customers read but only admins write', async () => {
    const def = await define({ kind: 'incident', key: 'readable', label: 'Readable', type: 'boolean' })
    for (const who of [technician, customer]) {
      expect((await t.api('GET', `${URL}?kind=incident`, { token: who.token })).statusCode).toBe(200)
      expect((await t.api('GET', `${URL}/${def.id}`, { token: who.token })).statusCode).toBe(200)
      const post = await t.api('POST', URL, {
        token: who.token,
        body: { kind: 'incident', key: 'sneaky', label: 'Sneaky', type: 'text' }
      })
      expectProblem(post, 403, 'FORBIDDEN')
      const patch = await t.api('PATCH', `${URL}/${def.id}`, { token: who.token, body: { label: 'Hacked' } })
      expectProblem(patch, 403, 'FORBIDDEN')
    }
    expect((await t.api('GET', URL, { token: null })).statusCode).toBe(401)
    expect((await t.api('GET', `${URL}/${def.id}`)).json().label).toBe('Readable')
  })

  it('holds an admin token to its scopes: tickets:read reads, only admin writes', async () => {
    const readOnly = await makeApiToken(t, { scopes: ['tickets:read'] })
    expect((await t.api('GET', URL, { token: readOnly.token })).statusCode).toBe(200)
    const post = await t.api('POST', URL, {
      token: readOnly.token,
      body: { kind: 'incident', key: 'scoped', label: 'Scoped', type: 'text' }
    })
    expect(expectProblem(post, 403).missingScope).toBe('admin')

    const cmdbOnly = await makeApiToken(t, { scopes: ['cmdb:read'] })
    expect(expectProblem(await t.api('GET', URL, { token: cmdbOnly.token }), 403).missingScope).toBe('tickets:read')

    const admin = await makeApiToken(t, { scopes: ['admin', 'tickets:read'] })
    const ok = await t.api('POST', URL, {
      token: admin.token,
      body: { kind: 'incident', key: 'scoped', label: 'Scoped', type: 'text' }
    })
    expect(ok.statusCode, ok.body).toBe(201)
    const [row] = await audits(ok.json().id)
    expect(row!.actorLabel).toMatch(/\(token\)$/)
  })
})
