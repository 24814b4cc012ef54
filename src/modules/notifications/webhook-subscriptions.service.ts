import { sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { tickets, webhookSubscriptions } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { compileFilter, type FilterField } from '../../lib/rsql.js'
import { adminResource } from '../admin/admin-resource.js'
import { recordAudit } from '../audit/audit.service.js'
import { TICKET_KINDS } from '../kinds/kinds.js'
import { checkWebhookUrl, newSecret } from './webhooks.js'
import type { WebhookInput, WebhookListInput, WebhookPatchInput } from './webhooks.schemas.js'

type Row = typeof webhookSubscriptions.$inferSelect
const FIELDS = ['name', 'url', 'events', 'filter', 'enabled'] as const

/** What a subscription's filter may name: the ticket of the event. */
export const WEBHOOK_FILTER_FIELDS: Record<string, FilterField> = {
  kind: { sql: tickets.kind, type: 'enum', values: TICKET_KINDS },
  status: { sql: tickets.status, type: 'text' },
  priority: { sql: tickets.priority, type: 'integer', min: 1, max: 5 },
  impact: { sql: tickets.impact, type: 'integer', min: 1, max: 3 },
  urgency: { sql: tickets.urgency, type: 'integer', min: 1, max: 3 },
  category: { sql: tickets.category, type: 'text', nullable: true },
  requesterId: { sql: tickets.requesterId, type: 'uuid' },
  organisationId: { sql: tickets.organisationId, type: 'uuid', nullable: true },
  teamId: { sql: tickets.teamId, type: 'uuid', nullable: true },
  assigneeId: { sql: tickets.assigneeId, type: 'uuid', nullable: true }
}

/** The row as the doors answer it: never the secret (create and rotate add it once). */
const view = ({ secret: _secret, ...rest }: Row) => rest
export type WebhookView = ReturnType<typeof view> & { secret?: string }

export const webhookKeyset = textKeyset<Row>(
  'webhooks',
  webhookSubscriptions.name,
  webhookSubscriptions.id,
  r => r.name
)
/** The cursor after a row as the doors show it (no secret): name and id are all it reads. */
export const webhookCursor = (row: Pick<Row, 'id' | 'name'>) => webhookKeyset.cursorOf(row as Row)

/** Ticket ids among `ids` a subscription's filter matches (one query). */
export async function matchingTickets(q: Queryable, filter: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const found = await q
    .select({ id: tickets.id })
    .from(tickets)
    .where(sql`${tickets.id} = ANY(${sql.param(ids)}::uuid[]) AND ${compileFilter(filter, WEBHOOK_FILTER_FIELDS)}`)
  return new Set(found.map(r => r.id))
}

/** Admin-managed webhook subscriptions: secrets shown once, rotatable; URLs checked against SSRF. */
export function createWebhookService(deps: Deps) {
  const { db, config } = deps
  const allowLoopback = config.WEBHOOK_ALLOW_LOOPBACK
  const subs = adminResource<Row, WebhookView>(db, {
    table: webhookSubscriptions,
    id: webhookSubscriptions.id,
    version: webhookSubscriptions.version,
    entityType: 'webhook_subscription',
    noun: 'webhook subscription',
    fields: FIELDS,
    view,
    authorizeRead: ctx => authorize(ctx.actor, 'config.manage'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })

  const checkUrl = (url: string) => {
    const why = checkWebhookUrl(url, allowLoopback)
    if (why) throw fieldError('url', why)
    return url
  }
  const checkFilter = (filter: string | null | undefined) => {
    if (!filter) return null
    compileFilter(filter, WEBHOOK_FILTER_FIELDS, null, 'filter')
    return filter
  }

  return {
    list: (ctx: Ctx, input: WebhookListInput) => subs.list(ctx, input, webhookKeyset),
    get: subs.get,

    async create(ctx: Ctx, input: WebhookInput): Promise<WebhookView> {
      const secret = newSecret()
      const created = await subs.create(ctx, async () => ({
        name: input.name.trim(),
        url: checkUrl(input.url),
        events: [...new Set(input.events)],
        filter: checkFilter(input.filter),
        enabled: input.enabled ?? true,
        secret,
        ownerId: ctx.actor.id
      }))
      return { ...created, secret }
    },

    update: (ctx: Ctx, id: string, input: WebhookPatchInput, expectedVersion?: number) =>
      subs.update(ctx, id, expectedVersion, async () => ({
        ...input,
        ...(input.url !== undefined ? { url: checkUrl(input.url) } : {}),
        ...(input.filter !== undefined ? { filter: checkFilter(input.filter) } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        // Enabling again starts a new failure clock
        ...(input.enabled === true ? { failingSince: null, disabledAt: null } : {})
      })),

    remove: subs.remove,

    /** A new secret, shown once; the old one stops signing at once. */
    async rotate(ctx: Ctx, id: string): Promise<WebhookView> {
      authorize(ctx.actor, 'config.manage')
      const secret = newSecret()
      return db.transaction(async tx => {
        await subs.load(tx, id, true)
        const [row] = await tx
          .update(webhookSubscriptions)
          .set({ secret, version: sql`${webhookSubscriptions.version} + 1`, updatedAt: new Date() })
          .where(sql`${webhookSubscriptions.id} = ${id}`)
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'webhook_subscription',
          entityId: id,
          action: 'secret.rotated',
          changes: [{ field: 'secret', old: '(hidden)', new: '(hidden)' }]
        })
        return { ...view(row!), secret }
      })
    }
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
