import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeOrganisation, makeTeam, makeUser } from '../helpers/factories.js'

type Item = { id: string; number: string; status: string; priority: number; createdAt: string; title: string }

describe('listing incidents', () => {
  let t: TestApp
  let tech: Awaited<ReturnType<typeof makeUser>>
  let team: { id: string }
  let orgA: { id: string }
  let customerA: Awaited<ReturnType<typeof makeUser>>
  const ids: string[] = []

  beforeAll(async () => {
    t = await buildTestApp()
    orgA = await makeOrganisation(t)
    customerA = await makeUser(t, ['customer'], { organisationId: orgA.id })
    tech = await makeUser(t, ['technician'])
    team = await makeTeam(t, [{ userId: tech.id, level: 1 }])
    for (let i = 0; i < 7; i++) {
      const inc = await makeIncident(t, {
        title: `Printer jam ${i}`,
        impact: (i % 3) + 1,
        urgency: 1,
        description: i === 3 ? 'toner everywhere' : ''
      })
      ids.push(inc.id)
    }
    await t.api('PUT', `/api/v1/incidents/${ids[0]}/assignment`, { body: { teamId: team.id, assigneeId: tech.id } })
    await t.api('POST', `/api/v1/incidents/${ids[1]}/transitions`, { body: { to: 'in_progress' } })
    await makeIncident(t, { title: 'Customer laptop broken' }, customerA.token)
  })
  afterAll(async () => t?.close())

  const list = async (qs: string, token?: string) => {
    const res = await t.api('GET', `/api/v1/incidents${qs}`, token ? { token } : {})
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: Item[]; nextCursor: string | null }
  }

  it('answers items and nextCursor, newest first, summary columns only', async () => {
    const page = await list('')
    expect(page.items.length).toBe(8)
    expect(page.nextCursor).toBeNull()
    const times = page.items.map(i => i.createdAt)
    expect([...times].sort().reverse()).toEqual(times)
    expect(page.items[0]).not.toHaveProperty('description')
  })

  it('filters by status, priority, team, assignee, requester and organisation', async () => {
    expect((await list('?status=assigned')).items.map(i => i.id)).toEqual([ids[0]])
    expect((await list('?status=assigned,in_progress')).items.map(i => i.id).sort()).toEqual([ids[0], ids[1]].sort())
    expect((await list('?priority=1')).items.every(i => i.priority === 1)).toBe(true)
    expect((await list('?priority=1,2')).items.length).toBeGreaterThan((await list('?priority=1')).items.length)
    expect((await list(`?teamId=${team.id}`)).items.map(i => i.id)).toEqual([ids[0]])
    expect((await list(`?assigneeId=${tech.id}`)).items.map(i => i.id)).toEqual([ids[0]])
    expect((await list(`?organisationId=${orgA.id}`)).items.map(i => i.title)).toEqual(['Customer laptop broken'])
    expect((await list(`?requesterId=${customerA.id}`)).items.length).toBe(1)
  })

  it('filters by created and updated ranges', async () => {
    const all = (await list('')).items
    const middle = all[3]!.createdAt
    const newer = await list(`?createdFrom=${encodeURIComponent(middle)}`)
    expect(newer.items.length).toBe(4)
    const older = await list(`?createdTo=${encodeURIComponent(middle)}`)
    expect(older.items.length).toBe(4)
    const future = await list(`?updatedFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    expect(future.items).toEqual([])
  })

  it('searches free text over title and description, and by number', async () => {
    expect((await list('?q=toner')).items.map(i => i.id)).toEqual([ids[3]])
    expect((await list('?q=printer')).items.length).toBe(7)
    const one = (await list('')).items.find(i => i.id === ids[2])!
    expect((await list(`?q=${one.number}`)).items.map(i => i.id)).toEqual([ids[2]])
    expect((await list(`?q=${encodeURIComponent("'; DROP TABLE tickets; --")}`)).items).toEqual([])
  })

  it.each(['createdAt', '-createdAt', 'priority', '-priority', 'number', '-number', 'updatedAt', '-updatedAt'])(
    'walks every page of sort %s with no duplicates or gaps',
    async sort => {
      const seen: Item[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: { items: Item[]; nextCursor: string | null } = await list(
          `?sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`
        )
        seen.push(...page.items)
        cursor = page.nextCursor
        pages++
      } while (cursor && pages < 10)
      expect(seen.length).toBe(8)
      expect(new Set(seen.map(i => i.id)).size).toBe(8)
      if (sort === 'priority') expect(seen.map(i => i.priority)).toEqual([...seen.map(i => i.priority)].sort())
      if (sort === '-number') {
        const n = seen.map(i => Number(i.number.slice(4)))
        expect(n).toEqual([...n].sort((a, b) => b - a))
      }
    }
  )

  it('refuses bad cursors, limits, filters and unknown parameters with 400 naming the field', async () => {
    const page = await list('?limit=2')
    const cases: [string, string][] = [
      ['?cursor=garbage!!', 'cursor'],
      [`?cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor'],
      [`?sort=priority&cursor=${page.nextCursor}`, 'cursor'],
      ['?limit=501', 'limit'],
      ['?limit=0', 'limit'],
      ['?limit=ten', 'limit'],
      ['?status=open', 'status'],
      ['?priority=9', 'priority'],
      ['?teamId=42', 'teamId'],
      ['?createdFrom=yesterday', 'createdFrom'],
      ['?sort=title', 'sort'],
      ['?colour=red', 'colour']
    ]
    for (const [qs, field] of cases) {
      const res = await t.api('GET', `/api/v1/incidents${qs}`)
      expect(res.statusCode, qs).toBe(400)
      expect(res.json().errors?.[0]?.field, qs).toBe(field)
    }
  })

  it('shows a customer only their organisation', async () => {
    const page = await list('', customerA.token)
    expect(page.items.map(i => i.title)).toEqual(['Customer laptop broken'])
    const sneaky = await list(`?organisationId=00000000-0000-4000-8000-000000000000`, customerA.token)
    expect(sneaky.items).toEqual([])
  })
})
