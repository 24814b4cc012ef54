import { and, asc, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, users } from '../../src/db/schema/index.js'
import { buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { makeOrganisation, makeUser } from '../helpers/factories.js'
import { versionOfEtag } from '../helpers/http.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

const body = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  displayName: `Name of ${username}`,
  roles: ['technician'],
  password: PASSWORD,
  ...extra
})

describe('users', () => {
  let t: TestApp
  let adminId: string
  const exists = async (username: string) =>
    (await t.db.select({ id: users.id }).from(users).where(eq(users.username, username))).length > 0

  beforeAll(async () => {
    t = await buildTestApp()
    adminId = (await t.api('GET', '/api/v1/auth/me')).json().user.id
  })
  afterAll(async () => t?.close())

  it('creates a user: 201 with an ETag, and no password hash in the answer', async () => {
    const org = await makeOrganisation(t)
    const res = await t.api('POST', '/api/v1/users', {
      body: body('alice', { email: 'alice@example.com', phone: '+44 20 7946 0000', organisationId: org.id })
    })
    expect(res.statusCode).toBe(201)
    expect(versionOfEtag(res.headers.etag)).toBe(1)
    const user = res.json()
    expect(user).toMatchObject({
      username: 'alice',
      email: 'alice@example.com',
      organisationId: org.id,
      roles: ['technician'],
      active: true,
      authSource: 'local',
      version: 1
    })
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(res.body).not.toMatch(/passwordHash|password|scrypt\$/)

    const got = await t.api('GET', `/api/v1/users/${user.id}`)
    expect(got.statusCode).toBe(200)
    expect(versionOfEtag(got.headers.etag)).toBe(1)
    expect(got.json()).toEqual(user)
    // The new user can sign in with the password given
    expect((await t.login('alice', PASSWORD)).startsWith('sds_')).toBe(true)
  })

  it('refuses a duplicate username whatever its case: 409 naming username', async () => {
    await makeUser(t, ['technician'], { username: 'Bob.Smith' })
    const res = await t.api('POST', '/api/v1/users', { body: body('bob.SMITH') })
    const problem = expectProblem(res, 409, 'CONFLICT')
    expect(fieldsOf(problem)).toContain('username')
    expect(await exists('bob.SMITH')).toBe(false)
  })

  it('lets only one of two concurrent creates with the same username win', async () => {
    const create = (username: string) => t.api('POST', '/api/v1/users', { body: body(username) })
    const answers = await Promise.all([create('racer'), create('RACER')])
    expect(answers.map(r => r.statusCode).sort()).toEqual([201, 409])
    expectProblem(answers.find(r => r.statusCode === 409)!, 409, 'CONFLICT')
    const rows = await t.db.select({ id: users.id }).from(users).where(sql`lower(${users.username}) = 'racer'`)
    expect(rows).toHaveLength(1)
  })

  it.each([
    ['isAdmin', { isAdmin: true }],
    ['passwordHash', { passwordHash: 'scrypt$16384$8$1$aaaa$bbbb' }],
    ['version', { version: 7 }],
    ['id', { id: '00000000-0000-7000-8000-000000000001' }]
  ])('refuses the unknown or read-only field %s with 400 and creates nothing', async (field, extra) => {
    const username = `sneaky-${field.toLowerCase()}`
    const res = await t.api('POST', '/api/v1/users', { body: body(username, extra) })
    const problem = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(fieldsOf(problem)).toContain(field)
    expect(await exists(username)).toBe(false)
  })

  it.each([
    ['email', { email: 'not-an-email' }],
    ['password', { password: 'elevenchars' }],
    ['roles', { roles: [] }],
    ['roles.0', { roles: ['superuser'] }],
    ['roles', { roles: ['technician', 'technician'] }],
    ['username', { username: 'has space' }],
    ['displayName', { displayName: '' }],
    ['phone', { phone: 'call me maybe' }]
  ])('refuses a bad %s with 400 naming it', async (field, extra) => {
    const username = `bad-${field.replace('.', '-')}-${Math.random().toString(36).slice(2, 8)}`
    const res = await t.api('POST', '/api/v1/users', { body: body(username, extra) })
    const problem = expectProblem(res, 400)
    expect(fieldsOf(problem)).toContain(field)
    expect(await exists(username)).toBe(false)
  })

  it('refuses a missing required field, naming it', async () => {
    const res = await t.api('POST', '/api/v1/users', { body: { username: 'no-roles', displayName: 'x' } })
    expect(fieldsOf(expectProblem(res, 400))).toContain('roles')
  })

  it('refuses an organisation that does not exist with 422 naming organisationId', async () => {
    const res = await t.api('POST', '/api/v1/users', {
      body: body('orphan', { organisationId: '00000000-0000-7000-8000-00000000beef' })
    })
    expect(fieldsOf(expectProblem(res, 422))).toContain('organisationId')
    expect(await exists('orphan')).toBe(false)
  })

  it('a role change takes effect on the next request', async () => {
    const tech = await makeUser(t, ['technician'])
    expect((await t.api('GET', '/api/v1/incidents', { token: tech.token })).statusCode).toBe(200)
    const res = await t.edit(`/api/v1/users/${tech.id}`, { body: { roles: ['finance'] } })
    expect(res.statusCode).toBe(200)
    expect(res.json().roles).toEqual(['finance'])
    expect(versionOfEtag(res.headers.etag)).toBe(2)
    expectProblem(await t.api('GET', '/api/v1/incidents', { token: tech.token }), 403, 'FORBIDDEN')
    // And back again
    await t.edit(`/api/v1/users/${tech.id}`, { body: { roles: ['technician'] } })
    expect((await t.api('GET', '/api/v1/incidents', { token: tech.token })).statusCode).toBe(200)
  })

  it('a password change lets the new password in and keeps the old one out', async () => {
    const user = await makeUser(t, ['technician'])
    const newPassword = 'another-long-password-2'
    expect((await t.edit(`/api/v1/users/${user.id}`, { body: { password: newPassword } })).statusCode).toBe(200)
    expect((await t.login(user.username, newPassword)).startsWith('sds_')).toBe(true)
    await expect(t.login(user.username, PASSWORD)).rejects.toThrow(/401/)
  })

  it('an admin cannot disable or demote themselves (422)', async () => {
    const off = await t.edit(`/api/v1/users/${adminId}`, { body: { active: false } })
    expect(fieldsOf(expectProblem(off, 422))).toContain('active')
    const demote = await t.edit(`/api/v1/users/${adminId}`, { body: { roles: ['technician'] } })
    expect(fieldsOf(expectProblem(demote, 422))).toContain('roles')
    const me = await t.api('GET', '/api/v1/auth/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().user).toMatchObject({ active: true, roles: ['admin'], version: 1 })
  })

  it('an admin may still disable another admin', async () => {
    const other = await makeUser(t, ['admin'])
    const res = await t.edit(`/api/v1/users/${other.id}`, { body: { active: false } })
    expect(res.statusCode).toBe(200)
    expectProblem(await t.api('GET', '/api/v1/auth/me', { token: other.token }), 401)
  })

  it('refuses an empty or unknown patch', async () => {
    const user = await makeUser(t, ['technician'])
    expectProblem(await t.api('PATCH', `/api/v1/users/${user.id}`, { body: {} }), 400)
    const res = await t.api('PATCH', `/api/v1/users/${user.id}`, { body: { username: 'renamed' } })
    expect(fieldsOf(expectProblem(res, 400))).toContain('username')
    expectProblem(
      await t.api('PATCH', '/api/v1/users/00000000-0000-7000-8000-000000000000', { body: { displayName: 'x' } }),
      404
    )
  })

  it('writes audit rows for create and update, without the password', async () => {
    const user = await makeUser(t, ['technician'], { displayName: 'Before' })
    await t.edit(`/api/v1/users/${user.id}`, {
      body: { displayName: 'After', password: 'a-brand-new-password' }
    })
    const rows = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'user'), eq(auditLog.entityId, user.id)))
      .orderBy(asc(auditLog.id))
    const actions = rows.map(r => r.action)
    expect(actions[0]).toBe('created')
    expect(actions).toContain('updated')
    const created = rows[0]!
    expect(created.actorId).toBe(adminId)
    expect(created.changes).toEqual(expect.arrayContaining([{ field: 'roles', old: null, new: ['technician'] }]))
    const updated = rows.find(r => r.action === 'updated')!
    expect(updated.actorId).toBe(adminId)
    expect(updated.changes).toEqual(
      expect.arrayContaining([
        { field: 'displayName', old: 'Before', new: 'After' },
        { field: 'password', old: '(hidden)', new: '(changed)' }
      ])
    )
    expect(JSON.stringify(rows)).not.toContain('a-brand-new-password')
    expect(JSON.stringify(rows)).not.toContain(PASSWORD)
  })

  it('lists users with filters and pages through them by cursor', async () => {
    const org = await makeOrganisation(t)
    const made = [
      await makeUser(t, ['customer'], { organisationId: org.id }),
      await makeUser(t, ['customer'], { organisationId: org.id }),
      await makeUser(t, ['customer'], { organisationId: org.id })
    ]
    const byOrg = await t.api('GET', `/api/v1/users?organisationId=${org.id}`)
    expect(byOrg.json().items.map((u: { id: string }) => u.id)).toEqual(made.map(u => u.id))
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await t.api('GET', `/api/v1/users?organisationId=${org.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()
      expect(page.items.length).toBe(1)
      seen.push(page.items[0]!.id)
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(made.map(u => u.id))

    const admins = await t.api('GET', '/api/v1/users?role=admin&limit=500')
    expect(admins.json().items.every((u: { roles: string[] }) => u.roles.includes('admin'))).toBe(true)
    const q = await t.api('GET', `/api/v1/users?q=${made[1]!.username.toUpperCase()}`)
    expect(q.json().items.map((u: { id: string }) => u.id)).toEqual([made[1]!.id])
    // LIKE wildcards are matched literally
    expect((await t.api('GET', '/api/v1/users?q=%25')).json().items).toEqual([])
  })

  it('anyone may read themselves; a customer may not read another user', async () => {
    const customer = await makeUser(t, ['customer'])
    expect((await t.api('GET', `/api/v1/users/${customer.id}`, { token: customer.token })).statusCode).toBe(200)
    expectProblem(await t.api('GET', `/api/v1/users/${adminId}`, { token: customer.token }), 403)
  })
})
