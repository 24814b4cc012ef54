import { eq, ilike, inArray } from 'drizzle-orm'
import type { Role } from '../../auth/actor.js'
import { authorize, isStaff } from '../../auth/policy.js'
import { catalogOfferings, teams, users } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { type FieldError, fieldError, validationFailed } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { loadService } from '../services/services.service.js'
import type {
  CreateOfferingInput,
  OfferingApprovalInput,
  OfferingListInput,
  UpdateOfferingInput
} from './catalog.schemas.js'

type StoredOffering = typeof catalogOfferings.$inferSelect
/** An offering as the API answers it: the jsonb columns typed. */
export interface OfferingRow extends Omit<StoredOffering, 'approval' | 'tasks'> {
  approval: OfferingApproval | null
  tasks: string[]
}
/** The jsonb columns hold only what checkApproval and the schemas let in. */
const typed = (row: StoredOffering): OfferingRow => row as OfferingRow

/** What an offering's approval holds once stored: every key present. */
export interface OfferingApproval {
  rule: 'all' | 'any' | 'quorum'
  quorum: number | null
  approverIds: string[]
  approverTeamId: string | null
}

const APPROVER_ROLES: readonly Role[] = ['technician', 'supervisor', 'manager', 'admin']

/** The offering a request is raised for: it must exist and be active; otherwise 422 naming `field`. */
export async function loadOffering(q: Queryable, id: string, field = 'offeringId'): Promise<OfferingRow> {
  if (!isUuid(id)) throw fieldError(field, 'must be a catalog offering id')
  const [row] = await q.select().from(catalogOfferings).where(eq(catalogOfferings.id, id))
  if (!row) throw fieldError(field, 'no such catalog offering')
  if (!row.active) throw fieldError(field, `the offering "${row.name}" is inactive`)
  return typed(row)
}

async function assertTeam(q: Queryable, id: string, field: string) {
  const [team] = await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id))
  if (!team) throw fieldError(field, 'no such team')
}

/**
 * An approval rule as stored, or 422 naming what is wrong. The quorum is checked against the named
 * people only when no team is named: a team's membership changes after the offering is saved, so
 * the approval round counts its members when it starts.
 */
async function checkApproval(q: Queryable, input: OfferingApprovalInput): Promise<OfferingApproval> {
  const approval: OfferingApproval = {
    rule: input.rule,
    quorum: input.quorum ?? null,
    approverIds: input.approverIds.map(id => id.toLowerCase()),
    approverTeamId: input.approverTeamId ?? null
  }
  const errors: FieldError[] = []
  if (approval.approverIds.length === 0 && !approval.approverTeamId) {
    errors.push({ field: 'approval.approverIds', message: 'name at least one approver, or an approverTeamId' })
  }
  if (approval.rule === 'quorum') {
    if (approval.quorum === null) {
      errors.push({ field: 'approval.quorum', message: 'required when the rule is quorum' })
    } else if (!approval.approverTeamId && approval.quorum > approval.approverIds.length) {
      errors.push({
        field: 'approval.quorum',
        message: `cannot exceed the ${approval.approverIds.length} named approvers`
      })
    }
  } else if (approval.quorum !== null) {
    errors.push({ field: 'approval.quorum', message: 'only the quorum rule takes a quorum' })
  }
  if (approval.approverIds.length) {
    const found = await q
      .select({ id: users.id, active: users.active, roles: users.roles })
      .from(users)
      .where(inArray(users.id, approval.approverIds))
    const byId = new Map(found.map(u => [u.id, u]))
    approval.approverIds.forEach((id, i) => {
      const user = byId.get(id)
      const field = `approval.approverIds.${i}`
      if (!user) errors.push({ field, message: 'no such user' })
      else if (!user.active) errors.push({ field, message: 'the user is disabled' })
      else if (!user.roles.some(r => APPROVER_ROLES.includes(r as Role))) {
        errors.push({ field, message: `approvers must be staff: ${APPROVER_ROLES.join(', ')}` })
      }
    })
  }
  if (errors.length) throw validationFailed(errors)
  if (approval.approverTeamId) await assertTeam(q, approval.approverTeamId, 'approval.approverTeamId')
  return approval
}

export const offeringKeyset = textKeyset<OfferingRow>('name', catalogOfferings.name, catalogOfferings.id, r => r.name)
const FIELDS = ['name', 'description', 'teamId', 'serviceId', 'approval', 'tasks', 'active'] as const

/** Non-staff (customers) see active offerings only; the rest look absent. */
const hidden = (ctx: Ctx, row: { active: boolean }) => !row.active && !isStaff(ctx.actor)

/** The service catalog's offerings: admins edit them, everyone who raises requests reads the active ones. */
export function createCatalogService({ db }: Deps) {
  const offerings = adminResource<OfferingRow, OfferingRow>(db, {
    table: catalogOfferings,
    id: catalogOfferings.id,
    version: catalogOfferings.version,
    entityType: 'offering',
    noun: 'catalog offering',
    fields: FIELDS,
    unique: { catalog_offerings_name_uq: { field: 'name', message: 'an offering with this name exists' } },
    view: typed,
    authorizeRead: ctx => authorize(ctx.actor, 'config.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    hidden
  })

  return {
    get: offerings.get,

    /** The offerings under each service, by name (GraphQL's Service.offerings, one query for all). */
    async underServices(ctx: Ctx, serviceIds: readonly string[]): Promise<Map<string, OfferingRow[]>> {
      authorize(ctx.actor, 'config.read')
      const out = new Map<string, OfferingRow[]>(serviceIds.map(id => [id, []]))
      if (serviceIds.length === 0) return out
      const rows = await ctx.db
        .select()
        .from(catalogOfferings)
        .where(inArray(catalogOfferings.serviceId, [...new Set(serviceIds)]))
        .orderBy(...offeringKeyset.orderBy)
      for (const row of rows) if (!hidden(ctx, row)) out.get(row.serviceId!)?.push(typed(row))
      return out
    },
    cursorOf: offeringKeyset.cursorOf,

    list: (ctx: Ctx, input: OfferingListInput) =>
      offerings.list(ctx, input, offeringKeyset, [
        input.active !== undefined ? eq(catalogOfferings.active, input.active) : undefined,
        input.serviceId ? eq(catalogOfferings.serviceId, input.serviceId.toLowerCase()) : undefined,
        isStaff(ctx.actor) ? undefined : eq(catalogOfferings.active, true),
        input.q ? ilike(catalogOfferings.name, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`) : undefined
      ]),

    create: (ctx: Ctx, input: CreateOfferingInput): Promise<OfferingRow> =>
      offerings.create(ctx, async tx => {
        if (input.teamId) await assertTeam(tx, input.teamId, 'teamId')
        const service = input.serviceId ? await loadService(tx, ctx.actor, input.serviceId) : null
        return {
          name: input.name,
          description: input.description ?? '',
          teamId: input.teamId ?? null,
          serviceId: service?.id ?? null,
          approval: input.approval ? await checkApproval(tx, input.approval) : null,
          tasks: input.tasks ?? [],
          active: input.active ?? true
        }
      }),

    /** null clears teamId or approval; tasks, when given, replace the list whole. */
    update: (ctx: Ctx, id: string, input: UpdateOfferingInput, expectedVersion?: number): Promise<OfferingRow> =>
      offerings.update(ctx, id, expectedVersion, async (tx, before) => {
        if (input.teamId) await assertTeam(tx, input.teamId, 'teamId')
        const { approval, serviceId, ...rest } = input
        const set: Record<string, unknown> = { ...rest }
        if (serviceId !== undefined) {
          set.serviceId = serviceId && (await loadService(tx, ctx.actor, serviceId, 'serviceId', before.serviceId)).id
        }
        if (approval !== undefined) set.approval = approval && (await checkApproval(tx, approval))
        return set
      })
  }
}

export type CatalogService = ReturnType<typeof createCatalogService>
