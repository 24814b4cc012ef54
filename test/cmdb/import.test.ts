import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, ciSourceRecords, configurationItems } from '../../src/db/schema/index.js'
import { jobs } from '../../src/jobs/index.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { auditOf } from '../helpers/audit.js'
import { makeApiToken, makeUser, suffix } from '../helpers/factories.js'
import { countRows } from '../helpers/graphql.js'
import { expectProblem, fieldsOf } from '../helpers/problem.js'

type Json = Record<string, any>

describe('discovery import over REST', () => {
  let t: TestApp
  let importer: { token: string }

  const source = async (body: Json = {}) => {
    const res = await t.api('POST', '/api/v1/discovery-sources', { body: { name: `src-${suffix()}`, ...body } })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as Json
  }
  const run = async (body: Json, token = importer.token) => {
    const res = await t.api('POST', '/api/v1/cis/import', { body, token })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as Json
  }
  const machine = (n: string, extra: Json = {}) => ({
    key: `host-${n}`,
    class: 'server',
    name: `srv-${n}`,
    identifiers: { serial: `SER-${n}`, systemUuid: uuidOf(n), macAddresses: [macOf(n)], fqdn: `srv-${n}.corp.example` },
    attributes: { os_name: 'Ubuntu', memory_mb: 4096 },
    ...extra
  })
  const ciOf = async (id: string) => (await t.api('GET', `/api/v1/cis/${id}`)).json() as Json

  beforeAll(async () => {
    t = await buildTestApp()
    const user = await makeUser(t, ['admin'])
    importer = await makeApiToken(t, { scopes: ['cmdb:import', 'cmdb:read'], userId: user.id })
  })
  afterAll(async () => t?.close())

  it('creates, then the same payload is unchanged with no history and no version bump; dry runs write nothing', async () => {
    const s = await source()
    const tag = suffix()
    const items = [machine(`${tag}-1`), machine(`${tag}-2`)]
    const dry = await run({ source: s.name, dryRun: true, items })
    expect(dry).toMatchObject({ dryRun: true, committed: false, summary: { created: 2 } })
    expect(dry.items[0]).toMatchObject({ index: 0, key: `host-${tag}-1`, result: 'created' })
    const ciCount = await countRows(t, configurationItems)
    const auditCount = await countRows(t, auditLog)

    const first = await run({ source: s.name, items })
    expect(await countRows(t, configurationItems)).toBe(ciCount + 2)
    expect(first).toMatchObject({ committed: true, summary: { created: 2, updated: 0, unchanged: 0 } })
    const made = await ciOf(first.items[0].ciId)
    expect(made).toMatchObject({
      class: 'server',
      serial: `SER-${tag}-1`.toUpperCase(),
      macAddresses: [macOf(`${tag}-1`)],
      fqdn: `srv-${tag}-1.corp.example`,
      hostname: `srv-${tag}-1`,
      attributes: { os_name: 'Ubuntu', memory_mb: 4096 },
      version: 1
    })
    const history = (await t.api('GET', `/api/v1/cis/${made.id}/history`)).json().items
    expect(history[0]).toMatchObject({ action: 'created', source: s.name })
    expect(history[0].actor).toContain('(token)')

    const auditAfterFirst = await countRows(t, auditLog)
    expect(auditAfterFirst).toBeGreaterThan(auditCount)
    const again = await run({ source: s.name, items })
    expect(again.summary).toEqual({ created: 0, updated: 0, unchanged: 2, conflict: 0, error: 0 })
    expect(again.items.map((i: Json) => i.identifiedBy)).toEqual(['key', 'key'])
    expect(await countRows(t, auditLog)).toBe(auditAfterFirst)
    expect((await ciOf(made.id)).version).toBe(1)

    // a changed attribute is an update naming what changed, in history as attributes.<name>
    const changed = await run({
      source: s.name,
      items: [machine(`${tag}-1`, { attributes: { os_name: 'Ubuntu', memory_mb: 8192 } })]
    })
    expect(changed.items[0]).toMatchObject({ result: 'updated', changed: ['attributes.memory_mb'] })
    const last = (await t.api('GET', `/api/v1/cis/${made.id}/history`)).json().items.at(-1)
    expect(last).toMatchObject({ source: s.name, changes: [{ field: 'attributes.memory_mb', old: 4096, new: 8192 }] })
    // a dry run of a change reports it and writes nothing
    const dryChange = await run({
      source: s.name,
      dryRun: true,
      items: [machine(`${tag}-1`, { name: 'renamed', attributes: { os_name: 'Ubuntu', memory_mb: 8192 } })]
    })
    expect(dryChange.items[0]).toMatchObject({ result: 'updated', changed: ['name'] })
    expect((await ciOf(made.id)).name).toBe(`srv-${tag}-1`)
  })

  it('identifies by serial + UUID, serial, UUID, MAC, FQDN, then name + class, in that order', async () => {
    const s = await source()
    const tag = suffix()
    const base = await run({ source: s.name, items: [machine(tag, { key: undefined })] })
    const id = base.items[0].ciId
    const by = async (identifiers: Json, name = `other-${suffix()}`) =>
      (await run({ source: s.name, dryRun: true, items: [{ class: 'server', name, identifiers }] })).items[0]
    expect(await by({ serial: `ser-${tag}`, systemUuid: uuidOf(tag) })).toMatchObject({
      ciId: id,
      identifiedBy: 'serial+systemUuid'
    })
    expect(await by({ serial: `SER-${tag}`, systemUuid: uuidOf('new') })).toMatchObject({
      ciId: id,
      identifiedBy: 'serial'
    })
    expect(await by({ systemUuid: uuidOf(tag).toUpperCase() })).toMatchObject({ ciId: id, identifiedBy: 'systemUuid' })
    expect(await by({ macAddresses: [macOf(tag).toUpperCase().replaceAll(':', '-')] })).toMatchObject({
      ciId: id,
      identifiedBy: 'macAddress'
    })
    expect(await by({ fqdn: `SRV-${tag}.corp.example.` })).toMatchObject({ ciId: id, identifiedBy: 'fqdn' })
    expect(await by({}, `srv-${tag}`)).toMatchObject({ ciId: id, identifiedBy: 'name+class' })
    // name + class: a CI of another class tree with that name is not it
    const other = (await run({ source: s.name, dryRun: true, items: [{ class: 'switch', name: `srv-${tag}` }] }))
      .items[0]
    expect(other).toMatchObject({ result: 'created' })
    expect(await by({ serial: 'unknown-serial' })).toMatchObject({ result: 'created', identifiedBy: null })
  })

  it('never merges two machines on deny-listed serials, UUIDs or shared MACs', async () => {
    const s = await source()
    const tag = suffix()
    const bogus = (n: number, mac: string) => ({
      key: `bogus-${tag}-${n}`,
      class: 'workstation',
      name: `pc-${tag}-${n}`,
      identifiers: {
        serial: n === 1 ? 'To Be Filled By O.E.M.' : 'System Serial Number',
        systemUuid: n === 1 ? '03000200-0400-0500-0006-000700080009' : 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
        macAddresses: ['00:00:00:00:00:00', '00:50:56:C0:00:08', '0a:00:27:00:00:00', mac]
      }
    })
    const res = await run({ source: s.name, items: [bogus(1, macOf(`${tag}a`)), bogus(2, macOf(`${tag}b`))] })
    expect(res.summary.created).toBe(2)
    const [a, b] = await Promise.all(res.items.map((i: Json) => ciOf(i.ciId)))
    expect(a.serial).toBeNull()
    expect(a.systemUuid).toBeNull()
    expect(a.macAddresses).toEqual([macOf(`${tag}a`)])
    expect(b.macAddresses).toEqual([macOf(`${tag}b`)])
    // a third machine with only bogus keys and another name is a third CI
    const third = await run({
      source: s.name,
      dryRun: true,
      items: [{ ...bogus(3, '00:00:00:00:00:00'), key: undefined }]
    })
    expect(third.items[0].result).toBe('created')
  })

  it('reports conflicts with their reason: ambiguous keys, one CI twice, another class', async () => {
    const s = await source()
    const tag = suffix()
    for (const n of ['a', 'b']) {
      const res = await t.api('POST', '/api/v1/cis', {
        body: { name: `dup-${tag}-${n}`, class: 'server', serial: `DUP-${tag}` }
      })
      expect(res.statusCode).toBe(201)
    }
    const amb = await run({
      source: s.name,
      mode: 'partial',
      items: [{ class: 'server', name: 'x', identifiers: { serial: `DUP-${tag}` } }]
    })
    expect(amb.items[0]).toMatchObject({
      result: 'conflict',
      reason: expect.stringMatching(/^serial matches 2 configuration items/)
    })
    await run({ source: s.name, items: [machine(tag)] })
    const twice = await run({
      source: s.name,
      mode: 'partial',
      items: [machine(tag), { ...machine(tag), key: 'other-key' }]
    })
    expect(twice.items.map((i: Json) => i.result)).toEqual(['unchanged', 'conflict'])
    expect(twice.items[1].reason).toMatch(/^item 0 already describes/)
    const cls = await run({ source: s.name, mode: 'partial', items: [{ ...machine(tag), class: 'switch' }] })
    expect(cls.items[0]).toMatchObject({
      result: 'conflict',
      reason: expect.stringContaining('is a server, not a switch')
    })
    // a subclass of the item's class is the same CI
    const sub = await run({ source: s.name, dryRun: true, items: [{ ...machine(tag), class: 'computer' }] })
    expect(sub.items[0]).toMatchObject({ result: 'unchanged', identifiedBy: 'key' })
  })

  it('atomic writes nothing when one item fails (422 naming items.<i>.<field>); partial lands the rest', async () => {
    const s = await source()
    const tag = suffix()
    const items = [machine(`${tag}-1`), machine(`${tag}-2`, { attributes: { memory_mb: 'lots' } }), machine(`${tag}-3`)]
    const before = await countRows(t, configurationItems)
    const atomic = await t.api('POST', '/api/v1/cis/import', { body: { source: s.name, items }, token: importer.token })
    const problem = expectProblem(atomic, 422)
    expect(fieldsOf(problem)).toEqual(['items.1.attributes.memory_mb'])
    expect((problem as Json).items.map((i: Json) => i.result)).toEqual(['created', 'error', 'created'])
    expect(await countRows(t, configurationItems)).toBe(before)

    const partial = await run({ source: s.name, mode: 'partial', items })
    expect(partial).toMatchObject({ committed: true, summary: { created: 2, error: 1 } })
    expect(partial.items[1]).toMatchObject({
      index: 1,
      result: 'error',
      ciId: null,
      errors: [{ field: 'attributes.memory_mb', message: 'must be a number' }]
    })
    expect(await countRows(t, configurationItems)).toBe(before + 2)

    expect(
      fieldsOf(expectProblem(await t.api('POST', '/api/v1/cis/import', { body: { source: 'nope', items: [] } }), 422))
    ).toEqual(['source'])
    const tooMany = await t.api('POST', '/api/v1/cis/import', {
      body: { source: s.name, items: Array.from({ length: 10_001 }, (_, i) => ({ class: 'generic', name: `n${i}` })) }
    })
    expect(fieldsOf(expectProblem(tooMany, 400))).toContain('items')
    const tech = await makeUser(t, ['technician'])
    expectProblem(
      await t.api('POST', '/api/v1/cis/import', { body: { source: s.name, items: [] }, token: tech.token }),
      403
    )
  })

  it('source precedence: lower sources and manual edits are protected; overridesManual wins', async () => {
    const low = await source({ precedence: 10 })
    const high = await source({ precedence: 90 })
    const boss = await source({ precedence: 95, overridesManual: true })
    const tag = suffix()
    const first = await run({ source: high.name, items: [machine(tag)] })
    const id = first.items[0].ciId
    const lowRun = await run({
      source: low.name,
      items: [machine(tag, { key: 'low', attributes: { os_name: 'Windows', memory_mb: 4096 } })]
    })
    expect(lowRun.items[0]).toMatchObject({ result: 'unchanged', protected: ['attributes.os_name'], ciId: id })
    expect((await ciOf(id)).attributes.os_name).toBe('Ubuntu')
    // a manual edit is protected from high, not from boss
    expect((await t.edit(`/api/v1/cis/${id}`, { body: { attributes: { memory_mb: 2048 } } })).statusCode).toBe(200)
    const highRun = await run({ source: high.name, items: [machine(tag)] })
    expect(highRun.items[0]).toMatchObject({ result: 'unchanged', protected: ['attributes.memory_mb'] })
    const bossRun = await run({ source: boss.name, items: [machine(tag, { key: 'boss' })] })
    expect(bossRun.items[0]).toMatchObject({ result: 'updated', changed: ['attributes.memory_mb'] })
    expect((await ciOf(id)).attributes.memory_mb).toBe(4096)
    // now the boss owns the field: high may not take it back
    const highAgain = await run({
      source: high.name,
      items: [machine(tag, { attributes: { os_name: 'Ubuntu', memory_mb: 1 } })]
    })
    expect(highAgain.items[0].protected).toEqual(['attributes.memory_mb'])
  })

  it('relates items by external keys and replaces the relationships of a type', async () => {
    const s = await source()
    const tag = suffix()
    const sw = (n: string) => ({
      key: `sw-${tag}-${n}`,
      class: 'software',
      name: `${n} 1.0`,
      attributes: { product: n, version: '1.0' }
    })
    const host = (names: string[]) => ({
      ...machine(tag),
      relationships: names.map(n => ({ type: 'installed_on', source: `sw-${tag}-${n}` })),
      replaceRelationships: ['installed_on']
    })
    const first = await run({ source: s.name, items: [sw('nginx'), sw('openssl'), host(['nginx', 'openssl'])] })
    expect(first.summary.created).toBe(3)
    const hostId = first.items[2].ciId
    const rels = async () =>
      ((await t.api('GET', `/api/v1/cis/${hostId}/relationships`)).json().items as Json[])
        .map(r => `${r.label} ${r.relatedCi.name}`)
        .sort()
    expect(await rels()).toEqual(['has installed nginx 1.0', 'has installed openssl 1.0'])
    const same = await run({ source: s.name, items: [sw('nginx'), sw('openssl'), host(['nginx', 'openssl'])] })
    expect(same.summary.unchanged).toBe(3)
    // openssl removed from the machine, referenced by its key from an earlier request
    const next = await run({ source: s.name, items: [host(['nginx'])] })
    expect(next.items[0]).toMatchObject({ result: 'updated', changed: ['relationships.installed_on'] })
    expect(await rels()).toEqual(['has installed nginx 1.0'])
    const bad = await run({
      source: s.name,
      mode: 'partial',
      items: [{ ...host(['nope']), key: `h2-${tag}`, name: 'h2' }]
    })
    expect(bad.items[0]).toMatchObject({ result: 'error', errors: [{ field: 'relationships.0.source' }] })
  })

  it('the scheduler marks CIs missing when their source has not seen them in time; seeing them clears it', async () => {
    const s = await source({ missingAfterDays: 7 })
    const tag = suffix()
    const res = await run({ source: s.name, items: [machine(`${tag}-old`), machine(`${tag}-new`)] })
    const [oldId, newId] = res.items.map((i: Json) => i.ciId)
    await t.db
      .update(ciSourceRecords)
      .set({ lastSeenAt: sql`now() - interval '8 days'` })
      .where(and(eq(ciSourceRecords.sourceId, s.id), eq(ciSourceRecords.ciId, oldId)))
    const job = jobs.find(j => j.name === 'cmdb-missing-sweep')!
    const runner = createJobRunner(
      { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services },
      [job],
      60_000
    )
    await runner.tick()
    expect((await ciOf(oldId)).missingSince).not.toBeNull()
    expect((await ciOf(newId)).missingSince).toBeNull()
    const missing = (
      await t.api('GET', `/api/v1/cis?filter=${encodeURIComponent('missingSince=isnull=false')}&limit=500`)
    ).json()
    expect(missing.items.map((c: Json) => c.id)).toContain(oldId)
    expect((await auditOf(t, 'ci', oldId)).map(a => a.action)).toContain('missing')
    const seen = await run({ source: s.name, items: [machine(`${tag}-old`)] })
    expect(seen.items[0]).toMatchObject({ result: 'updated', changed: ['missingSince'] })
    expect((await ciOf(oldId)).missingSince).toBeNull()
  })

  it('an unchanged re-import writes no source record seen within the hour, and bumps one seen before it', async () => {
    const s = await source({ missingAfterDays: 7 })
    const tag = suffix()
    const items = [machine(`${tag}-a`), machine(`${tag}-b`)]
    const res = await run({ source: s.name, items })
    const [staleId, freshId] = res.items.map((i: Json) => i.ciId)
    await t.db
      .update(ciSourceRecords)
      .set({ lastSeenAt: sql`now() - interval '2 hours'` })
      .where(and(eq(ciSourceRecords.sourceId, s.id), eq(ciSourceRecords.ciId, staleId)))
    const seenAt = async (ciId: string) =>
      (
        await t.db
          .select({ at: ciSourceRecords.lastSeenAt })
          .from(ciSourceRecords)
          .where(and(eq(ciSourceRecords.sourceId, s.id), eq(ciSourceRecords.ciId, ciId)))
      )[0]!.at.getTime()
    const staleBefore = await seenAt(staleId)
    const freshBefore = await seenAt(freshId)
    const again = await run({ source: s.name, items })
    expect(again.summary).toMatchObject({ unchanged: 2 })
    expect(await seenAt(staleId)).toBeGreaterThan(staleBefore + 3_600_000)
    expect(await seenAt(freshId)).toBe(freshBefore)
  })
})

function uuidOf(s: string) {
  const hex = Buffer.from(s).toString('hex').padEnd(32, '7').slice(0, 32)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
function macOf(s: string) {
  const h = [...s].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7)
  const hex = `52${h.toString(16).padStart(8, '0')}${(h % 251).toString(16).padStart(2, '0')}`
  return hex.match(/../g)!.join(':')
}
