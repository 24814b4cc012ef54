import { eq, ilike, inArray, type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { calendars, costCentres, organisations, services, teams } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { type FieldError, fieldError, validationFailed } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import type { ServicePort } from '../tickets/tickets.ports.js'
import type { CreateServiceInput, ServiceListInput, ServiceStatus, UpdateServiceInput } from './services.schemas.js'

type StoredService = typeof services.$inferSelect
/** A service as the API answers it: its status typed. */
export interface ServiceRow extends Omit<StoredService, 'status'> {
  status: ServiceStatus
}
/** The status column holds only what the schemas let in. */
const typed = (row: StoredService): ServiceRow => row as ServiceRow

/**
 * Whether the actor reads the catalog as a customer does: only services that are customer-visible
 * and that the customer's organisation subscribes to. Staff, finance and the system see them all.
 */
const asCustomer = (actor: Actor) => actor.kind !== 'system' && !isStaff(actor) && actor.roles.has('customer')

/** Whether a customer of this actor's kind may see the service (others look absent: 404). */
export function serviceVisible(actor: Actor, row: Pick<ServiceRow, 'customerVisible' | 'organisationIds'>): boolean {
  if (!asCustomer(actor)) return true
  return row.customerVisible && !!actor.organisationId && row.organisationIds.includes(actor.organisationId)
}

/** A list condition keeping what a customer may see (none for everyone else). */
function visibleWhere(actor: Actor): SQL | undefined {
  if (!asCustomer(actor)) return undefined
  if (!actor.organisationId) return sql`false`
  return sql`${services.customerVisible} and ${actor.organisationId}::uuid = any(${services.organisationIds})`
}

/**
 * The service a write names (a ticket, an offering), or 422 naming `field`: it must exist, be visible
 * to the actor (a customer names only their organisation's customer-visible services) and, when
 * `current` is not it already, not be retired.
 */
export async function loadService(
  q: Queryable,
  actor: Actor,
  id: string,
  field = 'serviceId',
  current: string | null = null
): Promise<ServiceRow> {
  if (!isUuid(id)) throw fieldError(field, 'must be a service id')
  const [row] = await q.select().from(services).where(eq(services.id, id.toLowerCase()))
  if (!row || !serviceVisible(actor, row)) throw fieldError(field, 'no such service')
  if (row.status === 'retired' && row.id !== current) throw fieldError(field, `the service "${row.name}" is retired`)
  return typed(row)
}

/** The ticket core's port: a service a ticket names checked as loadService does. */
export const servicePort: ServicePort = {
  async resolve(q, actor, serviceId, current) {
    const row = await loadService(q, actor, serviceId, 'serviceId', current)
    return { id: row.id }
  },
  // loadService's test for a new ticket (current null), as SQL the create statement carries
  createGuard(actor, serviceId) {
    if (!isUuid(serviceId)) return null
    const id = serviceId.toLowerCase()
    const visible = visibleWhere(actor)
    return {
      id,
      holds: sql`exists (select 1 from ${services} where ${services.id} = ${id}::uuid and ${services.status} <> 'retired'${
        visible ? sql` and ${visible}` : sql``
      })`
    }
  }
}

async function checkRefs(
  q: Queryable,
  input: {
    ownerTeamId?: string | null
    supportTeamId?: string | null
    hoursCalendarId?: string | null
    costCentreId?: string | null
  }
) {
  const errors: FieldError[] = []
  for (const field of ['ownerTeamId', 'supportTeamId'] as const) {
    const id = input[field]
    if (!id) continue
    const [found] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
    if (!found) errors.push({ field, message: 'no such team' })
  }
  if (input.hoursCalendarId) {
    const [found] = await q.select({ id: calendars.id }).from(calendars).where(eq(calendars.id, input.hoursCalendarId))
    if (!found) errors.push({ field: 'hoursCalendarId', message: 'no such calendar' })
  }
  if (input.costCentreId) {
    const id = input.costCentreId.toLowerCase()
    const [found] = await q.select({ id: costCentres.id }).from(costCentres).where(eq(costCentres.id, id))
    if (!found) errors.push({ field: 'costCentreId', message: 'no such cost centre' })
  }
  return errors
}

/** The subscribers as stored: lower-case, sorted, no repeats; each must exist (422 naming its index). */
async function checkOrganisations(q: Queryable, ids: readonly string[], errors: FieldError[]) {
  const wanted = ids.map(id => id.toLowerCase())
  const found = wanted.length
    ? new Set(
        (await q.select({ id: organisations.id }).from(organisations).where(inArray(organisations.id, wanted))).map(
          r => r.id
        )
      )
    : new Set<string>()
  wanted.forEach((id, i) => {
    if (!found.has(id)) errors.push({ field: `organisationIds.${i}`, message: 'no such organisation' })
  })
  return [...new Set(wanted)].sort()
}

export const serviceKeyset = textKeyset<ServiceRow>('name', services.name, services.id, r => r.name)
const FIELDS = [
  'name',
  'description',
  'status',
  'ownerTeamId',
  'supportTeamId',
  'hoursCalendarId',
  'customerVisible',
  'organisationIds',
  'costCentreId'
] as const

const lowered = (id: string | null | undefined) => (id ? id.toLowerCase() : id)

/** The service catalog: admins edit it, staff read it all, customers read their organisation's visible services. */
export function createServiceCatalog({ db }: Deps) {
  const resource = adminResource<ServiceRow, ServiceRow>(db, {
    table: services,
    id: services.id,
    version: services.version,
    entityType: 'service',
    noun: 'service',
    fields: FIELDS,
    unique: { services_name_uq: { field: 'name', message: 'a service with this name exists' } },
    view: typed,
    authorizeRead: ctx => authorize(ctx.actor, 'config.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    hidden: (ctx, row) => !serviceVisible(ctx.actor, row)
  })

  return {
    get: resource.get,
    byIds: resource.byIds,
    cursorOf: serviceKeyset.cursorOf,

    list: (ctx: Ctx, input: ServiceListInput) =>
      resource.list(ctx, input, serviceKeyset, [
        input.status ? eq(services.status, input.status) : undefined,
        input.customerVisible !== undefined ? eq(services.customerVisible, input.customerVisible) : undefined,
        input.ownerTeamId ? eq(services.ownerTeamId, input.ownerTeamId.toLowerCase()) : undefined,
        input.supportTeamId ? eq(services.supportTeamId, input.supportTeamId.toLowerCase()) : undefined,
        input.organisationId
          ? sql`${input.organisationId.toLowerCase()}::uuid = any(${services.organisationIds})`
          : undefined,
        input.q ? ilike(services.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`) : undefined,
        visibleWhere(ctx.actor)
      ]),

    create: (ctx: Ctx, input: CreateServiceInput): Promise<ServiceRow> =>
      resource.create(ctx, async tx => {
        const errors = await checkRefs(tx, input)
        const organisationIds = await checkOrganisations(tx, input.organisationIds ?? [], errors)
        if (errors.length) throw validationFailed(errors)
        return {
          name: input.name.trim(),
          description: input.description ?? '',
          status: input.status ?? 'live',
          ownerTeamId: lowered(input.ownerTeamId) ?? null,
          supportTeamId: lowered(input.supportTeamId) ?? null,
          hoursCalendarId: lowered(input.hoursCalendarId) ?? null,
          customerVisible: input.customerVisible ?? false,
          organisationIds,
          costCentreId: lowered(input.costCentreId) ?? null
        }
      }),

    /** null clears a team or the calendar; organisationIds, when given, replaces the list whole. */
    update: (ctx: Ctx, id: string, input: UpdateServiceInput, expectedVersion?: number): Promise<ServiceRow> =>
      resource.update(ctx, id, expectedVersion, async tx => {
        const errors = await checkRefs(tx, input)
        const { organisationIds, name, ownerTeamId, supportTeamId, hoursCalendarId, costCentreId, ...rest } = input
        const set: Record<string, unknown> = { ...rest }
        if (name !== undefined) set.name = name.trim()
        if (ownerTeamId !== undefined) set.ownerTeamId = lowered(ownerTeamId)
        if (supportTeamId !== undefined) set.supportTeamId = lowered(supportTeamId)
        if (hoursCalendarId !== undefined) set.hoursCalendarId = lowered(hoursCalendarId)
        if (costCentreId !== undefined) set.costCentreId = lowered(costCentreId)
        if (organisationIds !== undefined) set.organisationIds = await checkOrganisations(tx, organisationIds, errors)
        if (errors.length) throw validationFailed(errors)
        return set
      })
  }
}

export type ServiceCatalog = ReturnType<typeof createServiceCatalog>
