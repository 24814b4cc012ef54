import { authorize, isStaff, ticketScope } from '../../auth/policy.js'
import { type Ctx, type Deps, type Queryable, type TxCtx, withTx } from '../../lib/context.js'
import { conflict, fieldError, forbidden } from '../../lib/errors.js'
import { runIdempotent } from '../../lib/idempotency.js'
import type { LinkService } from '../links/links.service.js'
import { scopeConditions, type TicketView } from '../tickets/tickets.repository.js'
import type { CreateTicketInput } from '../tickets/tickets.schemas.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import { changeCalendar } from './changes.calendar.js'
import { CONFLICT_DEPTH, conflictSubjects, findChangeConflicts, MAX_CONFLICT_DEPTH } from './changes.conflicts.js'
import {
  type CalendarInput,
  type ChangeFromProblemInput,
  type ConflictsInput,
  MAX_CALENDAR_DAYS
} from './changes.schemas.js'

const DAY_MS = 86_400_000
/** Statuses that take a change off the calendar whatever the workflow calls its final ones. */
const OFF_CALENDAR = ['rejected', 'cancelled', 'closed']

/** Change management beyond the shared ticket core: the change calendar and changes raised from problems. */
export function createChangeService(
  deps: Deps & { tickets: TicketService; links: LinkService; workflows: WorkflowService }
) {
  const { db } = deps
  /** The statuses that take a change off the calendar: the fixed ones and the workflow's closed ones. */
  const offCalendar = async (q?: Queryable) => {
    const wf = await deps.workflows.get('change', q)
    return [...new Set([...OFF_CALENDAR, ...wf.definition.statuses.filter(s => s.phase === 'closed').map(s => s.key)])]
  }
  const staffOnly = (ctx: Ctx, what: string) => {
    authorize(ctx.actor, 'ticket.read')
    if (ctx.actor.kind !== 'system' && !isStaff(ctx.actor)) throw forbidden(`${what} visible to staff only`)
  }

  return {
    /**
     * What these changes collide with (other live changes in overlapping windows on the same or related
     * CIs through the impact graph to `depth` hops, freezes), by change id, in one pass. A change without
     * a complete planned window collides with nothing. Staff only, like the calendar. Runs on `ctx.db`, so
     * inside a command's transaction it sees that command's writes.
     */
    async conflictsOf(ctx: Ctx, ids: readonly string[], input: ConflictsInput = {}) {
      staffOnly(ctx, 'change conflicts are')
      const depth = input.depth ?? CONFLICT_DEPTH
      if (!Number.isInteger(depth) || depth < 1 || depth > MAX_CONFLICT_DEPTH) {
        throw fieldError('depth', `an integer from 1 to ${MAX_CONFLICT_DEPTH}`)
      }
      const subjects = await conflictSubjects(ctx.db, ids)
      const found = await findChangeConflicts(ctx.db, subjects, { dead: await offCalendar(ctx.db), depth })
      return new Map(ids.map(id => [id, found.get(id) ?? []]))
    },

    /** One change's conflicts (404 when the change is not visible). */
    async conflicts(ctx: Ctx, id: string, input: ConflictsInput = {}) {
      staffOnly(ctx, 'change conflicts are')
      const change = await deps.tickets.visible(ctx, 'change', id)
      const [subject] = await conflictSubjects(ctx.db, [change.id])
      const items = (await this.conflictsOf(ctx, [change.id], input)).get(change.id) ?? []
      return {
        changeId: change.id,
        plannedStart: subject?.plannedStart ?? null,
        plannedEnd: subject?.plannedEnd ?? null,
        depth: input.depth ?? CONFLICT_DEPTH,
        items
      }
    },

    /** Staff only: the calendar shows every team's planned work and where it collides. */
    async calendar(ctx: Ctx, input: CalendarInput) {
      staffOnly(ctx, 'the change calendar is')
      const from = new Date(input.from)
      const to = new Date(input.to)
      if (to.getTime() <= from.getTime()) throw fieldError('to', 'must be after from')
      if (to.getTime() - from.getTime() > MAX_CALENDAR_DAYS * DAY_MS) {
        throw fieldError('to', `the window spans at most ${MAX_CALENDAR_DAYS} days`)
      }
      return changeCalendar(db, {
        from,
        to,
        limit: input.limit ?? 50,
        ...(input.cursor ? { cursor: input.cursor } : {}),
        dead: await offCalendar(),
        scope: scopeConditions(ticketScope(ctx.actor))
      })
    },

    /**
     * Raises a change to fix a problem and links it (change caused_by problem) in one transaction.
     * Title, description, impact, urgency and category come from the problem unless the body (or a
     * template it names) says otherwise.
     */
    async createFromProblem(
      ctx: Ctx,
      problemId: string,
      input: ChangeFromProblemInput,
      idempotencyKey?: string
    ): Promise<{ status: number; body: TicketView; replayed: boolean }> {
      authorize(ctx.actor, 'ticket.create')
      const run = async (ctx: TxCtx) => {
        const tx = ctx.db
        const problem = await deps.tickets.visible(ctx, 'problem', problemId)
        const wf = await deps.workflows.get('problem', tx)
        if (wf.isClosed(problem.status)) {
          throw conflict(`the problem is ${problem.status}: raise changes for open problems`)
        }
        const fromProblem: Record<string, unknown> = {
          title: problem.title,
          description: problem.description,
          impact: problem.impact,
          urgency: problem.urgency,
          ...(problem.category ? { category: problem.category } : {})
        }
        // The body wins, then the template it names, then the problem
        const templates = deps.tickets.ports.templates
        const own = input.templateId && templates ? await templates.apply(tx, 'change', input.templateId, input) : input
        const create = { ...fromProblem, ...own } as CreateTicketInput
        const change = (await deps.tickets.create(ctx, 'change', create)).body
        await deps.links.addLink(ctx, change.id, problem.id, 'caused_by')
        return change
      }
      return runIdempotent(ctx, idempotencyKey, 'problem.change.create', { problemId, input }, 201, c =>
        withTx(c, (_tx, c) => run(c))
      )
    }
  }
}

export type ChangeService = ReturnType<typeof createChangeService>
