import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'
import { countRows } from '../helpers/graphql.js'

const AGENT = '/usr/bin/fusioninventory-agent'
const present = existsSync(AGENT)
if (!present)
  process.stderr.write(
    `test/cmdb/inventory-agent.test.ts skipped: ${AGENT} is not installed (.ci/run installs it with apt)\n`
  )

type Json = Record<string, any>

/** Runs the real agent against our server, as an administrator would point it at us. */
function runAgent(port: number, token: string, extra: string[] = []) {
  const args = [
    '--server',
    `http://127.0.0.1:${port}/api/v1/inventory`,
    '--user',
    'x',
    '--password',
    token,
    '--force',
    '--no-task=deploy,collect,esx,wakeonlan,netdiscovery,netinventory',
    '--logger=stderr',
    ...extra
  ]
  return new Promise<string>((resolve, reject) => {
    execFile(AGENT, args, { timeout: 240_000 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`
      if (err) reject(new Error(`${AGENT} failed: ${err.message}\n${out}`))
      else resolve(out)
    })
  })
}

describe.skipIf(!present)('the real fusioninventory-agent posts to /api/v1/inventory', () => {
  let t: TestApp
  let port: number
  let token: string

  beforeAll(async () => {
    t = await buildTestApp()
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    port = (t.app.server.address() as AddressInfo).port
    const user = await makeUser(t, ['admin'])
    token = (await makeApiToken(t, { scopes: ['cmdb:import'], userId: user.id })).token
  })
  afterAll(async () => t?.close())

  const computer = async () => {
    const items = (await t.api('GET', '/api/v1/cis?class=computer&limit=500')).json().items as Json[]
    expect(items).toHaveLength(1)
    return items[0]!
  }
  const installed = async (id: string) => {
    const out: string[] = []
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page: { items: Json[]; nextCursor: string | null } = (
        await t.api('GET', `/api/v1/cis/${id}/relationships?limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()
      out.push(...(page.items as Json[]).filter(r => r.type === 'installed_on').map(r => r.relatedCi.name))
      cursor = page.nextCursor
    }
    return out.sort()
  }

  it('first run: one computer CI with its interfaces and software; runs again (compressed and -C): nothing changes', async () => {
    const log = await runAgent(port, token)
    expect(log).toContain('sending prolog request')
    expect(log).not.toMatch(/\[error\]/)
    const ci = await computer()
    expect(ci.name).toBeTruthy()
    expect(ci.attributes.os_name).toBeTruthy()
    expect(ci.attributes.memory_mb).toBeGreaterThan(0)
    const software = await installed(ci.id)
    expect(software.length).toBeGreaterThan(10)
    const swList = (await t.api('GET', '/api/v1/cis?class=software&limit=1&includeTotal=true')).json()
    expect(swList.total).toBe(software.length)

    const audit = await countRows(t, auditLog)
    await runAgent(port, token)
    await runAgent(port, token, ['-C'])
    expect(await computer()).toEqual(ci)
    expect(await installed(ci.id)).toEqual(software)
    expect(await countRows(t, auditLog)).toBe(audit)
    const history = (await t.api('GET', `/api/v1/cis/${ci.id}/history?limit=500`)).json().items as Json[]
    expect(history.filter(h => h.action === 'updated')).toEqual([])
  }, 600_000)
})
