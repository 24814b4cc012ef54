import { eq, inArray, sql } from 'drizzle-orm'
import type { Role } from '../../auth/actor.js'
import { releaseDetails, teams, tickets, users } from '../../db/schema/index.js'
import type { Queryable, Tx } from '../../lib/context.js'
import { type FieldError, validationFailed } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { type Change, diff } from '../audit/audit.service.js'
import type { KindHooks } from '../tickets/tickets.ports.js'
import type { Row } from '../tickets/tickets.repository.js'
import { bundledChanges, readinessOf } from './releases.readiness.js'
import { VERSION_MAX } from './releases.schemas.js'

type DetailRow = typeof releaseDetails.$inferSelect
const STAFF: readonly Role[] = ['technician', 'supervisor', 'manager', 'admin']
const AUDITED = ['version', 'managerId', 'releaseTeamId', 'plannedDate'] as const
/**
 * The side table's `version` is `releaseVersion` in the API: `version` is every ticket's row version
 * (ETag, If-Match), so the release's own version cannot share the name.
 */
const apiName = (c: Change): Change => (c.field === 'version' ? { ...c, field: 'releaseVersion' } : c)

/** Values a template or a GraphQL client may hand over: typed again here, every problem named at once. */
async function checkFields(q: Queryable, input: Record<string, unknown>, errors: FieldError[]) {
  const set: Partial<DetailRow> = {}
  if (input.releaseVersion !== undefined) {
    const v = typeof input.releaseVersion === 'string' ? input.releaseVersion.trim() : ''
    if (!v || v.length > VERSION_MAX) {
      errors.push({ field: 'releaseVersion', message: `1 to ${VERSION_MAX} characters` })
    } else set.version = v
  }
  if (input.managerId !== undefined) {
    const id = String(input.managerId)
    const [user] = isUuid(id)
      ? await q.select({ active: users.active, roles: users.roles }).from(users).where(eq(users.id, id))
      : []
    if (!user) errors.push({ field: 'managerId', message: 'no such user' })
    else if (!user.active) errors.push({ field: 'managerId', message: 'the user is disabled' })
    else if (!user.roles.some(r => STAFF.includes(r as Role))) {
      errors.push({ field: 'managerId', message: `a release manager has a staff role: ${STAFF.join(', ')}` })
    } else set.managerId = id.toLowerCase()
  }
  if (input.releaseTeamId !== undefined) {
    if (input.releaseTeamId === null) set.releaseTeamId = null
    else {
      const id = String(input.releaseTeamId)
      const [team] = isUuid(id) ? await q.select({ id: teams.id }).from(teams).where(eq(teams.id, id)) : []
      if (!team) errors.push({ field: 'releaseTeamId', message: 'no such team' })
      else set.releaseTeamId = team.id
    }
  }
  if (input.plannedDate !== undefined) {
    const d = input.plannedDate === null ? null : new Date(String(input.plannedDate))
    if (d && Number.isNaN(d.getTime())) errors.push({ field: 'plannedDate', message: 'not a date-time' })
    else set.plannedDate = d
  }
  return set
}

/** Version, manager, team, date, bundled changes and readiness of several releases: two queries. */
export async function releaseDetailsOf(q: Queryable, ids: readonly string[]) {
  const out = new Map<string, Record<string, unknown>>()
  if (ids.length === 0) return out
  const [rows, changes] = await Promise.all([
    q
      .select()
      .from(releaseDetails)
      .where(inArray(releaseDetails.ticketId, [...ids])),
    bundledChanges(q, ids)
  ])
  for (const r of rows) {
    const own = changes.filter(c => c.releaseId === r.ticketId)
    out.set(r.ticketId, {
      releaseVersion: r.version,
      managerId: r.managerId,
      releaseTeamId: r.releaseTeamId,
      plannedDate: r.plannedDate,
      changeIds: own.map(c => c.changeId),
      readiness: readinessOf(own)
    })
  }
  return out
}

const subquery = (column: string) =>
  sql`(select ${sql.raw(`d.${column}`)} from release_details d where d.ticket_id = ${tickets.id})`

/**
 * What the release kind adds to the ticket core: its side row (version, manager, release team, planned
 * date), the bundled changes' readiness in its shape and the changesReady requirement.
 */
export function releaseHooks(): KindHooks {
  return {
    async prepareCreate(q, _ctx, input) {
      const errors: FieldError[] = []
      if (input.releaseVersion === undefined || input.releaseVersion === null) {
        errors.push({ field: 'releaseVersion', message: 'required: the version shipped, e.g. 4.1.0' })
      }
      if (input.managerId === undefined || input.managerId === null) {
        errors.push({ field: 'managerId', message: 'required: the release manager (a staff user)' })
      }
      const set = await checkFields(q, input, errors)
      if (errors.length) throw validationFailed(errors)
      const values = {
        version: set.version!,
        managerId: set.managerId!,
        releaseTeamId: set.releaseTeamId ?? null,
        plannedDate: set.plannedDate ?? null
      }
      const changes: Change[] = AUDITED.filter(f => values[f] !== null).map(f =>
        apiName({ field: f, old: null, new: f === 'plannedDate' ? values.plannedDate!.toISOString() : values[f] })
      )
      return {
        changes,
        async write(tx: Tx, row: Row) {
          await tx.insert(releaseDetails).values({ ticketId: row.id, ...values })
        }
      }
    },

    async update(tx, _ctx, before, input) {
      const errors: FieldError[] = []
      if (input.managerId === null) errors.push({ field: 'managerId', message: 'a release always has a manager' })
      const set = await checkFields(tx, input.managerId === null ? { ...input, managerId: undefined } : input, errors)
      if (errors.length) throw validationFailed(errors)
      const [current] = await tx.select().from(releaseDetails).where(eq(releaseDetails.ticketId, before.id))
      if (!current) return []
      const changes = diff(current, set, [...AUDITED])
      if (changes.length) await tx.update(releaseDetails).set(set).where(eq(releaseDetails.ticketId, before.id))
      return changes.map(apiName)
    },

    details: releaseDetailsOf,

    async requirement(q, row, need) {
      if (need !== 'changesReady') return null
      const readiness = readinessOf(await bundledChanges(q, [row.id]))
      if (readiness.ready) return null
      if (readiness.total === 0) return 'bundle at least one change first'
      const names = readiness.blocking.map(b => `${b.number} (${b.status})`)
      return `changes not ready: ${names.join(', ')}`
    },

    filterFields: {
      releaseVersion: { sql: subquery('version'), type: 'text' },
      managerId: { sql: subquery('manager_id'), type: 'uuid' },
      releaseTeamId: { sql: subquery('release_team_id'), type: 'uuid', nullable: true },
      plannedDate: { sql: subquery('planned_date'), type: 'datetime', nullable: true }
    }
  }
}
