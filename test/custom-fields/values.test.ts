import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configurationItems, customFieldDefinitions } from '../../src/db/schema/index.js'
import type { Queryable } from '../../src/lib/context.js'
import { AppError } from '../../src/lib/errors.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/factories.js'

type Values = TestApp['app']['services']['customFields']['values']

/** What resolve() refused: the field errors of its 422. */
async function refused(p: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(AppError)
  expect((err as AppError).status).toBe(422)
  expect((err as AppError).code).toBe('VALIDATION_FAILED')
  return (err as AppError).errors ?? []
}

/** A query handle that counts the SELECTs sent through it. */
function counting(db: Queryable) {
  const counter = { selects: 0 }
  const q = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'select') counter.selects++
      return Reflect.get(target, prop, receiver)
    }
  })
  return { q, counter }
}

describe('custom-field value engine', () => {
  let t: TestApp
  let values: Values
  let user: { id: string }
  let user2: { id: string }
  let inactiveUser: { id: string }
  const ci = uuidv7()
  const ci2 = uuidv7()
  const missing = '0190f5d2-7b7a-7c3e-9d3a-1f2e3d4c5b6a'

  async function define(body: Record<string, unknown>) {
    const res = await t.api('POST', '/api/v1/custom-fields', { body: { kind: 'change', label: 'L', ...body } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string }
  }

  beforeAll(async () => {
    t = await buildTestApp()
    values = t.app.services.customFields.values
    user = await makeUser(t, ['technician'])
    user2 = await makeUser(t, ['customer'])
    inactiveUser = await makeUser(t, ['technician'])
    const off = await t.edit(`/api/v1/users/${inactiveUser.id}`, { body: { active: false } })
    expect(off.statusCode, off.body).toBe(200)
    await t.db.insert(configurationItems).values([
      { id: ci, name: 'db01' },
      { id: ci2, name: 'db02' }
    ])
    await define({ key: 'note', type: 'text', position: 1 })
    await define({ key: 'effort', type: 'number', defaultValue: 1, position: 2 })
    await define({ key: 'due', type: 'date', position: 3 })
    await define({ key: 'urgent', type: 'boolean', defaultValue: false, position: 4 })
    await define({ key: 'site', type: 'choice', options: ['Leeds', 'York'], required: true, position: 0 })
    await define({ key: 'tags', type: 'multichoice', options: ['db', 'net', 'os'], position: 5 })
    await define({ key: 'owner', type: 'user', position: 6 })
    await define({ key: 'server', type: 'ci', position: 7 })
    await define({ key: 'retired', type: 'text', position: 8, active: false })
    await define({ kind: 'incident', key: 'reason', type: 'text', required: true })
    await define({ kind: 'incident', key: 'areas', type: 'multichoice', options: ['a', 'b'], required: true })
  })
  afterAll(async () => t?.close())

  it('answers active definitions in form order, and specs of every key for the filter compiler', async () => {
    const defs = await values.definitions(t.db, 'change')
    expect(defs.map(d => d.key)).toEqual(['site', 'note', 'effort', 'due', 'urgent', 'tags', 'owner', 'server'])
    const specs = await values.specs(t.db, 'change')
    expect(specs.get('retired')).toEqual({ key: 'retired', type: 'text' })
    expect(specs.get('tags')).toEqual({ key: 'tags', type: 'multichoice', options: ['db', 'net', 'os'] })
    expect(specs.get('effort')).toEqual({ key: 'effort', type: 'number' })
    expect(specs.size).toBe(9)
    expect((await values.specs(t.db, 'release')).size).toBe(0)
  })

  it('accepts a good value of every type on create, applies defaults and reports each as a change', async () => {
    const input = {
      site: 'York',
      note: 'Swap the disk',
      due: '2024-02-29',
      tags: ['os', 'db'],
      owner: user.id,
      server: ci,
      urgent: true
    }
    const { values: stored, changes } = await values.resolve(t.db, 'change', input, null)
    expect(stored).toEqual({ ...input, effort: 1 })
    expect(changes).toEqual([
      { field: 'customFields.site', old: null, new: 'York' },
      { field: 'customFields.note', old: null, new: 'Swap the disk' },
      { field: 'customFields.effort', old: null, new: 1 },
      { field: 'customFields.due', old: null, new: '2024-02-29' },
      { field: 'customFields.urgent', old: null, new: true },
      { field: 'customFields.tags', old: null, new: ['os', 'db'] },
      { field: 'customFields.owner', old: null, new: user.id },
      { field: 'customFields.server', old: null, new: ci }
    ])
  })

  it('refuses a missing required field on create, and an explicit null skips a default', async () => {
    expect(await refused(values.resolve(t.db, 'change', { note: 'x' }, null))).toEqual([
      { field: 'customFields.site', message: 'required' }
    ])
    expect(await refused(values.resolve(t.db, 'change', undefined, null))).toEqual([
      { field: 'customFields.site', message: 'required' }
    ])
    expect(await refused(values.resolve(t.db, 'change', { site: null }, null))).toEqual([
      { field: 'customFields.site', message: 'required' }
    ])
    const { values: stored } = await values.resolve(t.db, 'change', { site: 'Leeds', effort: null }, null)
    expect(stored).toEqual({ site: 'Leeds', urgent: false })
    // Required text and multichoice must say something
    const blank = await refused(values.resolve(t.db, 'incident', { reason: '  ', areas: [] }, null))
    expect(blank.map(e => e.field)).toEqual(['customFields.reason', 'customFields.areas'])
  })

  it('reports every bad value at once, each named customFields.<key>', async () => {
    const errors = await refused(
      values.resolve(
        t.db,
        'change',
        {
          site: 'Hull',
          note: 'x'.repeat(10_001),
          effort: '3',
          due: '2023-02-29',
          urgent: 'yes',
          tags: ['db', 'db'],
          owner: missing,
          server: missing,
          colour: 'red',
          retired: 'again'
        },
        null
      )
    )
    expect(errors).toEqual([
      { field: 'customFields.site', message: 'must be one of: Leeds, York' },
      { field: 'customFields.note', message: 'must be at most 10000 characters' },
      { field: 'customFields.effort', message: 'must be a number' },
      { field: 'customFields.due', message: 'must be a date as YYYY-MM-DD' },
      { field: 'customFields.urgent', message: 'must be true or false' },
      { field: 'customFields.tags', message: 'must be a list of distinct options from: db, net, os' },
      { field: 'customFields.colour', message: 'unknown field for change' },
      { field: 'customFields.retired', message: 'field is inactive' },
      { field: 'customFields.owner', message: 'must be an existing active user' },
      { field: 'customFields.server', message: 'must be an existing configuration item' }
    ])
  })

  it.each([
    ['note', 42],
    ['note', ['a']],
    ['effort', Number.NaN],
    ['effort', Number.POSITIVE_INFINITY],
    ['effort', true],
    ['due', '2024-13-01'],
    ['due', '2024-1-01'],
    ['due', '2024-01-01T00:00:00Z'],
    ['due', 20240101],
    ['urgent', 0],
    ['site', 'leeds'],
    ['site', ['Leeds']],
    ['tags', 'db'],
    ['tags', ['db', 'web']],
    ['tags', [1]],
    ['owner', 'alice'],
    ['owner', 7],
    ['server', 'db01']
  ])('refuses %s = %j', async (key, value) => {
    const errors = await refused(values.resolve(t.db, 'change', { site: 'Leeds', [key]: value }, null))
    expect(errors.map(e => e.field)).toEqual([`customFields.${key}`])
  })

  it.each([
    ['note', ''],
    ['effort', -0.5],
    ['effort', 0],
    ['due', '2000-02-29'],
    ['urgent', false],
    ['tags', []],
    ['tags', ['net']]
  ])('accepts %s = %j', async (key, value) => {
    const { values: stored } = await values.resolve(t.db, 'change', { site: 'Leeds', [key]: value }, null)
    expect(stored[key]).toEqual(value)
  })

  it('checks user and ci references with one query each, however many values', async () => {
    await define({ key: 'approver', type: 'user', position: 10 })
    await define({ key: 'standby', type: 'user', position: 11 })
    await define({ key: 'host', type: 'ci', position: 12 })
    const { q, counter } = counting(t.db)
    const input = { site: 'Leeds', owner: user.id, approver: user2.id, standby: user.id, server: ci, host: ci2 }
    const { values: stored } = await values.resolve(q, 'change', input, null)
    expect(stored).toMatchObject(input)
    // definitions (no cache in tests), users, configuration items
    expect(counter.selects).toBe(3)

    const errors = await refused(
      values.resolve(t.db, 'change', { site: 'Leeds', owner: inactiveUser.id, approver: missing, host: user.id }, null)
    )
    expect(errors).toEqual([
      { field: 'customFields.owner', message: 'must be an existing active user' },
      { field: 'customFields.approver', message: 'must be an existing active user' },
      { field: 'customFields.host', message: 'must be an existing configuration item' }
    ])
    // Upper-case ids are the same ids
    const upper = await values.resolve(t.db, 'change', { site: 'Leeds', owner: user.id.toUpperCase() }, null)
    expect(upper.values.owner).toBe(user.id)
  })

  it('merges on update: no defaults, no required check for absent keys, null clears', async () => {
    const existing = { site: 'Leeds', note: 'old note', effort: 2, retired: 'kept', tags: ['db'] }
    const merged = await values.resolve(t.db, 'change', { effort: 3, due: '2025-01-31' }, existing)
    expect(merged.values).toEqual({ ...existing, effort: 3, due: '2025-01-31' })
    expect(merged.changes).toEqual([
      { field: 'customFields.effort', old: 2, new: 3 },
      { field: 'customFields.due', old: null, new: '2025-01-31' }
    ])

    const cleared = await values.resolve(t.db, 'change', { note: null, tags: null, owner: null }, existing)
    expect(cleared.values).toEqual({ site: 'Leeds', effort: 2, retired: 'kept' })
    expect(cleared.changes).toEqual([
      { field: 'customFields.note', old: 'old note', new: null },
      { field: 'customFields.tags', old: ['db'], new: null }
    ])

    const same = await values.resolve(t.db, 'change', { site: 'Leeds', tags: ['db'] }, existing)
    expect(same.changes).toEqual([])
    expect((await values.resolve(t.db, 'change', undefined, existing)).values).toEqual(existing)

    expect(await refused(values.resolve(t.db, 'change', { site: null }, existing))).toEqual([
      { field: 'customFields.site', message: 'required' }
    ])
    // An inactive field may be sent back unchanged, never changed
    const roundTrip = await values.resolve(t.db, 'change', { ...existing, effort: 5 }, existing)
    expect(roundTrip.changes).toEqual([{ field: 'customFields.effort', old: 2, new: 5 }])
    expect(await refused(values.resolve(t.db, 'change', { retired: 'new' }, existing))).toEqual([
      { field: 'customFields.retired', message: 'field is inactive' }
    ])
    expect(await refused(values.resolve(t.db, 'change', { retired: null }, existing))).toEqual([
      { field: 'customFields.retired', message: 'field is inactive' }
    ])
  })

  it('sees a field retired or added through the admin API at once', async () => {
    const def = await define({ key: 'flip', type: 'boolean', position: 20 })
    expect((await values.resolve(t.db, 'change', { site: 'Leeds', flip: true }, null)).values.flip).toBe(true)
    await t.api('PATCH', `/api/v1/custom-fields/${def.id}`, { body: { active: false, version: 1 } })
    expect(await refused(values.resolve(t.db, 'change', { site: 'Leeds', flip: true }, null))).toEqual([
      { field: 'customFields.flip', message: 'field is inactive' }
    ])
  })
})

describe('custom-field definitions cache', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ AUTH_CACHE_TTL_MS: '60000' })
  })
  afterAll(async () => t?.close())

  it('caches definitions per kind and drops them on any definition write', async () => {
    const values = t.app.services.customFields.values
    expect(await values.definitions(t.db, 'problem')).toEqual([])
    // Written behind the service's back: the cache does not see it yet
    await t.db
      .insert(customFieldDefinitions)
      .values({ id: uuidv7(), kind: 'problem', key: 'hidden', label: 'H', type: 'text' })
    expect(await values.definitions(t.db, 'problem')).toEqual([])
    const { q, counter } = counting(t.db)
    await values.specs(q, 'problem')
    expect(counter.selects).toBe(0)

    const res = await t.api('POST', '/api/v1/custom-fields', {
      body: { kind: 'problem', key: 'shown', label: 'S', type: 'text', position: 1 }
    })
    expect(res.statusCode, res.body).toBe(201)
    expect((await values.definitions(t.db, 'problem')).map(d => d.key)).toEqual(['hidden', 'shown'])

    await t.api('PATCH', `/api/v1/custom-fields/${res.json().id}`, { body: { active: false, version: 1 } })
    expect((await values.definitions(t.db, 'problem')).map(d => d.key)).toEqual(['hidden'])
    values.invalidate()
    expect((await values.specs(t.db, 'problem')).size).toBe(2)
  })
})
