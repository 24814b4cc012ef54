import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { catalogOfferings, requestTasks, tickets } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Queryable, type Tx, withTx } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { AppError, conflict, fieldError, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'
import type { OfferingRow } from '../catalog/catalog.service.js'
import type { createTeamService } from '../identity/teams.service.js'
import type { TicketKind } from '../tickets/kinds.js'
import type { Row } from '../tickets/tickets.repository.js'
import type { PageInput } from '../tickets/tickets.schemas.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import type {
  AddTaskInput,
  ReclassifyIncidentInput,
  ReclassifyRequestInput,
  TaskStatus,
  UpdateTaskInput
} from './requests.schemas.js'

type TaskRow = typeof requestTasks.$inferSelect

export interface RequestServiceDeps extends Deps {
  tickets: TicketService
  teams: ReturnType<typeof createTeamService>
  workflows: WorkflowService
}

export function toTask(row: TaskRow) {
  return {
    id: row.id,
    requestId: row.requestId,
    position: row.position,
    title: row.title,
    status: row.status as TaskStatus,
    teamId: row.teamId,
    assigneeId: row.assigneeId,
    doneAt: row.doneAt,
    doneById: row.doneBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt
  }
}
export type TaskView = ReturnType<typeof toTask>

const TASK_AUDITED = ['title', 'status', 'teamId', 'assigneeId'] as const
/** Task changes are recorded on the request's history, each field named after the task's position. */
const taskChanges = (position: number, changes: Change[]) =>
  changes.map(c => ({ ...c, field: `tasks.${position}.${c.field}` }))

/**
 * Fulfilment tasks of service requests and reclassification between incidents and requests. Staff
 * work the tasks; whoever sees a request reads its tasks. Every task write is on the request's history.
 */
export function createRequestService({ db, tickets: core, teams, workflows }: RequestServiceDeps) {
  /** The request locked for a task write: staff only, and not once it is in a closed status (409). */
  async function openRequest(tx: Tx, ctx: Ctx, requestId: string): Promise<Row> {
    const request = await core.visible(ctx, 'request', requestId)
    authorize(ctx.actor, 'ticket.update')
    const wf = await workflows.get('request', tx)
    if (wf.isClosed(request.status)) {
      throw conflict(`the request is ${request.status}: its tasks can no longer be changed`)
    }
    return request
  }

  /** A team for a task (422 teamId when absent) and an assignee from its first layer (422 assigneeId). */
  async function checkAssignment(q: Queryable, teamId: string | null, assigneeId: string | null) {
    if (!teamId) {
      if (assigneeId) throw fieldError('assigneeId', 'the task has no team: name a teamId too')
      return
    }
    const team = await teams.load(q, teamId).catch(err => {
      if (err instanceof AppError && err.status === 404) throw fieldError('teamId', 'no such team')
      throw err
    })
    if (assigneeId && !(await teams.isMember(q, teamId, 1, assigneeId))) {
      throw fieldError('assigneeId', `not a member of layer 1 of team "${team.name}"`)
    }
  }

  /** The request's representation (task counts) changed: a new version, so ETags move on. */
  async function touch(tx: Tx, requestId: string) {
    await tx
      .update(tickets)
      .set({ version: sql`${tickets.version} + 1`, updatedAt: new Date() })
      .where(eq(tickets.id, requestId))
  }

  return {
    async tasks(ctx: Ctx, requestId: string, page: PageInput) {
      await core.visible(ctx, 'request', requestId)
      const limit = page.limit ?? 50
      const after = page.cursor ? Number(decodeCursor(page.cursor, 'tasks').value) : 0
      const rows = await db
        .select()
        .from(requestTasks)
        .where(and(eq(requestTasks.requestId, requestId), gt(requestTasks.position, after)))
        .orderBy(asc(requestTasks.position))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: 'tasks', value: last.position, id: last.id }), toTask)
    },

    /** Every task of several requests the caller has already read, in one query (GraphQL). */
    async tasksOf(ctx: Ctx, requestIds: readonly string[]): Promise<TaskView[][]> {
      authorize(ctx.actor, 'ticket.read')
      const ids = [...new Set(requestIds)]
      const rows = ids.length
        ? await db
            .select()
            .from(requestTasks)
            .where(inArray(requestTasks.requestId, ids))
            .orderBy(asc(requestTasks.requestId), asc(requestTasks.position))
        : []
      return requestIds.map(id => rows.filter(r => r.requestId === id).map(toTask))
    },

    async addTask(ctx: Ctx, requestId: string, input: AddTaskInput): Promise<TaskView> {
      return withTx(ctx, async (tx, ctx) => {
        const request = await openRequest(tx, ctx, requestId)
        const teamId = input.teamId ?? request.teamId
        const assigneeId = input.assigneeId ?? null
        await checkAssignment(tx, teamId, assigneeId)
        const [last] = await tx
          .select({ n: sql<number>`coalesce(max(${requestTasks.position}), 0)::int` })
          .from(requestTasks)
          .where(eq(requestTasks.requestId, requestId))
        const [row] = await tx
          .insert(requestTasks)
          .values({
            id: uuidv7(),
            requestId,
            position: Number(last?.n ?? 0) + 1,
            title: input.title.trim(),
            status: 'open',
            teamId,
            assigneeId
          })
          .returning()
        const task = row!
        const created = TASK_AUDITED.filter(f => task[f] !== null).map(f => ({ field: f, old: null, new: task[f] }))
        await touch(tx, requestId)
        await recordAudit(tx, ctx, {
          entityType: 'ticket',
          entityId: requestId,
          action: 'task.created',
          changes: taskChanges(task.position, created)
        })
        return toTask(task)
      })
    },

    async updateTask(ctx: Ctx, requestId: string, taskId: string, input: UpdateTaskInput): Promise<TaskView> {
      return withTx(ctx, async (tx, ctx) => {
        await openRequest(tx, ctx, requestId)
        const [before] = await tx
          .select()
          .from(requestTasks)
          .where(and(eq(requestTasks.id, taskId), eq(requestTasks.requestId, requestId)))
        if (!before) throw notFound('task')
        const set: Partial<TaskRow> = {}
        if (input.title !== undefined) set.title = input.title.trim()
        if (input.status !== undefined && input.status !== before.status) {
          set.status = input.status
          // Only a done task carries who finished it and when; reopening or cancelling clears both
          const done = input.status === 'done'
          set.doneAt = done ? new Date() : null
          set.doneBy = done ? ctx.actor.id : null
        }
        if (input.teamId !== undefined || input.assigneeId !== undefined) {
          const teamId = input.teamId !== undefined ? input.teamId : before.teamId
          const teamChanged = teamId !== before.teamId
          const assigneeId = input.assigneeId !== undefined ? input.assigneeId : teamChanged ? null : before.assigneeId
          await checkAssignment(tx, teamId, assigneeId)
          Object.assign(set, { teamId, assigneeId })
        }
        const changes = diff(before, set, [...TASK_AUDITED])
        if (changes.length === 0) return toTask(before)
        const [row] = await tx
          .update(requestTasks)
          .set({ ...set, updatedAt: new Date() })
          .where(eq(requestTasks.id, taskId))
          .returning()
        await touch(tx, requestId)
        await recordAudit(tx, ctx, {
          entityType: 'ticket',
          entityId: requestId,
          action: 'task.updated',
          changes: taskChanges(before.position, changes)
        })
        return toTask(row!)
      })
    },

    /** An incident becomes a request for an offering, or a request an incident: same id, a new number. */
    reclassify: (
      ctx: Ctx,
      from: Extract<TicketKind, 'incident' | 'request'>,
      id: string,
      input: ReclassifyIncidentInput | ReclassifyRequestInput
    ) => core.reclassify(ctx, from, id, input),

    /** Offerings of requests the caller has already read (GraphQL): the one each request is for. */
    async offeringsByIds(ctx: Ctx, ids: readonly string[]): Promise<(OfferingRow | null)[]> {
      authorize(ctx.actor, 'config.read')
      const rows = ids.length
        ? await db
            .select()
            .from(catalogOfferings)
            .where(inArray(catalogOfferings.id, [...new Set(ids)]))
        : []
      const byId = new Map(rows.map(r => [r.id, r as OfferingRow]))
      return ids.map(id => byId.get(id) ?? null)
    }
  }
}

export type RequestService = ReturnType<typeof createRequestService>
