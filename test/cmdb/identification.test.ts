import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ciKeys,
  hostKeys,
  normaliseHost,
  normaliseMac,
  normaliseSerial,
  normaliseUuid
} from '../../src/lib/ci-identity.js'
import { event, makeIntegration, post } from '../events/helpers.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeTeam } from '../helpers/factories.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

describe('one spelling of every CI identification key (lib/ci-identity)', () => {
  it('host names and FQDNs: case, spaces and the root dot do not matter', () => {
    for (const v of ['db1.example.com', 'DB1.Example.COM', 'db1.example.com.', ' db1.example.com.. ']) {
      expect(normaliseHost(v)).toBe('db1.example.com')
    }
    expect(normaliseHost('  ')).toBeNull()
    expect(hostKeys('DB1.Example.com.:5432')).toEqual({ fqdn: 'db1.example.com', hostname: 'db1' })
    expect(hostKeys('[::1]:80')).toEqual({ hostname: '::1' })
    expect(hostKeys('10.0.0.1:9100')).toEqual({ hostname: '10.0.0.1' })
  })

  it('serials: trimmed, upper-case; firmware placeholders identify nothing', () => {
    expect(normaliseSerial('  sn-abc ')).toBe('SN-ABC')
    for (const v of [
      'To be filled by O.E.M.',
      'to be filled by o.e.m.',
      '0',
      '0000',
      'None',
      'Default string',
      ' ',
      '-'
    ]) {
      expect(normaliseSerial(v), v).toBeNull()
    }
  })

  it('MACs: colon, dash, Cisco dotted and bare hex are one address', () => {
    for (const v of ['aa:bb:cc:dd:ee:01', 'AA-BB-CC-DD-EE-01', 'aabb.ccdd.ee01', 'AABBCCDDEE01']) {
      expect(normaliseMac(v), v).toBe('aa:bb:cc:dd:ee:01')
    }
    for (const v of ['aa:bb-cc:dd:ee:01', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'aa:bb:cc', 'zz:bb:cc:dd:ee:01']) {
      expect(normaliseMac(v), v).toBeNull()
    }
  })

  it('UUIDs: case, braces, urn prefix and missing dashes do not matter; nil and all-F are nothing', () => {
    const want = '4c4c4544-0042-3510-8058-b7c04f564d31'
    for (const v of [want, want.toUpperCase(), `{${want}}`, `urn:uuid:${want}`, want.replaceAll('-', '')]) {
      expect(normaliseUuid(v), v).toBe(want)
    }
    expect(normaliseUuid('00000000-0000-0000-0000-000000000000')).toBeNull()
    expect(normaliseUuid('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF')).toBeNull()
    expect(ciKeys({ serial: 'None', hostname: ' ' })).toBeNull()
  })
})

describe('the same identifier variants find the same CI through the CMDB API and through events', () => {
  let t: TestApp
  let token: string
  let ci: { id: string; serial: string; macAddress: string; systemUuid: string; fqdn: string }
  const UUID = '4c4c4544-0042-3510-8058-b7c04f564d31'

  beforeAll(async () => {
    t = await buildTestApp()
    token = (await makeIntegration(t)).token
    const team = await makeTeam(t)
    const res = await t.api('POST', '/api/v1/cis', {
      body: {
        name: 'db1',
        fqdn: 'DB1.Example.com.',
        serial: ' sn-77x ',
        macAddress: 'AA-BB-CC-DD-EE-01',
        systemUuid: `{${UUID.toUpperCase()}}`,
        supportTeamId: team.id
      }
    })
    expect(res.statusCode, res.body).toBe(201)
    ci = res.json()
  })
  afterAll(async () => t?.close())

  it('stores every key in its one spelling', () => {
    expect(ci).toMatchObject({
      fqdn: 'db1.example.com',
      serial: 'SN-77X',
      macAddress: 'aa:bb:cc:dd:ee:01',
      systemUuid: UUID
    })
  })

  const variants: [string, Record<string, string>][] = [
    ['fqdn', { fqdn: 'db1.example.com.' }],
    ['fqdn', { fqdn: 'DB1.EXAMPLE.COM' }],
    ['serial', { serial: 'sn-77x' }],
    ['serial', { serial: '  SN-77X ' }],
    ['macAddress', { macAddress: 'aabb.ccdd.ee01' }],
    ['macAddress', { macAddress: 'aa:bb:cc:dd:ee:01' }],
    ['systemUuid', { systemUuid: UUID.replaceAll('-', '').toUpperCase() }]
  ]

  it.each(variants)('the CMDB list filter %s=%j finds it', async (_key, ref) => {
    const res = await t.api('GET', `/api/v1/cis?${new URLSearchParams(ref)}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().items.map((c: { id: string }) => c.id)).toEqual([ci.id])
  })

  it.each([
    ...variants,
    ['host name written as an FQDN with the root dot', { hostname: 'db1.example.com.' }],
    ['FQDN despite a placeholder serial', { serial: 'To be filled by O.E.M.', fqdn: 'Db1.Example.Com.' }]
  ] as [string, Record<string, string>][])('an event naming it by %s %j links it', async (_key, ref) => {
    const res = await post(t, token, '/api/v1/events', event({ ci: ref }))
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json().action).toBe('opened')
    const alert = (await t.api('GET', `/api/v1/alerts/${res.json().alertId}`)).json()
    expect(alert.ciId).toBe(ci.id)
  })

  it('a placeholder serial alone identifies nothing, in the CMDB and in events', async () => {
    const other = await t.api('POST', '/api/v1/cis', { body: { name: 'no-serial', serial: 'To be filled by O.E.M.' } })
    expect(other.json().serial).toBeNull()
    const listed = await t.api('GET', '/api/v1/cis?serial=To%20be%20filled%20by%20O.E.M.')
    expect(listed.json().items).toEqual([])
    const res = await post(t, token, '/api/v1/events', event({ ci: { serial: 'Default string' } }))
    expect(res.json().action).toBe('opened')
    expect((await t.api('GET', `/api/v1/alerts/${res.json().alertId}`)).json().ciId).toBeNull()
  })

  it('refuses a MAC or UUID that names no machine, naming the field', async () => {
    const mac = await t.api('POST', '/api/v1/cis', { body: { name: 'x', macAddress: '00:00:00:00:00:00' } })
    expect(fieldsOf(expectProblem(mac, 422))).toEqual(['macAddress'])
    const uuid = await t.api('PATCH', `/api/v1/cis/${ci.id}`, {
      body: { systemUuid: '00000000-0000-0000-0000-000000000000' }
    })
    expect(fieldsOf(expectProblem(uuid, 422))).toEqual(['systemUuid'])
    const bad = await t.api('POST', '/api/v1/cis', { body: { name: 'x', macAddress: 'not a mac' } })
    expect(fieldsOf(expectProblem(bad, 400))).toContain('macAddress')
  })

  it('GraphQL answers the same keys', async () => {
    const res = await t.gql(
      'query($m: String) { cis(macAddress: $m) { edges { node { id macAddress systemUuid serial } } } }',
      { m: 'AABB.CCDD.EE01' }
    )
    expect(res.body.errors).toBeUndefined()
    expect(res.body.data!.cis.edges.map((e: { node: { id: string } }) => e.node)).toEqual([
      { id: ci.id, macAddress: 'aa:bb:cc:dd:ee:01', systemUuid: UUID, serial: 'SN-77X' }
    ])
  })
})
