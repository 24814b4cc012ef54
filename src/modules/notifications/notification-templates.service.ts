import { and, eq, inArray } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { notificationTemplates } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { type FieldError, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type {
  PreviewInput,
  TemplateInput,
  TemplateListInput,
  TemplatePatchInput
} from './notification-templates.schemas.js'
import { placeholderError, render, SAMPLE_VALUES, shippedTemplate, type Template } from './templates.js'

type Row = typeof notificationTemplates.$inferSelect
const FIELDS = ['event', 'locale', 'channel', 'subject', 'text', 'html'] as const

export const templateKeyset = textKeyset<Row>(
  'notification-templates',
  notificationTemplates.event,
  notificationTemplates.id,
  r => r.event
)

/** Every part's placeholders known, and no HTML part on an SMS template: each fault names its field. */
function checkParts(t: { channel: string; subject: string; text: string; html?: string | null }) {
  const errors: FieldError[] = []
  for (const field of ['subject', 'text', 'html'] as const) {
    const part = t[field]
    const problem = typeof part === 'string' ? placeholderError(part) : null
    if (problem) errors.push({ field, message: problem })
  }
  if (t.channel === 'sms' && t.html) errors.push({ field: 'html', message: 'an SMS has no HTML part' })
  if (errors.length > 0) throw validationFailed(errors)
}

/**
 * The template in force for an event, locale and channel: the admin override of that locale, else of
 * English, else the shipped English template. The dispatcher resolves the same way per recipient.
 */
export async function templateInForce(q: Queryable, event: string, locale: string, channel: 'mail' | 'sms') {
  const found = await q
    .select()
    .from(notificationTemplates)
    .where(
      and(
        eq(notificationTemplates.event, event),
        eq(notificationTemplates.channel, channel),
        inArray(notificationTemplates.locale, [...new Set([locale, 'en'])])
      )
    )
  const row = found.find(r => r.locale === locale) ?? found.find(r => r.locale === 'en')
  return row
    ? { source: 'override' as const, templateId: row.id, template: row as Template }
    : { source: 'shipped' as const, templateId: null, template: shippedTemplate(event, channel) }
}

/**
 * Admin overrides of the notification templates, per event, locale and channel (plain text and HTML
 * parts): an admin resource (version/If-Match, audited, 409 on a second one for the same triple),
 * placeholders checked, and a preview rendering with sample values (every value escaped for HTML).
 */
export function createTemplateService(deps: Deps) {
  const templates = adminResource<Row, Row>(deps.db, {
    table: notificationTemplates,
    id: notificationTemplates.id,
    version: notificationTemplates.version,
    entityType: 'notification_template',
    noun: 'notification template',
    fields: FIELDS,
    unique: {
      notification_templates_uq: { field: 'locale', message: 'a template for this event, locale and channel exists' }
    },
    view: r => r,
    authorizeRead: ctx => authorize(ctx.actor, 'config.manage'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })
  return {
    list: (ctx: Ctx, input: TemplateListInput) =>
      templates.list(ctx, input, templateKeyset, [
        input.event ? eq(notificationTemplates.event, input.event) : undefined,
        input.locale ? eq(notificationTemplates.locale, input.locale) : undefined
      ]),
    cursorOf: templateKeyset.cursorOf,
    get: templates.get,
    create: (ctx: Ctx, input: TemplateInput) =>
      templates.create(ctx, async () => {
        const values = { ...input, html: input.html ?? null }
        checkParts(values)
        return values
      }),
    update: (ctx: Ctx, id: string, input: TemplatePatchInput, expectedVersion?: number) =>
      templates.update(ctx, id, expectedVersion, async (_tx, before) => {
        checkParts({ ...before, ...input })
        return input
      }),
    remove: templates.remove,

    async preview(ctx: Ctx, input: PreviewInput) {
      authorize(ctx.actor, 'config.manage')
      const inForce = await templateInForce(ctx.db, input.event, input.locale ?? 'en', input.channel)
      const given = input.subject !== undefined || input.text !== undefined || input.html !== undefined
      const t: Template = {
        subject: input.subject ?? inForce.template.subject,
        text: input.text ?? inForce.template.text,
        html:
          input.channel === 'sms' ? (input.html ?? null) : input.html !== undefined ? input.html : inForce.template.html
      }
      checkParts({ channel: input.channel, ...t })
      return {
        source: given ? ('given' as const) : inForce.source,
        templateId: inForce.templateId,
        ...render(t, SAMPLE_VALUES)
      }
    }
  }
}

export type TemplateService = ReturnType<typeof createTemplateService>
