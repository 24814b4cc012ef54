import { readFileSync } from 'node:fs'
import { deflateSync, gzipSync, inflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { countRows } from '../helpers/graphql.js'
import { expectProblem } from '../helpers/problem.js'

type Json = Record<string, any>
const example = () =>
  JSON.parse(readFileSync(new URL('../fixtures/glpi-agent-inventory.json', import.meta.url), 'utf8')) as Json
const LIMIT = 2 * 1024 * 1024

describe('POST /api/v1/inventory: GLPI Agent JSON and FusionInventory XML', () => {
  let t: TestApp
  let token: string
  let readOnly: string

  const post = (
    body: Buffer | string,
    contentType: string,
    headers: Record<string, string> = {},
    auth: string | null = token
  ) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory',
      headers: {
        'content-type': contentType,
        ...(auth ? { authorization: `Basic ${Buffer.from(`agent:${auth}`).toString('base64')}` } : {}),
        ...headers
      },
      payload: body
    })
  /** GLPI Agent's error shape: {"status":"error","message"}, with the code and the fields named. */
  const agentError = (res: Awaited<ReturnType<typeof post>>, status: number) => {
    expect(res.statusCode, res.body).toBe(status)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json() as { status: string; message: string; code: string; errors?: { field: string }[] }
    expect(body).toMatchObject({ status: 'error', message: expect.any(String), code: expect.any(String) })
    return { ...body, fields: (body.errors ?? []).map(e => e.field) }
  }
  /** The OCS / FusionInventory error shape: <REPLY><ERROR>…</ERROR></REPLY>, inflated when it came zlib. */
  const xmlError = (res: Awaited<ReturnType<typeof post>>, status: number, zlib = false) => {
    expect(res.statusCode, res.body).toBe(status)
    expect(res.headers['content-type']).toMatch(zlib ? /^application\/x-compress-zlib/ : /^application\/xml/)
    const text = zlib ? inflateSync(res.rawPayload).toString('utf8') : res.body
    const m = /^<\?xml[^>]*\?>\s*<REPLY>\s*<ERROR>([^<]+)<\/ERROR>\s*<\/REPLY>\s*$/.exec(text)
    expect(m, text).not.toBeNull()
    return m![1]!
  }
  const computers = async (name: string) =>
    (await t.api('GET', `/api/v1/cis?class=computer&q=${encodeURIComponent(name)}&limit=500`)).json().items as Json[]

  beforeAll(async () => {
    t = await buildTestApp({ INVENTORY_BODY_LIMIT_BYTES: String(LIMIT) })
    const user = await makeUser(t, ['admin'])
    token = (await makeApiToken(t, { scopes: ['cmdb:import'], userId: user.id })).token
    readOnly = (await makeApiToken(t, { scopes: ['cmdb:read'], userId: user.id })).token
  })
  afterAll(async () => t?.close())

  it('challenges with 401 Basic realm="inventory" without credentials; needs cmdb:import', async () => {
    const none = await post(JSON.stringify(example()), 'application/json', {}, null)
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Basic realm="inventory"')
    const wrong = await post(JSON.stringify(example()), 'application/json', {}, 'sdt_wrong')
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="inventory"')
    expect(agentError(await post(JSON.stringify(example()), 'application/json', {}, readOnly), 403).code).toBe(
      'FORBIDDEN'
    )
    expect(agentError(none, 401).message).toMatch(/token/)
    const bearer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: JSON.stringify({
        action: 'contact',
        deviceid: 'x-2026-01-01-00-00-00',
        name: 'GLPI-Agent',
        version: '1.15'
      })
    })
    expect(bearer.statusCode, bearer.body).toBe(200)
    expect(bearer.json()).toMatchObject({ status: 'ok', expiration: 24, tasks: { inventory: {} } })
  })

  it('maps the GLPI Agent example to one computer with its software, the same as JSON, gzip and zlib', async () => {
    const body = JSON.stringify(example())
    const first = await post(body, 'application/json', { 'glpi-agent-id': '3a609a2e-947f-4e6a-9af9-32c024ac3944' })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toEqual({ status: 'ok', expiration: 24 })
    expect(first.headers['glpi-agent-id']).toBe('3a609a2e-947f-4e6a-9af9-32c024ac3944')
    const [ci] = await computers('srv-app01')
    expect(ci).toMatchObject({
      name: 'srv-app01',
      class: 'computer',
      serial: '7XK2QH3',
      systemUuid: '4c4c4544-0042-3510-8057-b4c04f4e4d32',
      fqdn: 'srv-app01.corp.example.com',
      hostname: 'srv-app01',
      assetTag: 'IT-004211',
      macAddresses: ['b0:7b:25:d1:42:10'],
      attributes: {
        manufacturer: 'Dell Inc.',
        model: 'PowerEdge R650',
        os_name: 'Ubuntu 24.04.1 LTS',
        os_version: '24.04.1 LTS (Noble Numbat)',
        os_kernel: '6.8.0-49-generic',
        cpu: 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz',
        cpu_cores: 32,
        memory_mb: 65210,
        ip_addresses: '10.20.30.41, 172.17.0.1'
      }
    })
    const rels = (await t.api('GET', `/api/v1/cis/${ci!.id}/relationships`)).json().items as Json[]
    expect(rels.map(r => `${r.label} ${r.relatedCi.name}`).sort()).toEqual([
      'has installed nginx 1.24.0-2ubuntu7.1',
      'has installed openssl 3.0.13-0ubuntu3.4',
      'has installed postgresql-16 16.4-0ubuntu0.24.04.2'
    ])
    const audit = await countRows(t, auditLog)
    for (const [payload, type] of [
      [gzipSync(body), 'application/x-compress-gzip'],
      [deflateSync(body), 'application/x-compress-zlib']
    ] as const) {
      const res = await post(payload, type)
      expect(res.statusCode, res.body).toBe(200)
    }
    const again = await post(gzipSync(body), 'application/json', { 'content-encoding': 'gzip' })
    expect(again.statusCode, again.body).toBe(200)
    expect(await computers('srv-app01')).toEqual([ci])
    expect(await countRows(t, auditLog)).toBe(audit)
  })

  it('a reinstalled machine (new deviceid, same serial and UUID) is the same CI; partial inventories replace only their sections', async () => {
    const [before] = await computers('srv-app01')
    const inv = example()
    inv.deviceid = 'srv-app01-2026-11-30-10-00-00'
    expect((await post(JSON.stringify(inv), 'application/json')).statusCode).toBe(200)
    expect(await computers('srv-app01')).toEqual([before])
    const partial = {
      action: 'inventory',
      deviceid: inv.deviceid,
      partial: true,
      content: { versionclient: 'GLPI-Agent_v1.15', softwares: [{ name: 'nginx', version: '1.26.0' }] }
    }
    const res = await post(JSON.stringify(partial), 'application/json')
    expect(res.statusCode, res.body).toBe(200)
    const [after] = await computers('srv-app01')
    expect(after!.attributes).toEqual(before!.attributes)
    expect(after!.serial).toBe(before!.serial)
    const rels = (await t.api('GET', `/api/v1/cis/${after!.id}/relationships`)).json().items as Json[]
    expect(rels.map(r => r.relatedCi.name)).toEqual(['nginx 1.26.0'])
  })

  it('speaks the OCS XML protocol: PROLOG answered SEND in the encoding of the request, then INVENTORY', async () => {
    const prolog =
      '<?xml version="1.0" encoding="UTF-8" ?><REQUEST><DEVICEID>pc-1-2026-01-01-00-00-00</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>'
    const zres = await post(deflateSync(prolog), 'application/x-compress-zlib')
    expect(zres.statusCode, zres.body).toBe(200)
    expect(zres.headers['content-type']).toMatch(/^application\/x-compress-zlib/)
    expect(inflateSync(zres.rawPayload).toString()).toContain(
      '<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>'
    )
    const plain = await post(prolog, 'application/xml')
    expect(plain.body).toContain('<RESPONSE>SEND</RESPONSE>')
    const xml = `<?xml version="1.0" encoding="UTF-8" ?><REQUEST><CONTENT>
      <BIOS><SSN>To Be Filled By O.E.M.</SSN><SMANUFACTURER>System manufacturer</SMANUFACTURER><SMODEL>X99 &amp; Co</SMODEL></BIOS>
      <HARDWARE><NAME>pc-1</NAME><UUID>03000200-0400-0500-0006-000700080009</UUID><MEMORY>16000</MEMORY></HARDWARE>
      <NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>52:54:00:12:34:56</MACADDR><IPADDRESS>10.1.2.3</IPADDRESS><VIRTUALDEV>0</VIRTUALDEV></NETWORKS>
      <NETWORKS><DESCRIPTION>lo</DESCRIPTION><MACADDR>00:00:00:00:00:00</MACADDR><IPADDRESS>127.0.0.1</IPADDRESS><VIRTUALDEV>1</VIRTUALDEV></NETWORKS>
      <SOFTWARES><NAME>bash</NAME><VERSION>5.2</VERSION><FROM>deb</FROM></SOFTWARES>
      <VERSIONCLIENT>FusionInventory-Agent_v2.6</VERSIONCLIENT>
      </CONTENT><DEVICEID>pc-1-2026-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>`
    const inv = await post(deflateSync(xml), 'application/x-compress-zlib')
    expect(inv.statusCode, inv.body).toBe(200)
    const [pc] = await computers('pc-1')
    expect(pc).toMatchObject({
      serial: null,
      systemUuid: null,
      macAddresses: ['52:54:00:12:34:56'],
      attributes: { model: 'X99 & Co', memory_mb: 16000, ip_addresses: '10.1.2.3' }
    })
    expect(pc!.attributes).not.toHaveProperty('manufacturer')
  })

  it('refuses bombs with 413, wrong protocols with 400 naming what is missing, unknown types with 415, each in the agent’s shape', async () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20))
    expect(bomb.length).toBeLessThan(LIMIT)
    const started = Date.now()
    // A zlib body with no agent id is the XML protocol's: its error comes back zlib, like its answers
    expect(xmlError(await post(bomb, 'application/x-compress-zlib'), 413, true)).toMatch(/inflates past/)
    expect(
      agentError(
        await post(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), 'application/json', { 'content-encoding': 'gzip' }),
        413
      ).status
    ).toBe('error')
    expect(Date.now() - started).toBeLessThan(5000)
    // GLPI Agent JSON: {"status":"error"} naming the fields
    const noDevice = example()
    delete noDevice.deviceid
    const missing = agentError(await post(JSON.stringify(noDevice), 'application/json'), 400)
    expect(missing.fields).toEqual(['deviceid'])
    expect(missing.message).toMatch(/deviceid/)
    const noVersion = example()
    delete noVersion.content.versionclient
    expect(agentError(await post(JSON.stringify(noVersion), 'application/json'), 400).fields).toEqual([
      'content.versionclient'
    ])
    const badSoftware = example()
    badSoftware.content.softwares.push({ version: '1' })
    badSoftware.content.hardware.memory = '64GB'
    expect(agentError(await post(JSON.stringify(badSoftware), 'application/json'), 400).fields.sort()).toEqual(
      ['content.hardware.memory', 'content.softwares.3.name'].sort()
    )
    // Compressed JSON (GLPI Agent zlib / gzip) is still the JSON protocol
    expect(
      agentError(await post(deflateSync(JSON.stringify(noDevice)), 'application/x-compress-zlib'), 400).fields
    ).toEqual(['deviceid'])
    expect(
      agentError(await post(gzipSync(JSON.stringify(noDevice)), 'application/x-compress-gzip'), 400).fields
    ).toEqual(['deviceid'])
    expect(agentError(await post('{"action":"netdiscovery","deviceid":"x"}', 'application/json'), 400).fields).toEqual([
      'action'
    ])
    // OCS / FusionInventory XML: <REPLY><ERROR>, naming the element, in the request's encoding
    expect(xmlError(await post('<FOO/>', 'application/xml'), 400)).toMatch(/REQUEST/)
    expect(xmlError(await post('<REQUEST><DEVICEID>x</DEVICEID></REQUEST>', 'application/xml'), 400)).toMatch(
      /REQUEST\/QUERY/
    )
    expect(
      xmlError(
        await post(
          deflateSync('<REQUEST><QUERY>INVENTORY</QUERY><CONTENT></CONTENT></REQUEST>'),
          'application/x-compress-zlib'
        ),
        400,
        true
      )
    ).toMatch(/REQUEST\/DEVICEID/)
    expect(
      xmlError(
        await post(
          '<?xml version="1.0"?><REQUEST><QUERY>SNMPQUERY</QUERY><DEVICEID>x</DEVICEID></REQUEST>',
          'text/xml'
        ),
        400
      )
    ).toMatch(/REQUEST\/QUERY|SNMPQUERY/)
    expect(xmlError(await post('<!DOCTYPE x [<!ENTITY a "b">]><REQUEST/>', 'application/xml'), 400)).toMatch(/DTD/)
    // An XML PROLOG sent as JSON (wrong Content-Type) is read by what it is, and answered in XML
    const prolog = await post(
      '<?xml version="1.0" encoding="UTF-8" ?><REQUEST><DEVICEID>pc-1</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>',
      'application/json'
    )
    expect(prolog.statusCode, prolog.body).toBe(200)
    expect(prolog.body).toContain('<RESPONSE>SEND</RESPONSE>')
    // Not inflatable: a zlib XML agent gets its XML error; GLPI Agent (its header) its JSON one
    expect(xmlError(await post('garbage', 'application/x-compress-zlib'), 400, true)).toMatch(/zlib/)
    expect(
      agentError(await post('garbage', 'application/x-compress-zlib', { 'glpi-agent-id': 'a1b2' }), 400).message
    ).toMatch(/zlib/)
    // An unknown type: JSON-looking body is GLPI Agent's shape; a body that is no agent's gets problem+json
    expect(agentError(await post('{}', 'text/plain'), 415).code).toBe('UNSUPPORTED_MEDIA_TYPE')
    expectProblem(await post('garbage', 'text/plain'), 415)
    // Said to be JSON but is neither protocol: the JSON protocol's error, saying what it is not
    expect(agentError(await post('hello', 'application/json'), 400).message).toMatch(/neither a GLPI Agent JSON/)
  })
})
