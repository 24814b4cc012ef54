import type { Queryable } from '../../lib/context.js'
import { appendOutbox } from '../notifications/outbox.js'
import type { TicketSubscriber } from '../tickets/tickets.writer.js'
import { conflictSubjects, findChangeConflicts } from './changes.conflicts.js'

/** Changes off the calendar: they conflict with nothing. */
const OFF_CALENDAR = ['rejected', 'cancelled', 'closed']

/**
 * The conflicts of one change in its planned window, as the change calendar finds them (same CI,
 * related CI, freeze, and whatever that check learns to find): the one place conflicts are computed.
 */
export async function conflictsOfChange(q: Queryable, changeId: string) {
  const [subject] = await conflictSubjects(q, [changeId])
  if (!subject) return { plannedStart: null, plannedEnd: null, conflicts: [] }
  const found = await findChangeConflicts(q, [subject], { dead: OFF_CALENDAR })
  return { plannedStart: subject.plannedStart, plannedEnd: subject.plannedEnd, conflicts: found.get(changeId) ?? [] }
}

/**
 * A change reaching `scheduled` tells so (`change.scheduled`, its window in the payload) and, when its
 * window conflicts with others or a freeze, `change.conflict` with the conflicts, in the transition's
 * transaction.
 */
export function changeEventsSubscriber(maxAttempts: number): TicketSubscriber {
  return {
    name: 'changes.events',
    types: ['transitioned'],
    async onChange(ctx, change) {
      if (change.kind !== 'change' || change.after.status !== 'scheduled' || change.before?.status === 'scheduled') {
        return
      }
      const { plannedStart, plannedEnd, conflicts } = await conflictsOfChange(ctx.db, change.ticketId)
      const window = {
        plannedStart: plannedStart?.toISOString() ?? null,
        plannedEnd: plannedEnd?.toISOString() ?? null
      }
      const base = { ticketId: change.ticketId, actorId: change.actor.id }
      await appendOutbox(
        ctx.db,
        [
          { ...base, event: 'change.scheduled' as const, payload: window },
          ...(conflicts.length
            ? [{ ...base, event: 'change.conflict' as const, payload: { ...window, conflicts } }]
            : [])
        ],
        maxAttempts
      )
    }
  }
}
