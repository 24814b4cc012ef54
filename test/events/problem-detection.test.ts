import { randomBytes } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog } from '../../src/db/schema/index.js'
import { jobs } from '../../src/jobs/index.js'
import { createJobRunner } from '../../src/jobs/runner.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeTeam, makeUser } from '../helpers/factories.js'
import { EVERY_FIELD_LIMITS, loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'
import { event, makeIntegration, post } from './helpers.js'

const schema = loadSchema()
const RULE = selectAll(schema, 'ProblemRule')
const SUMMARY = selectAll(schema, 'ProblemDetectionSummary')

let t: TestApp
let monitor: Awaited<ReturnType<typeof makeIntegration>>
let tech: Awaited<ReturnType<typeof makeUser>>

const tag = () => randomBytes(4).toString('hex')

beforeAll(async () => {
  t = await buildTestApp(EVERY_FIELD_LIMITS)
  monitor = await makeIntegration(t)
  tech = await makeUser(t, ['technician'])
})
afterAll(async () => t.close())

async function createRule(body: Record<string, unknown>) {
  const res = await t.api('POST', '/api/v1/problem-rules', { body: { name: `Rule ${tag()}`, ...body } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; name: string } & Record<string, unknown>
}

async function run(ruleId: string) {
  const res = await t.api('POST', `/api/v1/problem-rules/${ruleId}/run`)
  expect(res.statusCode, res.body).toBe(200)
  // A group that failed is only logged: no test run may have one
  expect(res.json().groupsFailed).toBe(0)
  return res.json() as {
    rules: number
    groups: number
    problemsOpened: number
    problemsUpdated: number
    incidentsLinked: number
    groupsFailed: number
  }
}

/** The problem an incident is caused by (null when none). */
const problemOf = async (incidentId: string): Promise<string | null> =>
  (await t.api('GET', `/api/v1/incidents/${incidentId}`)).json().problemId

async function incidentsOf(problemId: string): Promise<string[]> {
  const res = await t.api('GET', `/api/v1/problems/${problemId}/incidents?limit=500`)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().items as { id: string }[]).map(i => i.id).sort()
}

const sorted = (xs: { id: string }[]) => xs.map(x => x.id).sort()

/** Posts one event and answers the incident it opened. */
async function fire(body: Record<string, unknown>) {
  const res = await post(t, monitor.token, '/api/v1/events', event(body))
  expect(res.statusCode, res.body).toBe(202)
  return res.json() as { action: string; incidentId: string; incidentNumber: string }
}

describe('problem rules over REST', () => {
  it('creates, lists, reads, updates and deletes rules (admin), audited', async () => {
    const team = await makeTeam(t)
    const created = await t.api('POST', '/api/v1/problem-rules', {
      body: { name: 'Disk storms', groupBy: 'ci', threshold: 5, windowMinutes: 1440, source: 'zabbix', teamId: team.id }
    })
    expect(created.statusCode, created.body).toBe(201)
    const rule = created.json()
    expect(rule).toMatchObject({
      name: 'Disk storms',
      enabled: true,
      groupBy: 'ci',
      threshold: 5,
      windowMinutes: 1440,
      source: 'zabbix',
      teamId: team.id,
      lastRunAt: null
    })
    expect(created.headers.location).toBe(`/api/v1/problem-rules/${rule.id}`)
    const other = await createRule({ name: 'Category storms', groupBy: 'category', threshold: 3, windowMinutes: 60 })

    // Staff may read the configuration
    const read = await t.api('GET', `/api/v1/problem-rules/${rule.id}`, { token: tech.token })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toMatchObject({ id: rule.id, name: 'Disk storms' })

    const page1 = (await t.api('GET', '/api/v1/problem-rules?limit=1')).json()
    expect(page1.items).toHaveLength(1)
    expect(page1.nextCursor).toEqual(expect.any(String))
    const page2 = (await t.api('GET', `/api/v1/problem-rules?limit=1&cursor=${page1.nextCursor}`)).json()
    expect(page2.items).toHaveLength(1)
    expect(page2.items[0].id).not.toBe(page1.items[0].id)
    // By name: "Category storms" sorts before "Disk storms"
    const names = [page1.items[0].name, page2.items[0].name]
    expect(names.indexOf('Category storms')).toBeLessThan(names.indexOf('Disk storms'))

    const patched = await t.api('PATCH', `/api/v1/problem-rules/${rule.id}`, {
      body: { threshold: 4, source: null, teamId: null, enabled: false, version: rule.version }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ threshold: 4, source: null, teamId: null, enabled: false })

    const taken = await t.api('PATCH', `/api/v1/problem-rules/${rule.id}`, {
      body: { name: 'Category storms', version: rule.version + 1 }
    })
    expect(taken.statusCode).toBe(409)
    expect(taken.json().errors[0].field).toBe('name')

    const audit = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, 'problem_rule'), eq(auditLog.entityId, rule.id)))
    expect(audit.map(a => a.action).sort()).toEqual(['created', 'updated'])

    expect((await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)).statusCode).toBe(204)
    expect((await t.api('GET', `/api/v1/problem-rules/${rule.id}`)).statusCode).toBe(404)
    expect((await t.api('DELETE', `/api/v1/problem-rules/${other.id}`)).statusCode).toBe(204)
  })

  it('refuses bad input naming the field, a duplicate name, an unknown team and non-admins', async () => {
    const base = { name: `Rule ${tag()}`, groupBy: 'category', threshold: 3, windowMinutes: 60 }
    for (const [body, field] of [
      [{ ...base, threshold: 1 }, 'threshold'],
      [{ ...base, groupBy: 'host' }, 'groupBy'],
      [{ ...base, windowMinutes: 0 }, 'windowMinutes'],
      [{ ...base, name: '' }, 'name']
    ] as const) {
      const res = await t.api('POST', '/api/v1/problem-rules', { body })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field)
    }
    const noTeam = await t.api('POST', '/api/v1/problem-rules', {
      body: { ...base, teamId: '00000000-0000-4000-8000-000000000000' }
    })
    expect(noTeam.statusCode).toBe(422)
    expect(noTeam.json().errors[0].field).toBe('teamId')

    const first = await createRule(base)
    const again = await t.api('POST', '/api/v1/problem-rules', { body: base })
    expect(again.statusCode).toBe(409)
    expect(again.json().errors[0].field).toBe('name')

    const asTech = await t.api('POST', '/api/v1/problem-rules', { token: tech.token, body: { ...base, name: 'x' } })
    expect(asTech.statusCode).toBe(403)
    for (const [method, url] of [
      ['PATCH', `/api/v1/problem-rules/${first.id}`],
      ['DELETE', `/api/v1/problem-rules/${first.id}`],
      ['POST', `/api/v1/problem-rules/${first.id}/run`]
    ] as const) {
      const res = await t.api(method, url, {
        token: tech.token,
        ...(method === 'PATCH' ? { body: { threshold: 9 } } : {})
      })
      expect(res.statusCode, `${method} ${url}`).toBe(403)
    }
    expect((await t.api('POST', '/api/v1/problem-rules/00000000-0000-4000-8000-000000000000/run')).statusCode).toBe(404)
    await t.api('DELETE', `/api/v1/problem-rules/${first.id}`)
  })
})

describe('problem rules over GraphQL', () => {
  it('creates, pages, updates, runs and deletes with the same rules as REST', async () => {
    const team = await makeTeam(t)
    const name = `GQL rule ${tag()}`
    const created = await t.gql(`mutation($input: ProblemRuleInput!) { createProblemRule(input: $input) ${RULE} }`, {
      input: { name, groupBy: 'family', threshold: 2, windowMinutes: 90, source: 'prom', teamId: team.id }
    })
    expect(created.body.errors).toBeUndefined()
    const rule = created.body.data!.createProblemRule
    // Every field answers (lastRunAt only once it ran)
    expect(shapeProblems(schema, 'ProblemRule', rule, { strict: true, allowNull: ['ProblemRule.lastRunAt'] })).toEqual(
      []
    )
    expect(rule).toMatchObject({
      name,
      groupBy: 'family',
      threshold: 2,
      windowMinutes: 90,
      source: 'prom',
      teamId: team.id
    })

    const bad = await t.gql(`mutation($input: ProblemRuleInput!) { createProblemRule(input: $input) { id } }`, {
      input: { name: `x ${tag()}`, groupBy: 'family', threshold: 1, windowMinutes: 90 }
    })
    expect(bad.body.errors![0].extensions.code).toBe('VALIDATION_FAILED')
    expect(bad.body.errors![0].extensions.errors[0].field).toBe('input.threshold')

    const dup = await t.gql(`mutation($input: ProblemRuleInput!) { createProblemRule(input: $input) { id } }`, {
      input: { name, groupBy: 'ci', threshold: 3, windowMinutes: 60 }
    })
    expect(dup.body.errors![0].extensions.code).toBe('CONFLICT')
    expect(dup.body.errors![0].extensions.errors[0].field).toBe('name')

    const denied = await t.gql(
      `mutation($input: ProblemRuleInput!) { createProblemRule(input: $input) { id } }`,
      { input: { name: `y ${tag()}`, groupBy: 'ci', threshold: 3, windowMinutes: 60 } },
      tech.token
    )
    expect(denied.body.errors![0].extensions.code).toBe('FORBIDDEN')

    const second = await createRule({ groupBy: 'ci', threshold: 3, windowMinutes: 60 })
    const list = await t.gql(`{ problemRules(first: 1) ${selectAll(schema, 'ProblemRuleConnection')} }`)
    expect(list.body.errors).toBeUndefined()
    expect(shapeProblems(schema, 'ProblemRuleConnection', list.body.data!.problemRules)).toEqual([])
    expect(list.body.data!.problemRules.pageInfo.hasNextPage).toBe(true)
    const after = list.body.data!.problemRules.pageInfo.endCursor
    const next = await t.gql('query($a: String) { problemRules(first: 1, after: $a) { edges { node { id } } } }', {
      a: after
    })
    expect(next.body.data!.problemRules.edges[0].node.id).not.toBe(list.body.data!.problemRules.edges[0].node.id)
    const badPage = await t.gql('{ problemRules(first: 0) { edges { cursor } } }')
    expect(badPage.body.errors![0].extensions.errors[0].field).toBe('first')

    // An explicit null clears source and team; omitted fields stay
    const updated = await t.gql(
      `mutation($id: ID!, $input: ProblemRulePatchInput!) { updateProblemRule(id: $id, input: $input, version: 1) ${RULE} }`,
      { id: rule.id, input: { source: null, teamId: null, threshold: 4 } }
    )
    expect(updated.body.errors).toBeUndefined()
    expect(updated.body.data!.updateProblemRule).toMatchObject({ source: null, teamId: null, threshold: 4, name })

    const one = await t.gql(`query($id: ID!) { problemRule(id: $id) ${RULE} }`, { id: rule.id })
    expect(one.body.data!.problemRule).toEqual(updated.body.data!.updateProblemRule)

    const ran = await t.gql(`mutation($id: ID!) { runProblemRule(id: $id) ${SUMMARY} }`, { id: rule.id })
    expect(ran.body.errors).toBeUndefined()
    expect(shapeProblems(schema, 'ProblemDetectionSummary', ran.body.data!.runProblemRule)).toEqual([])
    expect(ran.body.data!.runProblemRule).toMatchObject({ rules: 1, problemsOpened: 0 })
    const afterRun = await t.gql(`query($id: ID!) { problemRule(id: $id) ${RULE} }`, { id: rule.id })
    expect(afterRun.body.data!.problemRule.lastRunAt).toEqual(expect.any(String))

    const deleted = await t.gql('mutation($id: ID!) { deleteProblemRule(id: $id) }', { id: rule.id })
    expect(deleted.body.data!.deleteProblemRule).toBe(true)
    const gone = await t.gql('query($id: ID!) { problemRule(id: $id) { id } }', { id: rule.id })
    expect(gone.body.errors![0].extensions.code).toBe('NOT_FOUND')
    await t.api('DELETE', `/api/v1/problem-rules/${second.id}`)
  })
})

describe('problem detection', () => {
  it('by category: nothing below the threshold, then a problem; a second run adds to it', async () => {
    const category = `Storage/${tag()}`
    const team = await makeTeam(t)
    const customer = await makeUser(t, ['customer'])
    const rule = await createRule({ groupBy: 'category', threshold: 3, windowMinutes: 60, teamId: team.id })
    const a = await makeIncident(t, { category })
    const b = await makeIncident(t, { category })
    await makeIncident(t, { category: `Other/${tag()}` })

    expect(await run(rule.id)).toMatchObject({ rules: 1, groups: 0, problemsOpened: 0, incidentsLinked: 0 })
    expect(await problemOf(a.id)).toBeNull()

    const c = await makeIncident(t, { category, requesterId: customer.id })
    const first = await run(rule.id)
    expect(first).toMatchObject({ rules: 1, groups: 1, problemsOpened: 1, problemsUpdated: 0, incidentsLinked: 3 })
    const problemId = (await problemOf(a.id))!
    expect(problemId).toEqual(expect.any(String))
    expect(await incidentsOf(problemId)).toEqual(sorted([a, b, c]))
    const problem = (await t.api('GET', `/api/v1/problems/${problemId}`)).json()
    expect(problem).toMatchObject({
      title: `Recurring: 3 incidents in category ${category} within 1 h`,
      category,
      teamId: team.id,
      requesterId: customer.id,
      status: 'new'
    })
    for (const inc of [a, b, c]) expect(problem.description).toContain(inc.number)
    expect((await t.api('GET', `/api/v1/problem-rules/${rule.id}`)).json().lastRunAt).not.toBeNull()

    // Nothing new: nothing to do
    expect(await run(rule.id)).toMatchObject({ groups: 0, problemsOpened: 0, problemsUpdated: 0 })

    const d = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ groups: 1, problemsOpened: 0, problemsUpdated: 1, incidentsLinked: 1 })
    expect(await problemOf(d.id)).toBe(problemId)
    expect(await incidentsOf(problemId)).toEqual(sorted([a, b, c, d]))
    const notes = (await t.api('GET', `/api/v1/problems/${problemId}/notes`)).json().items
    const note = notes.find((n: { body: string }) => n.body.includes('linked 1 more incident'))
    expect(note).toMatchObject({ internal: true })
    expect(note.body).toContain(d.number)
    expect(note.authorId).toEqual(expect.any(String))

    // Closed, it takes no more: the next recurrence opens a new problem with only the new incidents
    for (const body of [{ to: 'assessed' }, { to: 'closed', resolution: 'Replaced the array' }]) {
      const moved = await t.api('POST', `/api/v1/problems/${problemId}/transitions`, { body })
      expect(moved.statusCode, moved.body).toBe(200)
    }
    const e = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 0, problemsUpdated: 0, incidentsLinked: 0 })
    expect(await problemOf(e.id)).toBeNull()
    const f = await makeIncident(t, { category })
    const g = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 1, incidentsLinked: 3 })
    const second = (await problemOf(e.id))!
    expect(second).not.toBe(problemId)
    expect(await incidentsOf(second)).toEqual(sorted([e, f, g]))
    expect(await incidentsOf(problemId)).toEqual(sorted([a, b, c, d]))
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('a resolved detected problem leads to a new problem', async () => {
    const category = `Network/${tag()}`
    const rule = await createRule({ groupBy: 'category', threshold: 2, windowMinutes: 60 })
    const a = await makeIncident(t, { category })
    const b = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 1, incidentsLinked: 2 })
    const problemId = (await problemOf(a.id))!
    const patched = await t.api('PATCH', `/api/v1/problems/${problemId}`, {
      body: { rootCause: 'Flaky uplink', version: 1 }
    })
    expect(patched.statusCode, patched.body).toBe(200)
    for (const body of [
      { to: 'root_cause_analysis' },
      { to: 'fix_in_progress' },
      { to: 'resolved', resolution: 'Replaced the uplink' }
    ]) {
      const moved = await t.api('POST', `/api/v1/problems/${problemId}/transitions`, { body })
      expect(moved.statusCode, moved.body).toBe(200)
    }
    const c = await makeIncident(t, { category })
    const d = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 1, problemsUpdated: 0, incidentsLinked: 2 })
    const second = (await problemOf(c.id))!
    expect(second).not.toBe(problemId)
    expect(await incidentsOf(second)).toEqual(sorted([c, d]))
    expect(await incidentsOf(problemId)).toEqual(sorted([a, b]))
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('never takes an incident already caused by another problem', async () => {
    const category = `Mail/${tag()}`
    const rule = await createRule({ groupBy: 'category', threshold: 3, windowMinutes: 60 })
    const a = await makeIncident(t, { category })
    const b = await makeIncident(t, { category })
    const c = await makeIncident(t, { category })
    const manual = await t.api('POST', '/api/v1/problems', { body: { title: 'Mail relay drops' } })
    expect(manual.statusCode).toBe(201)
    const mine = manual.json().id
    const linked = await t.api('POST', `/api/v1/problems/${mine}/incidents`, { body: { incidentIds: [a.id] } })
    expect(linked.statusCode, linked.body).toBe(200)

    // Three in the window, but only two free: not enough to open a problem
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 0, incidentsLinked: 0 })
    const d = await makeIncident(t, { category })
    expect(await run(rule.id)).toMatchObject({ problemsOpened: 1, incidentsLinked: 3 })
    const detected = (await problemOf(b.id))!
    expect(detected).not.toBe(mine)
    expect(await incidentsOf(detected)).toEqual(sorted([b, c, d]))
    expect(await problemOf(a.id)).toBe(mine)
    expect(await incidentsOf(mine)).toEqual([a.id])
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('by CI: incidents from events on one configuration item, optionally of one source', async () => {
    const host = `srv-app-${tag()}`
    const ci = await t.api('POST', '/api/v1/cis', { body: { name: `${host} (web)`, hostname: host } })
    expect(ci.statusCode, ci.body).toBe(201)
    const source = `zbx-${tag()}`
    const opened = []
    for (let i = 0; i < 3; i++)
      opened.push(await fire({ source, summary: `check ${i} failing`, ci: { hostname: host } }))
    expect(opened.map(o => o.action)).toEqual(['opened', 'opened', 'opened'])
    // Another host's incident is not in the group
    const elsewhere = await fire({ source, ci: { hostname: `other-${tag()}` } })

    const otherSource = await createRule({ groupBy: 'ci', threshold: 3, windowMinutes: 1440, source: 'nagios-x' })
    expect(await run(otherSource.id)).toMatchObject({ groups: 0, problemsOpened: 0 })

    const rule = await createRule({ groupBy: 'ci', threshold: 3, windowMinutes: 1440, source })
    expect(await run(rule.id)).toMatchObject({ groups: 1, problemsOpened: 1, incidentsLinked: 3 })
    const problemId = (await problemOf(opened[0]!.incidentId))!
    expect(await incidentsOf(problemId)).toEqual(opened.map(o => o.incidentId).sort())
    expect(await problemOf(elsewhere.incidentId)).toBeNull()
    const problem = (await t.api('GET', `/api/v1/problems/${problemId}`)).json()
    expect(problem.title).toBe(`Recurring: 3 incidents on CI ${host} (web) within 24 h`)
    // The integration account reported them: it is the requester
    expect(problem.requesterId).toBe(monitor.user.id)
    for (const o of opened) expect(problem.description).toContain(o.incidentNumber)
    for (const r of [rule, otherSource]) await t.api('DELETE', `/api/v1/problem-rules/${r.id}`)
  })

  it('by fingerprint: the same alert firing again and again', async () => {
    const source = `am-${tag()}`
    const fingerprint = `disk-full-${tag()}`
    const incidents: string[] = []
    for (let i = 0; i < 3; i++) {
      const out = await fire({ source, fingerprint })
      expect(out.action).toBe('opened')
      incidents.push(out.incidentId)
      if (i < 2) expect((await fire({ source, fingerprint, status: 'resolved' })).action).toBe('resolved')
    }
    // A different fingerprint of the same source is another group
    await fire({ source })
    const rule = await createRule({ groupBy: 'fingerprint', threshold: 3, windowMinutes: 60 })
    expect(await run(rule.id)).toMatchObject({ groups: 1, problemsOpened: 1, incidentsLinked: 3 })
    const problemId = (await problemOf(incidents[0]!))!
    expect(await incidentsOf(problemId)).toEqual([...incidents].sort())
    const problem = (await t.api('GET', `/api/v1/problems/${problemId}`)).json()
    expect(problem.title).toBe(`Recurring: 3 incidents with fingerprint ${fingerprint} from ${source} within 1 h`)
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('by family: different fingerprints of one family', async () => {
    const family = `HostDown-${tag()}`
    const source = `prom-${tag()}`
    const incidents: string[] = []
    for (let i = 0; i < 2; i++) incidents.push((await fire({ source, family })).incidentId)
    const rule = await createRule({ groupBy: 'family', threshold: 3, windowMinutes: 30, source })
    expect(await run(rule.id)).toMatchObject({ groups: 0, problemsOpened: 0 })
    incidents.push((await fire({ source, family })).incidentId)
    // Same family from another source is not counted under this rule's source
    const foreign = await fire({ source: `other-${tag()}`, family })
    expect(await run(rule.id)).toMatchObject({ groups: 1, problemsOpened: 1, incidentsLinked: 3 })
    const problemId = (await problemOf(incidents[0]!))!
    expect(await incidentsOf(problemId)).toEqual([...incidents].sort())
    expect(await problemOf(foreign.incidentId)).toBeNull()
    expect((await t.api('GET', `/api/v1/problems/${problemId}`)).json().title).toBe(
      `Recurring: 3 incidents in family ${family} within 30 min`
    )
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('two runs at once open one problem, not two', async () => {
    const category = `Backup/${tag()}`
    const rule = await createRule({ groupBy: 'category', threshold: 2, windowMinutes: 60 })
    const a = await makeIncident(t, { category })
    const b = await makeIncident(t, { category })
    const both = await Promise.all([run(rule.id), run(rule.id)])
    expect(both.map(r => r.problemsOpened).sort()).toEqual([0, 1])
    expect(both.reduce((n, r) => n + r.incidentsLinked, 0)).toBe(2)
    expect(await incidentsOf((await problemOf(a.id))!)).toEqual(sorted([a, b]))
    await t.api('DELETE', `/api/v1/problem-rules/${rule.id}`)
  })

  it('runs as a scheduler job: enabled rules only, as the system', async () => {
    const job = jobs.find(j => j.name === 'problem-detection')
    expect(job).toMatchObject({ everyMs: 60_000 })
    const category = `Printing/${tag()}`
    const live = await createRule({ groupBy: 'category', threshold: 2, windowMinutes: 60 })
    const disabled = await createRule({ groupBy: 'category', threshold: 2, windowMinutes: 60, enabled: false })
    const a = await makeIncident(t, { category })
    const b = await makeIncident(t, { category })

    const deps = { db: t.db, config: t.app.config, log: t.app.log, services: t.app.services }
    const runner = createJobRunner(deps, [job!], 60_000)
    await runner.tick()
    const problemId = (await problemOf(a.id))!
    expect(problemId).toEqual(expect.any(String))
    expect(await incidentsOf(problemId)).toEqual(sorted([a, b]))
    expect((await t.api('GET', `/api/v1/problem-rules/${live.id}`)).json().lastRunAt).not.toBeNull()
    expect((await t.api('GET', `/api/v1/problem-rules/${disabled.id}`)).json().lastRunAt).toBeNull()
    // Audited as the system, with the newest incident's requester as the acting person
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.entityId, problemId))
    const created = audit.find(r => r.action === 'created')
    expect(created?.actorLabel).toBe('system:problem-detection')
    expect(created?.actorId).toEqual(expect.any(String))
    // Claimed for this period: a second tick does not run it again
    await makeIncident(t, { category })
    await runner.tick()
    expect(await incidentsOf(problemId)).toHaveLength(2)
    for (const r of [live, disabled]) await t.api('DELETE', `/api/v1/problem-rules/${r.id}`)
  })
})
