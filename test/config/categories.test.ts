import { inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { categories } from '../../src/db/schema/index.js'
import { uuidv7 } from '../../src/lib/ids.js'
import { resolveCategory } from '../../src/modules/categories/categories.service.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf as auditRows } from '../helpers/audit.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

interface Cat {
  id: string
  kind: string
  parentId: string | null
  name: string
  path: string
  depth: number
  active: boolean
}

describe('categories', () => {
  let t: TestApp
  let customer: { token: string }
  let technician: { token: string }

  async function create(body: Record<string, unknown>): Promise<Cat> {
    const res = await t.api('POST', '/api/v1/categories', { body })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }
  const get = async (id: string): Promise<Cat> => (await t.api('GET', `/api/v1/categories/${id}`)).json()
  /** PATCH at the version just read (If-Match with the ETag), as every edit must send. */
  const patch = async (id: string, body: Record<string, unknown>, token?: string) => {
    const { etag } = (await t.api('GET', `/api/v1/categories/${id}`)).headers
    const headers: Record<string, string> = typeof etag === 'string' ? { 'if-match': etag } : {}
    return t.api('PATCH', `/api/v1/categories/${id}`, { body, headers, ...(token ? { token } : {}) })
  }
  const auditOf = (id: string) => auditRows(t, 'category', id)

  beforeAll(async () => {
    t = await buildTestApp()
    customer = await makeUser(t, ['customer'])
    technician = await makeUser(t, ['technician'])
  })
  afterAll(async () => t?.close())

  it('creates roots and children with paths and depths, audited', async () => {
    const hw = await create({ kind: 'incident', name: 'Hardware' })
    expect(hw).toMatchObject({ kind: 'incident', parentId: null, name: 'Hardware', path: 'Hardware', depth: 1 })
    const laptop = await create({ kind: 'incident', name: 'Laptop', parentId: hw.id })
    expect(laptop).toMatchObject({ parentId: hw.id, path: 'Hardware / Laptop', depth: 2, active: true })
    expect(await get(laptop.id)).toEqual(laptop)
    const audit = await auditOf(laptop.id)
    expect(audit.map(a => a.action)).toEqual(['created'])
    expect(audit[0]!.changes).toContainEqual({ field: 'path', old: null, new: 'Hardware / Laptop' })
  })

  it('rewrites the paths of the whole subtree on rename, auditing each', async () => {
    const a = await create({ kind: 'problem', name: 'Network' })
    const b = await create({ kind: 'problem', name: 'WAN', parentId: a.id })
    const c = await create({ kind: 'problem', name: 'MPLS', parentId: b.id })
    const d = await create({ kind: 'problem', name: 'Provider X', parentId: c.id })
    const sibling = await create({ kind: 'problem', name: 'LAN', parentId: a.id })

    const res = await patch(a.id, { name: 'Networking' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ name: 'Networking', path: 'Networking' })
    expect((await get(b.id)).path).toBe('Networking / WAN')
    expect((await get(c.id)).path).toBe('Networking / WAN / MPLS')
    expect((await get(d.id)).path).toBe('Networking / WAN / MPLS / Provider X')
    expect((await get(sibling.id)).path).toBe('Networking / LAN')

    expect((await auditOf(a.id)).at(-1)).toMatchObject({
      action: 'updated',
      changes: [
        { field: 'name', old: 'Network', new: 'Networking' },
        { field: 'path', old: 'Network', new: 'Networking' }
      ]
    })
    expect((await auditOf(d.id)).at(-1)).toMatchObject({
      action: 'path_updated',
      changes: [
        { field: 'path', old: 'Network / WAN / MPLS / Provider X', new: 'Networking / WAN / MPLS / Provider X' }
      ]
    })

    // Renaming a middle node touches only what is beneath it
    await patch(c.id, { name: 'MPLS core' })
    expect((await get(d.id)).path).toBe('Networking / WAN / MPLS core / Provider X')
    expect((await get(sibling.id)).path).toBe('Networking / LAN')
  })

  it('moves a subtree to another parent or to the root, paths following', async () => {
    const sw = await create({ kind: 'change', name: 'Software' })
    const hw = await create({ kind: 'change', name: 'Hardware' })
    const os = await create({ kind: 'change', name: 'OS', parentId: hw.id })
    const patchC = await create({ kind: 'change', name: 'Patching', parentId: os.id })

    const moved = await patch(os.id, { parentId: sw.id })
    expect(moved.statusCode, moved.body).toBe(200)
    expect(moved.json()).toMatchObject({ parentId: sw.id, path: 'Software / OS', depth: 2 })
    expect(await get(patchC.id)).toMatchObject({ path: 'Software / OS / Patching', depth: 3 })

    const toRoot = await patch(os.id, { parentId: null, name: 'Operating systems' })
    expect(toRoot.json()).toMatchObject({ parentId: null, path: 'Operating systems', depth: 1 })
    expect((await get(patchC.id)).path).toBe('Operating systems / Patching')
    expect((await auditOf(os.id)).at(-1)!.changes).toEqual([
      { field: 'name', old: 'OS', new: 'Operating systems' },
      { field: 'parentId', old: sw.id, new: null },
      { field: 'path', old: 'Software / OS', new: 'Operating systems' }
    ])
  })

  it('refuses a move under itself or its own descendant (409 parentId), leaving paths alone', async () => {
    const a = await create({ kind: 'release', name: 'Apps' })
    const b = await create({ kind: 'release', name: 'Web', parentId: a.id })
    const c = await create({ kind: 'release', name: 'Shop', parentId: b.id })
    for (const target of [a.id, b.id, c.id]) {
      const res = expectProblem(await patch(a.id, { parentId: target }), 409, 'CONFLICT')
      expect(fieldsOf(res)).toEqual(['parentId'])
    }
    expect(fieldsOf(expectProblem(await patch(b.id, { parentId: c.id }), 409))).toEqual(['parentId'])
    expect((await get(c.id)).path).toBe('Apps / Web / Shop')
    expect((await get(a.id)).parentId).toBeNull()
  })

  it('refuses a parent of another kind or one that does not exist (422 parentId)', async () => {
    const inc = await create({ kind: 'incident', name: 'Access' })
    const req = await create({ kind: 'request', name: 'Access' })
    const wrongKind = expectProblem(
      await t.api('POST', '/api/v1/categories', { body: { kind: 'request', name: 'VPN', parentId: inc.id } }),
      422,
      'VALIDATION_FAILED'
    )
    expect(fieldsOf(wrongKind)).toEqual(['parentId'])
    expect(fieldsOf(expectProblem(await patch(req.id, { parentId: inc.id }), 422))).toEqual(['parentId'])
    const ghost = '00000000-0000-7000-8000-000000000000'
    expect(
      fieldsOf(
        expectProblem(
          await t.api('POST', '/api/v1/categories', { body: { kind: 'request', name: 'X', parentId: ghost } }),
          422
        )
      )
    ).toEqual(['parentId'])
  })

  it('keeps sibling names unique regardless of case (409 name), on create, rename and move', async () => {
    const root = await create({ kind: 'incident', name: 'Email' })
    await create({ kind: 'incident', name: 'Outlook', parentId: root.id })
    const clash = await t.api('POST', '/api/v1/categories', {
      body: { kind: 'incident', name: 'OUTLOOK', parentId: root.id }
    })
    expect(fieldsOf(expectProblem(clash, 409))).toEqual(['name'])
    // The same name elsewhere in the tree, or in another kind's tree, is fine
    const elsewhere = await create({ kind: 'incident', name: 'Outlook' })
    await create({ kind: 'problem', name: 'Email' })
    expect(fieldsOf(expectProblem(await patch(elsewhere.id, { parentId: root.id }), 409))).toEqual(['name'])
    const gmail = await create({ kind: 'incident', name: 'Gmail', parentId: root.id })
    expect(fieldsOf(expectProblem(await patch(gmail.id, { name: 'outlook' }), 409))).toEqual(['name'])
    // A change of case on itself is no clash
    expect((await patch(gmail.id, { name: 'GMail' })).json().path).toBe('Email / GMail')
  })

  it('nests at most five levels deep, on create and on move (422 parentId)', async () => {
    let parent = await create({ kind: 'problem', name: 'L1' })
    const chain = [parent]
    for (let i = 2; i <= 5; i++) {
      parent = await create({ kind: 'problem', name: `L${i}`, parentId: parent.id })
      chain.push(parent)
    }
    expect(parent.depth).toBe(5)
    const tooDeep = await t.api('POST', '/api/v1/categories', {
      body: { kind: 'problem', name: 'L6', parentId: parent.id }
    })
    expect(fieldsOf(expectProblem(tooDeep, 422))).toEqual(['parentId'])
    // A two-level subtree fits under level 3 but not under level 4
    const top = await create({ kind: 'problem', name: 'Branch' })
    await create({ kind: 'problem', name: 'Leaf', parentId: top.id })
    expect(fieldsOf(expectProblem(await patch(top.id, { parentId: chain[3]!.id }), 422))).toEqual(['parentId'])
    expect((await patch(top.id, { parentId: chain[2]!.id })).statusCode).toBe(200)
  })

  it('answers 400 naming the field for malformed input', async () => {
    for (const [body, field] of [
      [{ kind: 'incident', name: 'A/B' }, 'name'],
      [{ kind: 'incident', name: ' padded' }, 'name'],
      [{ kind: 'incident', name: '' }, 'name'],
      [{ kind: 'ticket', name: 'X' }, 'kind'],
      [{ name: 'X' }, 'kind'],
      [{ kind: 'incident', name: 'X', parentId: 'nope' }, 'parentId'],
      [{ kind: 'incident', name: 'X', path: 'Y' }, 'path']
    ] as const) {
      const res = expectProblem(await t.api('POST', '/api/v1/categories', { body }), 400)
      expect(fieldsOf(res), JSON.stringify(body)).toContain(field)
    }
    const root = await create({ kind: 'incident', name: 'Malformed' })
    expect(fieldsOf(expectProblem(await patch(root.id, {}), 400)).length).toBeGreaterThan(0)
    expect(fieldsOf(expectProblem(await patch(root.id, { kind: 'problem' }), 400))).toContain('kind')
    expectProblem(await t.api('GET', '/api/v1/categories/00000000-0000-7000-8000-000000000000'), 404, 'NOT_FOUND')
    expectProblem(await patch('00000000-0000-7000-8000-000000000000', { name: 'x' }), 404)
  })

  it('lets staff and customers read, only admins write; customers see active ones only', async () => {
    const root = await create({ kind: 'request', name: 'Printing' })
    const off = await create({ kind: 'request', name: 'Plotters', parentId: root.id, active: false })
    expectProblem(
      await t.api('POST', '/api/v1/categories', { token: technician.token, body: { kind: 'request', name: 'T' } }),
      403,
      'FORBIDDEN'
    )
    expectProblem(await patch(root.id, { name: 'Print' }, customer.token), 403)
    expect((await t.api('GET', `/api/v1/categories/${off.id}`, { token: technician.token })).statusCode).toBe(200)
    expectProblem(await t.api('GET', `/api/v1/categories/${off.id}`, { token: customer.token }), 404)
    const mine = await t.api('GET', `/api/v1/categories?parentId=${root.id}`, { token: customer.token })
    expect(mine.json().items).toEqual([])
    const staff = await t.api('GET', `/api/v1/categories?parentId=${root.id}`, { token: technician.token })
    expect(staff.json().items.map((c: Cat) => c.id)).toEqual([off.id])
    // An admin's token without the admin scope reads but cannot write
    const reader = await makeApiToken(t, { scopes: ['tickets:read'] })
    expect((await t.api('GET', '/api/v1/categories', { token: reader.token })).statusCode).toBe(200)
    const denied = expectProblem(
      await t.api('POST', '/api/v1/categories', { token: reader.token, body: { kind: 'request', name: 'Z' } }),
      403
    )
    expect(denied.missingScope).toBe('admin')
    expectProblem(await t.api('GET', '/api/v1/categories', { token: null }), 401)
    // Deactivation is audited like any write
    await patch(root.id, { active: false })
    expect((await auditOf(root.id)).at(-1)).toMatchObject({
      action: 'updated',
      changes: [{ field: 'active', old: true, new: false }]
    })
  })

  it('lists in path order with filters, paging with a cursor', async () => {
    const root = await create({ kind: 'release', name: 'Zeta' })
    for (const n of ['c', 'a', 'b']) await create({ kind: 'release', name: n, parentId: root.id })
    const all = (await t.api('GET', `/api/v1/categories?kind=release&parentId=${root.id}`)).json()
    expect(all.items.map((c: Cat) => c.path)).toEqual(['Zeta / a', 'Zeta / b', 'Zeta / c'])
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const qs: string = `kind=release&parentId=${root.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await t.api('GET', `/api/v1/categories?${qs}`)).json()
      seen.push(...page.items.map((c: Cat) => c.path))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(['Zeta / a', 'Zeta / b', 'Zeta / c'])
    const roots = (await t.api('GET', '/api/v1/categories?kind=release&parentId=root&limit=500')).json()
    expect(roots.items.every((c: Cat) => c.parentId === null && c.kind === 'release')).toBe(true)
    expect(roots.items.map((c: Cat) => c.id)).toContain(root.id)
    const q = (await t.api('GET', '/api/v1/categories?q=zeta%20/%20b')).json()
    expect(q.items.map((c: Cat) => c.path)).toEqual(['Zeta / b'])
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/categories?cursor=garbage!'), 400))).toEqual(['cursor'])
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/categories?parentId=top'), 400))).toContain('parentId')
  })

  it('answers a kind’s tree as nested nodes; customers and activeOnly get active branches only', async () => {
    const tree = await t.api('GET', '/api/v1/categories/tree?kind=change')
    expect(tree.statusCode, tree.body).toBe(200)
    const body = tree.json()
    expect(body).toMatchObject({ kind: 'change', truncated: false, note: null })
    const software = body.items.find((n: { name: string }) => n.name === 'Software')
    expect(software).toBeDefined()
    const os = body.items.find((n: { name: string }) => n.name === 'Operating systems')
    expect(os.children).toEqual([
      {
        id: expect.any(String),
        name: 'Patching',
        path: 'Operating systems / Patching',
        depth: 2,
        active: true,
        children: []
      }
    ])
    const count = (nodes: { children: unknown[] }[]): number =>
      nodes.reduce((n, c) => n + 1 + count(c.children as { children: unknown[] }[]), 0)
    expect(count(body.items)).toBe(body.total)

    // An inactive branch disappears, children and all, for customers and for activeOnly
    await patch(os.id, { active: false })
    for (const [url, token] of [
      ['/api/v1/categories/tree?kind=change', customer.token],
      ['/api/v1/categories/tree?kind=change&activeOnly=true', t.adminToken]
    ] as const) {
      const res = (await t.api('GET', url, { token })).json()
      expect(res.items.map((n: { name: string }) => n.name)).not.toContain('Operating systems')
      expect(res.total).toBe(body.total - 2)
    }
    expect(fieldsOf(expectProblem(await t.api('GET', '/api/v1/categories/tree'), 400))).toContain('kind')
  })

  it('resolveCategory answers id and path, or 422 categoryId', async () => {
    const root = await create({ kind: 'incident', name: 'Telephony' })
    const leaf = await create({ kind: 'incident', name: 'Desk phone', parentId: root.id })
    expect(await resolveCategory(t.db, 'incident', leaf.id)).toEqual({ id: leaf.id, path: 'Telephony / Desk phone' })
    const refused = async (kind: 'incident' | 'problem', id: string) => {
      const err = await resolveCategory(t.db, kind, id).then(
        () => null,
        e => e
      )
      expect(err).toMatchObject({ status: 422, errors: [{ field: 'categoryId' }] })
    }
    await refused('problem', leaf.id)
    await refused('incident', '00000000-0000-7000-8000-000000000000')
    await refused('incident', 'not-a-uuid')
    await patch(root.id, { active: false })
    await refused('incident', leaf.id) // under an inactive category
    await patch(root.id, { active: true })
    await patch(leaf.id, { active: false })
    await refused('incident', leaf.id)
  })

  it('trims a tree beyond 5000 nodes with a note, and refuses to grow one past it', async () => {
    // Straight into the table: 5001 roots is more than the API itself would ever let in
    const rows = Array.from({ length: 5001 }, (_, i) => ({
      id: uuidv7(),
      kind: 'release',
      name: `bulk ${String(i).padStart(5, '0')}`,
      path: `bulk ${String(i).padStart(5, '0')}`
    }))
    for (let i = 0; i < rows.length; i += 1000) await t.db.insert(categories).values(rows.slice(i, i + 1000))
    const tree = (await t.api('GET', '/api/v1/categories/tree?kind=release')).json()
    expect(tree.truncated).toBe(true)
    expect(tree.total).toBeGreaterThan(5001)
    expect(tree.note).toMatch(/5000/)
    const count = (nodes: { children: unknown[] }[]): number =>
      nodes.reduce((n, c) => n + 1 + count(c.children as { children: unknown[] }[]), 0)
    expect(count(tree.items)).toBe(5000)
    const full = expectProblem(
      await t.api('POST', '/api/v1/categories', { body: { kind: 'release', name: 'one more' } }),
      409
    )
    expect(fieldsOf(full)).toEqual(['kind'])
    await t.db.delete(categories).where(
      inArray(
        categories.id,
        rows.map(r => r.id)
      )
    )
  })
})
