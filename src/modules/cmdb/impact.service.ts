import { authorize } from '../../auth/policy.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { fieldError, notFound } from '../../lib/errors.js'
import { formatNumber, isTicketKind, TICKET_KINDS } from '../kinds/kinds.js'
import { loadCi } from './cis.repository.js'
import type { CiTicketsInput, ImpactInput } from './cmdb.schemas.js'
import { cisById, impactOf, ticketsOfCi, typeLabels } from './impact.repository.js'

const TICKETS_SORT = 'ci-tickets'
const summary = (r: { id: string; name: string; ciClass: string; status: string }) => ({
  id: r.id,
  name: r.name,
  class: r.ciClass,
  status: r.status
})

/** The CI graph read for people: impact analysis and the tickets that name a CI. */
export function createCiGraphService(_deps: Deps) {
  return {
    async impact(ctx: Ctx, id: string, input: ImpactInput) {
      authorize(ctx.actor, 'ci.read')
      const root = await loadCi(ctx.db, id)
      if (!root) throw notFound('configuration item')
      const direction = input.direction ?? 'both'
      const depth = input.depth ?? 3
      const labels = await typeLabels(ctx.db)
      const types = input.types
        ?.split(',')
        .map(s => s.trim())
        .filter(Boolean)
      const unknown = types?.filter(t => !labels.has(t)) ?? []
      if (unknown.length) throw fieldError('types', `no such relationship type: ${unknown.join(', ')}`)
      const rows = await impactOf(ctx.db, id, { direction, depth, ...(types ? { types } : {}) })
      const cis = await cisById(ctx.db, [...new Set(rows.map(r => r.id))])
      return {
        root: summary(root),
        direction,
        depth,
        nodes: rows.flatMap(r => {
          const ci = cis.get(r.id)
          if (!ci) return []
          const l = labels.get(r.type)
          return [
            {
              ci: summary(ci),
              direction: r.direction,
              distance: r.distance,
              path: r.path,
              type: r.type,
              label: (r.direction === 'downstream' ? l?.label : l?.reverse) ?? r.type
            }
          ]
        })
      }
    },

    /** The tickets naming a CI (open ones unless `state=all`), newest first. */
    async tickets(ctx: Ctx, id: string, input: CiTicketsInput) {
      authorize(ctx.actor, 'ci.read')
      authorize(ctx.actor, 'ticket.read')
      if (!(await loadCi(ctx.db, id))) throw notFound('configuration item')
      const kinds = input.kind
        ?.split(',')
        .map(s => s.trim())
        .filter(Boolean)
      const bad = kinds?.filter(k => !isTicketKind(k)) ?? []
      if (bad.length) throw fieldError('kind', `not a kind: ${bad.join(', ')} (one of ${TICKET_KINDS.join(', ')})`)
      const limit = input.limit ?? 50
      const c = input.cursor ? decodeCursor(input.cursor, TICKETS_SORT) : undefined
      const rows = await ticketsOfCi(ctx.db, id, {
        open: (input.state ?? 'open') === 'open',
        limit,
        ...(kinds ? { kinds } : {}),
        ...(c && typeof c.value === 'string' ? { after: { createdAt: c.value, id: c.id } } : {})
      })
      return pageOf(
        rows,
        limit,
        last => ({ sort: TICKETS_SORT, value: last.createdAt.toISOString(), id: last.id }),
        r => ({ ...r, number: isTicketKind(r.kind) ? formatNumber(r.kind, r.number) : String(r.number) })
      )
    }
  }
}

export type CiGraphService = ReturnType<typeof createCiGraphService>
