import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../src/lib/errors.js'
import { assertCisExist, relatedCiIds } from '../../src/modules/cmdb/cis.repository.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

const NOWHERE = '00000000-0000-7000-8000-000000000000'

/** The helpers the change calendar and change service use, against the real database. */
describe('relatedCiIds and assertCisExist', () => {
  let t: TestApp
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    t = await buildTestApp()
    for (const name of ['app', 'db', 'vm', 'san', 'lonely']) {
      ids[name] = ((await t.api('POST', '/api/v1/cis', { body: { name } })).json() as { id: string }).id
    }
    const relate = async (from: string, to: string, type: string) => {
      const res = await t.api('POST', `/api/v1/cis/${ids[from]}/relationships`, { body: { targetId: ids[to], type } })
      expect(res.statusCode).toBe(201)
    }
    await relate('app', 'db', 'depends_on')
    await relate('app', 'vm', 'runs_on')
    await relate('db', 'vm', 'runs_on')
    await relate('vm', 'san', 'connects_to')
    // Two relationships between the same pair count once
    await relate('app', 'db', 'connects_to')
  })
  afterAll(async () => t?.close())

  it('answers each CI its direct neighbours, both directions, one hop only', async () => {
    const map = await relatedCiIds(t.db, [ids.app!, ids.vm!, ids.lonely!, ids.app!])
    expect([...map.keys()].sort()).toEqual([ids.app, ids.vm, ids.lonely].sort())
    expect([...map.get(ids.app!)!].sort()).toEqual([ids.db, ids.vm].sort())
    // vm: app and db run on it (incoming), it connects to the SAN (outgoing)
    expect([...map.get(ids.vm!)!].sort()).toEqual([ids.app, ids.db, ids.san].sort())
    expect(map.get(ids.lonely!)!.size).toBe(0)
    // san is two hops from app: not a neighbour
    expect(map.get(ids.app!)!.has(ids.san!)).toBe(false)
    expect((await relatedCiIds(t.db, [])).size).toBe(0)
    expect(map.has(NOWHERE)).toBe(false)
    expect((await relatedCiIds(t.db, [NOWHERE, 'not-a-uuid'])).get(NOWHERE)!.size).toBe(0)
  })

  it('passes when every CI exists, else a 422 naming the field and listing the missing ids', async () => {
    await expect(assertCisExist(t.db, [ids.app!, ids.db!, ids.app!], 'ciIds')).resolves.toBeUndefined()
    await expect(assertCisExist(t.db, [], 'ciIds')).resolves.toBeUndefined()
    const err = await assertCisExist(t.db, [ids.app!, NOWHERE, 'junk'], 'ciIds').catch(e => e)
    expect(err).toBeInstanceOf(AppError)
    expect(err.status).toBe(422)
    expect(err.errors).toEqual([{ field: 'ciIds', message: expect.stringContaining(NOWHERE) }])
    expect(err.errors[0].message).toContain('junk')
    expect(err.errors[0].message).not.toContain(ids.app)
  })
})
