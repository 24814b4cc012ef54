import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { makeIncident, makeUser, suffix } from '../helpers/factories.js'
import { drainOutbox, type SmtpSink, startSmtpSink } from '../helpers/smtp.js'

describe('notification templates admins override, with a preview and the shipped English fallback', () => {
  let t: TestApp
  let sink: SmtpSink
  beforeAll(async () => {
    sink = await startSmtpSink()
    t = await buildTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'desk@desk.example.test' })
  })
  afterAll(async () => {
    t?.app.services.notifications.close()
    await t?.close()
    await sink?.close()
  })
  const drain = () => drainOutbox(t)
  const person = async (locale?: string) => {
    const email = `tpl-${suffix()}@example.test`
    const u = await makeUser(t, ['technician'], { email })
    if (locale) {
      const res = await t.api('PUT', `/api/v1/users/${u.id}/notification-preferences`, {
        token: u.token,
        body: { version: 0, locale }
      })
      expect(res.statusCode).toBe(200)
    }
    return { ...u, email }
  }
  const FR = {
    event: 'ticket.created',
    locale: 'fr',
    channel: 'mail',
    subject: 'Reçu : {{title}}',
    text: 'Bonjour {{recipient}},\n\nnous avons bien reçu {{number}}.',
    html: '<p>Bonjour {{recipient}}, nous avons bien reçu <b>{{number}}</b> : {{title}}</p>'
  }

  it('checks placeholders and parts, naming the field; admins only', async () => {
    const bad = (body: Record<string, unknown>) => t.api('POST', '/api/v1/notification-templates', { body })
    const typo = await bad({ ...FR, text: 'Bonjour {{recipent}}' })
    expect(typo.statusCode).toBe(422)
    expect(typo.json().errors).toEqual([{ field: 'text', message: expect.stringContaining('{{recipent}}') }])
    const open = await bad({ ...FR, subject: 'Reçu {{title' })
    expect(open.statusCode).toBe(422)
    expect(open.json().errors[0].field).toBe('subject')
    const sms = await bad({ ...FR, channel: 'sms' })
    expect(sms.statusCode).toBe(422)
    expect(sms.json().errors[0].field).toBe('html')
    expect((await bad({ ...FR, event: 'ticket.exploded' })).statusCode).toBe(400)
    const tech = await makeUser(t, ['technician'])
    expect((await t.api('POST', '/api/v1/notification-templates', { token: tech.token, body: FR })).statusCode).toBe(
      403
    )
  })

  it('a French override reaches French recipients, others get the shipped English; deleting it falls back', async () => {
    const created = await t.api('POST', '/api/v1/notification-templates', { body: FR })
    expect(created.statusCode).toBe(201)
    const tpl = created.json()
    expect(tpl).toMatchObject({ ...FR, version: 1 })
    const twice = await t.api('POST', '/api/v1/notification-templates', { body: FR })
    expect(twice.statusCode).toBe(409)
    expect(twice.json().errors[0].field).toBe('locale')

    const fr = await person('fr')
    const en = await person()
    const a = await makeIncident(t, { title: 'Écran <noir> & froid', impact: 3, urgency: 3 }, fr.token)
    const b = await makeIncident(t, { title: 'Printer jammed', impact: 3, urgency: 3 }, en.token)
    await drain()
    const [toFr] = sink.to(fr.email)
    expect(toFr!.header('subject')).toBe(`[${a.number}] Reçu : Écran <noir> & froid`)
    expect(toFr!.text).toContain(`nous avons bien reçu ${a.number}.`)
    expect(toFr!.html).toContain(`<b>${a.number}</b> : Écran &lt;noir&gt; &amp; froid</p>`)
    const [toEn] = sink.to(en.email)
    expect(toEn!.header('subject')).toBe(`[${b.number}] Printer jammed`)
    expect(toEn!.text).toContain(`we have received your ticket ${b.number}`)

    // Update needs the version; the change takes effect on the next mail
    const path = `/api/v1/notification-templates/${tpl.id}`
    expect((await t.api('PATCH', path, { body: { subject: 'Bien reçu : {{title}}' } })).statusCode).toBe(428)
    const patched = await t.edit(path, { body: { subject: 'Bien reçu : {{title}}', html: null } })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ subject: 'Bien reçu : {{title}}', html: null, version: 2 })
    const badPatch = await t.edit(path, { body: { text: '{{nope}}' } })
    expect(badPatch.statusCode).toBe(422)
    expect(badPatch.json().errors[0].field).toBe('text')

    expect((await t.api('DELETE', path, { headers: { 'if-match': '"2"' } })).statusCode).toBe(204)
    const c = await makeIncident(t, { title: 'Back to English', impact: 3, urgency: 3 }, fr.token)
    await drain()
    const last = sink.to(fr.email).at(-1)!
    expect(last.header('subject')).toBe(`[${c.number}] Back to English`)
    expect(last.text).toContain('we have received your ticket')
  })

  it('previews the template in force or given parts with sample values, over REST and GraphQL', async () => {
    const en = await t.api('POST', '/api/v1/notification-templates', {
      body: {
        event: 'ticket.closed',
        locale: 'en',
        channel: 'mail',
        subject: 'Done: {{title}}',
        text: 'Closed {{number}}'
      }
    })
    expect(en.statusCode).toBe(201)
    // German falls back to the English override
    const de = await t.api('POST', '/api/v1/notification-templates/preview', {
      body: { event: 'ticket.closed', locale: 'de', channel: 'mail' }
    })
    expect(de.statusCode).toBe(200)
    expect(de.json()).toEqual({
      source: 'override',
      templateId: en.json().id,
      subject: 'Done: Mail server <mx1> not answering',
      text: 'Closed INC-000123',
      html: null
    })
    // No override at all: the shipped English set, HTML escaped
    const shipped = await t.api('POST', '/api/v1/notification-templates/preview', {
      body: { event: 'ticket.resolved', locale: 'fr', channel: 'mail' }
    })
    expect(shipped.json().source).toBe('shipped')
    expect(shipped.json().subject).toBe('Resolved: Mail server <mx1> not answering')
    expect(shipped.json().html).toContain('Mail server &lt;mx1&gt; not answering')
    const given = await t.api('POST', '/api/v1/notification-templates/preview', {
      body: { event: 'ticket.closed', channel: 'sms', text: '{{number}} {{titel}}' }
    })
    expect(given.statusCode).toBe(422)
    expect(given.json().errors[0].field).toBe('text')

    const gql = await t.gql(
      `query($input: NotificationTemplatePreviewInput!) { previewNotificationTemplate(input: $input) { source subject } }`,
      { input: { event: 'ticket.closed', locale: 'en', channel: 'mail', subject: 'Hi {{recipient}}' } }
    )
    expect(gql.body.data?.previewNotificationTemplate).toEqual({ source: 'given', subject: 'Hi Ada Lovelace' })
    const created = await t.gql(
      `mutation($input: NotificationTemplateInput!) { createNotificationTemplate(input: $input) { id locale version } }`,
      { input: { event: 'ticket.closed', locale: 'it', channel: 'sms', subject: '', text: '{{number}} chiuso' } }
    )
    expect(created.body.data?.createNotificationTemplate).toMatchObject({ locale: 'it', version: 1 })
    const badGql = await t.gql(
      `mutation($input: NotificationTemplateInput!) { createNotificationTemplate(input: $input) { id } }`,
      { input: { event: 'ticket.closed', locale: 'es', channel: 'mail', subject: '{{x}}', text: 'y' } }
    )
    expect(badGql.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED')
    expect(JSON.stringify(badGql.body.errors?.[0]?.extensions)).toContain('subject')
    const list = await t.gql(`{ notificationTemplates(event: "ticket.closed") { edges { node { locale channel } } } }`)
    expect(
      list.body.data?.notificationTemplates.edges.map((e: { node: { locale: string } }) => e.node.locale).sort()
    ).toEqual(['en', 'it'])
  })
})
