import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notificationDeliveries, notificationOutbox, webhookSubscriptions } from '../../src/db/schema/index.js'
import { publicAddress } from '../../src/modules/notifications/webhooks.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident } from '../helpers/factories.js'
import { loadSchema, selectAll, shapeProblems } from '../helpers/graphql.js'

const schema = loadSchema()

/** A host name other than localhost that /etc/hosts maps to loopback, if the machine has one. */
function loopbackName(): string | null {
  try {
    for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [address, ...names] = line.split('#')[0]!.trim().split(/\s+/)
      const name = names.find(n => !/localhost/i.test(n))
      if (address && /^127\./.test(address) && name) return name
    }
  } catch {
    return null
  }
  return null
}

interface Hit {
  headers: IncomingHttpHeaders
  body: string
}

/** A receiver on loopback: records every request and answers what `answer` says. */
async function receiver(answer: () => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const hits: Hit[] = []
  let connections = 0
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', d => {
      body += String(d)
    })
    req.on('end', () => {
      hits.push({ headers: req.headers, body })
      const a = answer()
      res.writeHead(a.status, a.headers ?? {}).end()
    })
  })
  server.on('connection', () => {
    connections++
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    hits,
    connections: () => connections,
    close: () => new Promise(r => server.close(r))
  }
}

/** The signature computed here, independently of the server's code: HMAC-SHA256 of id.timestamp.body. */
function verify(secret: string, h: Hit): boolean {
  const key = Buffer.from(secret.split('_')[1]!, 'base64')
  const signed = `${h.headers['webhook-id']}.${h.headers['webhook-timestamp']}.${h.body}`
  const expected = createHmac('sha256', key).update(signed).digest('base64')
  return String(h.headers['webhook-signature']).split(' ').includes(`v1,${expected}`)
}

const dispatchAll = async (t: TestApp) => {
  for (let i = 0; i < 20; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
}

describe('outbound webhooks (loopback allowed for the test receiver)', () => {
  let t: TestApp
  let hook: Awaited<ReturnType<typeof receiver>>
  let status = 200
  beforeAll(async () => {
    hook = await receiver(() => ({ status }))
    t = await buildTestApp({
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      NOTIFY_BACKOFF_BASE_MS: '10',
      NOTIFY_BACKOFF_MAX_MS: '20'
    })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await hook?.close()
  })

  it('signs deliveries as Standard Webhooks say, filters by RSQL, shows the secret once and rotates it', async () => {
    const created = await t.api('POST', '/api/v1/webhook-subscriptions', {
      body: { name: 'P1 feed', url: hook.url, events: ['ticket.created'], filter: 'priority==1' }
    })
    expect(created.statusCode, created.body).toBe(201)
    const sub = created.json()
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/)
    const read = await t.api('GET', `/api/v1/webhook-subscriptions/${sub.id}`)
    expect(read.json().secret).toBeUndefined()
    expect(read.json()).toMatchObject({
      name: 'P1 feed',
      events: ['ticket.created'],
      filter: 'priority==1',
      enabled: true
    })

    const p1 = await makeIncident(t, { title: 'Outage', impact: 1, urgency: 1 })
    await makeIncident(t, { title: 'Mouse' })
    await dispatchAll(t)
    expect(hook.hits).toHaveLength(1)
    const hit = hook.hits[0]!
    expect(verify(sub.secret, hit)).toBe(true)
    expect(verify('whsec_d3JvbmctZGlmZmVyZW50LWtleS0xMjM0', hit)).toBe(false)
    const [row] = await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.ticketId, p1.id))
    expect(hit.headers['webhook-id']).toBe(`${row!.id}.${sub.id}`)
    expect(Math.abs(Number(hit.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60)
    const body = JSON.parse(hit.body)
    expect(body).toMatchObject({
      type: 'ticket.created',
      data: { ticket: { id: p1.id, number: p1.number, priority: 1 } }
    })
    const [d] = await t.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.channel, 'webhook'))
    expect(d).toMatchObject({ recipient: sub.id, status: 'sent', messageId: `${row!.id}.${sub.id}` })

    const rotated = await t.api('POST', `/api/v1/webhook-subscriptions/${sub.id}/rotate`)
    expect(rotated.statusCode).toBe(200)
    const secret2 = rotated.json().secret as string
    expect(secret2).not.toBe(sub.secret)
    await makeIncident(t, { title: 'Outage 2', impact: 1, urgency: 1 })
    await dispatchAll(t)
    expect(hook.hits).toHaveLength(2)
    expect(verify(secret2, hook.hits[1]!)).toBe(true)
    expect(verify(sub.secret, hook.hits[1]!)).toBe(false)
  })

  it('retries a failing receiver from the same outbox row, and disables a subscription failing for a day', async () => {
    const created = await t.api('POST', '/api/v1/webhook-subscriptions', {
      body: { name: 'Flaky', url: `${hook.url}?flaky`, events: ['ticket.public_reply'] }
    })
    const sub = created.json()
    const inc = await makeIncident(t, { title: 'Noted' })
    status = 503
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'hello' } })
    await dispatchAll(t)
    const tried = hook.hits.filter(h => h.body.includes('"ticket.public_reply"'))
    expect(tried.length).toBeGreaterThanOrEqual(1)
    // Every attempt carries the same webhook-id
    expect(new Set(tried.map(h => h.headers['webhook-id'])).size).toBe(1)
    let [s] = await t.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, sub.id))
    expect(s!.failingSince).not.toBeNull()
    expect(s!.enabled).toBe(true)

    // A day of failures: the next failure disables it and tells its owner
    await t.db.execute(
      sql`UPDATE webhook_subscriptions SET failing_since = now() - interval '25 hours' WHERE id = ${sub.id}`
    )
    await t.api('POST', `/api/v1/incidents/${inc.id}/notes`, { body: { body: 'again' } })
    await dispatchAll(t)
    ;[s] = await t.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, sub.id))
    expect(s!.enabled).toBe(false)
    expect(s!.disabledAt).not.toBeNull()
    const told = await t.db.select().from(notificationOutbox).where(eq(notificationOutbox.event, 'webhook.disabled'))
    expect(told).toHaveLength(1)
    expect(told[0]!.payload).toMatchObject({ subscriptionId: sub.id, name: 'Flaky', userIds: [s!.ownerId] })
    status = 200
  })

  it('answers every field over GraphQL, never the secret after create', async () => {
    const made = await t.gql(
      `mutation($input: WebhookSubscriptionInput!) { createWebhookSubscription(input: $input) ${selectAll(schema, 'WebhookSubscription')} }`,
      { input: { name: 'GraphQL feed', url: hook.url, events: ['ticket.closed'], filter: 'kind==incident' } }
    )
    expect(made.body.errors).toBeUndefined()
    const node = made.body.data!.createWebhookSubscription
    expect(
      shapeProblems(schema, 'WebhookSubscription', node, {
        strict: true,
        allowNull: ['WebhookSubscription.failingSince', 'WebhookSubscription.disabledAt']
      })
    ).toEqual([])
    const list = await t.gql(
      `{ webhookSubscriptions(first: 10) ${selectAll(schema, 'WebhookSubscriptionConnection')} }`
    )
    expect(list.body.errors).toBeUndefined()
    const listed = list.body.data!.webhookSubscriptions.edges.map((e: { node: { secret: string | null } }) => e.node)
    expect(listed.length).toBeGreaterThanOrEqual(3)
    expect(listed.every((n: { secret: string | null }) => n.secret === null)).toBe(true)
    const rotated = await t.gql(`mutation($id: ID!) { rotateWebhookSubscription(id: $id) { secret } }`, { id: node.id })
    expect(rotated.body.data!.rotateWebhookSubscription.secret).toMatch(/^whsec_/)
  })
})

describe('webhook SSRF guard (test setting off)', () => {
  let t: TestApp
  let trap: Awaited<ReturnType<typeof receiver>>
  let redirector: Awaited<ReturnType<typeof receiver>>
  beforeAll(async () => {
    trap = await receiver()
    redirector = await receiver(() => ({ status: 302, headers: { location: trap.url } }))
    t = await buildTestApp({ NOTIFY_MAX_ATTEMPTS: '1' })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await trap?.close()
    await redirector?.close()
  })

  it('refuses loopback, link-local, private and IPv4-mapped targets, naming the url', async () => {
    for (const url of [
      trap.url,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.8/hook',
      'http://192.168.1.1/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fd00::1]/',
      'http://localhost:9/hook',
      'ftp://example.com/',
      'http://user:pw@example.com/'
    ]) {
      const res = await t.api('POST', '/api/v1/webhook-subscriptions', {
        body: { name: `x ${url}`, url, events: ['ticket.created'] }
      })
      expect(res.statusCode, url).toBe(422)
      expect(res.json().errors[0].field).toBe('url')
    }
    expect(publicAddress('93.184.216.34', false)).toBe(true)
    expect(publicAddress('2606:2800:220:1::1', false)).toBe(true)
    expect(publicAddress('::ffff:93.184.216.34', false)).toBe(false)
    expect(publicAddress('127.0.0.1', true)).toBe(true)
    expect(publicAddress('10.1.2.3', true)).toBe(false)
  })

  it('never connects to a refused address: stored targets and names resolving there', async () => {
    const insert = (name: string, url: string) =>
      t.db.execute(sql`INSERT INTO webhook_subscriptions (id, name, url, events, secret)
        VALUES (gen_random_uuid(), ${name}, ${url}, '{ticket.created}', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=')`)
    // Stored before the setting was turned off, and a name that resolves to loopback (from /etc/hosts)
    await insert('stored', trap.url)
    const name = loopbackName()
    if (name) await insert('by name', `http://${name}:${trap.port}/hook`)
    await makeIncident(t, { title: 'SSRF probe' })
    await dispatchAll(t)
    expect(trap.connections()).toBe(0)
    const d = await t.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.channel, 'webhook'))
    expect(d).toHaveLength(name ? 2 : 1)
    expect(d.every(x => x.status === 'failed')).toBe(true)
    expect(d.map(x => x.error).join(' ')).toMatch(/refused address|private or local/)
  })

  it('does not follow a redirect into a private address', async () => {
    const app2 = await buildTestApp({ WEBHOOK_ALLOW_LOOPBACK: 'true', NOTIFY_MAX_ATTEMPTS: '1' })
    try {
      const res = await app2.api('POST', '/api/v1/webhook-subscriptions', {
        body: { name: 'redirects', url: redirector.url, events: ['ticket.created'] }
      })
      expect(res.statusCode).toBe(201)
      const before = trap.hits.length
      await makeIncident(app2, { title: 'Redirected' })
      await dispatchAll(app2)
      expect(redirector.hits.length).toBeGreaterThanOrEqual(1)
      expect(trap.hits.length).toBe(before)
      const [d] = await app2.db
        .select()
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.channel, 'webhook'))
      expect(d!.error).toMatch(/302: redirects are not followed/)
    } finally {
      app2.app.services.notifications.close()
      await app2.close()
    }
  })
})
