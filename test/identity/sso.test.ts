import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeSsoUser } from '../helpers/factories.js'

const PROXY = '10.0.0.5'

/** One raw HTTP/1.1 request over a real socket, so headers can repeat or be spelled two ways. */
function rawRequest(port: number, lines: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${lines.map(l => `${l}\r\n`).join('')}\r\n`
      )
    })
    let data = ''
    socket.on('data', d => {
      data += String(d)
    })
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)))
    socket.on('error', reject)
  })
}

describe('request-header SSO', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({
      SSO_USER_HEADER: 'X-Remote-User',
      SSO_TRUSTED_PROXIES: `${PROXY}, 192.168.50.0/24, ::1`,
      SSO_NAME_HEADER: 'X-Remote-Name',
      SSO_MAIL_HEADER: 'X-Remote-Mail',
      SSO_GROUPS_HEADER: 'X-Remote-Groups',
      SSO_PROVISION: 'true',
      DIRECTORY_ROLE_MAP: JSON.stringify({ 'itsm-agents': ['technician'], 'itsm-admins': ['admin'] })
    })
  })
  afterAll(async () => t?.close())

  const me = (headers: Record<string, string>, remoteAddress = PROXY) =>
    t.app.inject({ url: '/api/v1/auth/me', remoteAddress, headers })
  const rejections = async () =>
    (await t.api('GET', '/api/v1/auth/events?kind=sso.rejected&limit=500')).json().items as {
      ip: string
      detail: { reason: string }
    }[]

  it('believes the trusted proxy and gives the same actor a login would', async () => {
    const user = await makeSsoUser(t, ['technician'], { username: 'jdoe' })
    const res = await me({ 'x-remote-user': 'jdoe' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ user: { id: user.id, username: 'jdoe' }, via: 'sso' })
    // and it works for real work: incidents list, create
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      remoteAddress: '192.168.50.7',
      headers: { 'x-remote-user': 'jdoe' },
      payload: { title: 'via SSO' }
    })
    expect(created.statusCode).toBe(201)
    expect(created.json().createdById).toBe(user.id)
  })

  it('maps CORP\\JDoe and jdoe@CORP.EXAMPLE.COM to the same account', async () => {
    for (const name of ['CORP\\JDoe', 'jdoe@CORP.EXAMPLE.COM', '  jdoe  ']) {
      const res = await me({ 'x-remote-user': name })
      expect(res.statusCode, name).toBe(200)
      expect(res.json().user.username).toBe('jdoe')
    }
  })

  it('ignores identity headers from anyone but the proxy, and records it', async () => {
    const res = await me({ 'x-remote-user': 'jdoe' }, '203.0.113.9')
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('UNAUTHENTICATED')
    // X-Forwarded-For does not make a client a proxy
    const forged = await me({ 'x-remote-user': 'jdoe', 'x-forwarded-for': PROXY }, '203.0.113.9')
    expect(forged.statusCode).toBe(401)
    const events = await rejections()
    expect(events.some(e => e.ip === '203.0.113.9' && e.detail.reason === 'untrusted peer')).toBe(true)
  })

  it('refuses empty values, list values and unknown users even from the proxy', async () => {
    expect((await me({ 'x-remote-user': '   ' })).statusCode).toBe(401)
    expect((await me({ 'x-remote-user': 'alice, bob' })).statusCode).toBe(401)
    const reasons = (await rejections()).map(e => e.detail.reason)
    expect(reasons).toEqual(expect.arrayContaining(['empty value', 'list value']))
  })

  it('provisions an unknown user from the headers, mapping groups to roles but never to admin', async () => {
    const res = await me({
      'x-remote-user': 'new.person@example.org',
      'x-remote-name': 'New Person',
      'x-remote-mail': 'new.person@example.org',
      'x-remote-groups': 'itsm-agents;itsm-admins'
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().user).toMatchObject({
      username: 'new.person',
      displayName: 'New Person',
      email: 'new.person@example.org',
      roles: ['technician'],
      authSource: 'sso'
    })
    const inc = await makeIncident(t)
    const staff = await t.app.inject({
      url: `/api/v1/incidents/${inc.id}`,
      remoteAddress: PROXY,
      headers: { 'x-remote-user': 'new.person' }
    })
    expect(staff.statusCode).toBe(200)
    const users = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      remoteAddress: PROXY,
      headers: { 'x-remote-user': 'new.person' },
      payload: { username: 'sneaky', displayName: 'S', roles: ['admin'], password: 'a-good-password-1' }
    })
    expect(users.statusCode).toBe(403)
  })

  it('refuses a user disabled locally', async () => {
    const user = await makeSsoUser(t, ['technician'], { username: 'leaver' })
    expect((await me({ 'x-remote-user': 'leaver' })).statusCode).toBe(200)
    await t.edit(`/api/v1/users/${user.id}`, { body: { active: false } })
    expect((await me({ 'x-remote-user': 'leaver' })).statusCode).toBe(401)
  })

  it('prefers a bearer token when both are sent', async () => {
    const res = await me({ 'x-remote-user': 'jdoe', authorization: `Bearer ${t.adminToken}` })
    expect(res.json().user.username).toBe('admin')
  })

  describe('over a real socket from the trusted proxy (loopback)', () => {
    let port = 0
    let s: TestApp
    beforeAll(async () => {
      s = await buildTestApp({
        SSO_USER_HEADER: 'SM_USER',
        SSO_TRUSTED_PROXIES: '127.0.0.1',
        SSO_SESSION_HEADER: 'SM_SERVERSESSIONID'
      })
      await makeSsoUser(s, ['technician'], { username: 'jdoe' })
      await s.app.listen({ port: 0, host: '127.0.0.1' })
      port = (s.app.server.address() as { port: number }).port
    })
    afterAll(async () => s?.close())

    it('accepts one header with the session header', async () => {
      expect(await rawRequest(port, ['SM_USER: jdoe', 'SM_SERVERSESSIONID: abc='])).toBe(200)
    })
    it('refuses a repeated identity header (arrives merged as "alice, bob")', async () => {
      expect(await rawRequest(port, ['SM_USER: alice', 'SM_USER: jdoe', 'SM_SERVERSESSIONID: abc='])).toBe(401)
    })
    it('refuses when the alias spelling SM-USER is present too', async () => {
      expect(await rawRequest(port, ['SM_USER: jdoe', 'SM-USER: admin', 'SM_SERVERSESSIONID: abc='])).toBe(401)
      expect(await rawRequest(port, ['SM-USER: jdoe', 'SM_SERVERSESSIONID: abc='])).toBe(401)
    })
    it('requires the agent session header', async () => {
      expect(await rawRequest(port, ['SM_USER: jdoe'])).toBe(401)
      expect(await rawRequest(port, ['SM_USER: jdoe', 'SM_SERVERSESSIONID:  '])).toBe(401)
    })
  })
})

describe('SSO configuration', () => {
  it('needs trusted proxies with a user header', async () => {
    const { loadConfig } = await import('../../src/config.js')
    expect(() => loadConfig({ SSO_USER_HEADER: 'X-Remote-User' })).toThrow(/SSO_TRUSTED_PROXIES/)
    expect(() => loadConfig({ DIRECTORY_ROLE_MAP: '{nope' })).toThrow(/DIRECTORY_ROLE_MAP/)
  })
})
