import { authorize, isStaff, ticketScope } from '../../auth/policy.js'
import { type Ctx, type Deps, type TxCtx, withTx } from '../../lib/context.js'
import { conflict, fieldError, forbidden } from '../../lib/errors.js'
import { runIdempotent } from '../../lib/idempotency.js'
import type { LinkService } from '../links/links.service.js'
import { scopeConditions, type TicketView } from '../tickets/tickets.repository.js'
import type { CreateTicketInput } from '../tickets/tickets.schemas.js'
import type { TicketService } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import { changeCalendar } from './changes.calendar.js'
import { type CalendarInput, type ChangeFromProblemInput, MAX_CALENDAR_DAYS } from './changes.schemas.js'

const DAY_MS = 86_400_000
/** Statuses that take a change off the calendar whatever the workflow calls its final ones. */
const OFF_CALENDAR = ['rejected', 'cancelled', 'closed']

/** Change management beyond the shared ticket core: the change calendar and changes raised from problems. */
export function createChangeService(
  deps: Deps & { tickets: TicketService; links: LinkService; workflows: WorkflowService }
) {
  const { db } = deps

  return {
    /** Staff only: the calendar shows every team's planned work and where it collides. */
    async calendar(ctx: Ctx, input: CalendarInput) {
      authorize(ctx.actor, 'ticket.read')
      if (ctx.actor.kind !== 'system' && !isStaff(ctx.actor)) {
        throw forbidden('the change calendar is visible to staff only')
      }
      const from = new Date(input.from)
      const to = new Date(input.to)
      if (to.getTime() <= from.getTime()) throw fieldError('to', 'must be after from')
      if (to.getTime() - from.getTime() > MAX_CALENDAR_DAYS * DAY_MS) {
        throw fieldError('to', `the window spans at most ${MAX_CALENDAR_DAYS} days`)
      }
      const wf = await deps.workflows.get('change')
      const dead = [
        ...new Set([...OFF_CALENDAR, ...wf.definition.statuses.filter(s => s.phase === 'closed').map(s => s.key)])
      ]
      return changeCalendar(db, {
        from,
        to,
        limit: input.limit ?? 50,
        ...(input.cursor ? { cursor: input.cursor } : {}),
        dead,
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
