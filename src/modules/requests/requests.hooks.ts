import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm'
import { isStaff } from '../../auth/policy.js'
import { requestDetails, requestTasks, tickets } from '../../db/schema/index.js'
import type { Ctx, Queryable, Tx } from '../../lib/context.js'
import { AppError, fieldError } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { recordAudit } from '../audit/audit.service.js'
import { loadOffering } from '../catalog/catalog.service.js'
import type { KindHooks } from '../tickets/tickets.ports.js'
import type { Row } from '../tickets/tickets.repository.js'
import type { TicketSubscriber } from '../tickets/tickets.writer.js'
import { OPEN_TASK_STATUSES } from './requests.schemas.js'

/**
 * The offering a request names. Customers only ever see active offerings, so to them an inactive one
 * is as absent as a missing one (its name is not told).
 */
async function offeringFor(q: Queryable, ctx: Ctx, id: unknown) {
  if (typeof id !== 'string') throw fieldError('offeringId', 'required: the catalog offering requested')
  try {
    return await loadOffering(q, id)
  } catch (err) {
    if (err instanceof AppError && !isStaff(ctx.actor) && ctx.actor.kind !== 'system') {
      throw fieldError('offeringId', 'no such catalog offering')
    }
    throw err
  }
}

/** Offering, task counts: one query for a whole page of requests. */
export async function requestDetailsOf(q: Queryable, ids: readonly string[]) {
  const out = new Map<string, Record<string, unknown>>()
  if (ids.length === 0) return out
  const open = sql.join(
    OPEN_TASK_STATUSES.map(s => sql`${s}`),
    sql`, `
  )
  const rows = await q
    .select({
      id: requestDetails.ticketId,
      offeringId: requestDetails.offeringId,
      taskCount: sql<number>`count(${requestTasks.id})::int`,
      openTaskCount: sql<number>`(count(${requestTasks.id}) filter (where ${requestTasks.status} in (${open})))::int`
    })
    .from(requestDetails)
    .leftJoin(requestTasks, eq(requestTasks.requestId, requestDetails.ticketId))
    .where(inArray(requestDetails.ticketId, [...ids]))
    .groupBy(requestDetails.ticketId, requestDetails.offeringId)
  for (const r of rows) {
    out.set(r.id, { offeringId: r.offeringId, taskCount: Number(r.taskCount), openTaskCount: Number(r.openTaskCount) })
  }
  return out
}

/**
 * What a service request adds to the ticket core: the offering it is for (whose team takes the request
 * when the body names none), one fulfilment task per offering task title, and the tasksDone requirement.
 */
export function requestHooks(): KindHooks {
  return {
    async prepareCreate(q, ctx, input) {
      const offering = await offeringFor(q, ctx, input.offeringId)
      return {
        defaults: { teamId: offering.teamId, serviceId: offering.serviceId },
        changes: [
          { field: 'offeringId', old: null, new: offering.id },
          ...(offering.tasks.length ? [{ field: 'tasks', old: null, new: offering.tasks }] : [])
        ],
        async write(tx: Tx, row: Row) {
          await tx.insert(requestDetails).values({ ticketId: row.id, offeringId: offering.id })
          if (offering.tasks.length === 0) return
          // The tasks go to the team that owns the request (the offering's unless the body named another)
          await tx.insert(requestTasks).values(
            offering.tasks.map((title, i) => ({
              id: uuidv7(),
              requestId: row.id,
              position: i + 1,
              title,
              status: 'open',
              teamId: row.teamId
            }))
          )
        }
      }
    },

    details: requestDetailsOf,

    async requirement(q, row, need) {
      if (need !== 'tasksDone') return null
      const open = await q
        .select({ title: requestTasks.title })
        .from(requestTasks)
        .where(and(eq(requestTasks.requestId, row.id), notInArray(requestTasks.status, ['done', 'cancelled'])))
        .orderBy(asc(requestTasks.position))
      if (open.length === 0) return null
      return `finish or cancel every task first; open: ${open.map(t => `"${t.title}"`).join(', ')}`
    },

    async remove(tx, ticketId) {
      await tx.delete(requestTasks).where(eq(requestTasks.requestId, ticketId))
      await tx.delete(requestDetails).where(eq(requestDetails.ticketId, ticketId))
    },

    filterFields: {
      offeringId: {
        sql: sql`(select d.offering_id from request_details d where d.ticket_id = ${tickets.id})`,
        type: 'uuid'
      }
    }
  }
}

/**
 * A request that closes unfulfilled (rejected, cancelled) takes its open tasks with it: a subscriber of
 * the ticket writer, so they are cancelled in the transaction that closes the request (single and bulk
 * transitions alike) and audited on the request like a task edit.
 */
export const requestTasksSubscriber: TicketSubscriber = {
  name: 'requests.cancel-open-tasks',
  kinds: ['request'],
  types: ['transitioned'],
  async onChange(ctx, { before, after }) {
    if (!after.closedAt || before?.closedAt) return
    const open = await ctx.db
      .select({ id: requestTasks.id, position: requestTasks.position, status: requestTasks.status })
      .from(requestTasks)
      .where(and(eq(requestTasks.requestId, after.id), inArray(requestTasks.status, [...OPEN_TASK_STATUSES])))
      .orderBy(asc(requestTasks.position))
      .for('update')
    if (open.length === 0) return
    await ctx.db
      .update(requestTasks)
      .set({ status: 'cancelled', updatedAt: new Date() })
      .where(
        inArray(
          requestTasks.id,
          open.map(t => t.id)
        )
      )
    await recordAudit(ctx.db, ctx, {
      entityType: 'ticket',
      entityId: after.id,
      action: 'task.updated',
      changes: open.map(t => ({ field: `tasks.${t.position}.status`, old: t.status, new: 'cancelled' }))
    })
  }
}
