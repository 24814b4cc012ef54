import { authorize } from '../../auth/policy.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { fieldError, notFound } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { formatNumber, isTicketKind, TICKET_KINDS } from '../kinds/kinds.js'
import { loadCi } from './cis.repository.js'
import { type CiTicketsInput, DEFAULT_IMPACT_LIMIT, type ImpactInput } from './cmdb.schemas.js'
import {
  byDistance,
  cisById,
  firstTicketsOfCis,
  type ImpactRow,
  impactOf,
  impactReach,
  ticketsOfCi,
  typeLabels
} from './impact.repository.js'

const TICKETS_SORT = 'ci-tickets'
const summary = (r: { id: string; name: string; ciClass: string; status: string }) => ({
  id: r.id,
  name: r.name,
  class: r.ciClass,
  status: r.status
})

/** Direction, depth and relationship types of an impact read, checked against the catalogue. */
async function readInput(ctx: Ctx, input: ImpactInput) {
  const direction = input.direction ?? 'both'
  const depth = input.depth ?? 3
  const limit = input.limit ?? DEFAULT_IMPACT_LIMIT
  const labels = await typeLabels(ctx.db)
  const types = input.types
    ?.split(',')
    .map(s => s.trim())
    .filter(Boolean)
  const unknown = types?.filter(t => !labels.has(t)) ?? []
  if (unknown.length) throw fieldError('types', `no such relationship type: ${unknown.join(', ')}`)
  return { direction, depth, limit, labels, types }
}

/** The nodes of an impact answer: each row with its CI and the reading of its last hop. */
function nodesOf(
  rows: ImpactRow[],
  cis: Awaited<ReturnType<typeof cisById>>,
  labels: Awaited<ReturnType<typeof typeLabels>>
) {
  return rows.flatMap(r => {
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

/** The CI graph read for people: impact analysis and the tickets that name a CI. */
export function createCiGraphService(_deps: Deps) {
  return {
    async impact(ctx: Ctx, id: string, input: ImpactInput) {
      authorize(ctx.actor, 'ci.read')
      const root = await loadCi(ctx.db, id)
      if (!root) throw notFound('configuration item')
      const { direction, depth, limit, labels, types } = await readInput(ctx, input)
      const reached = await impactOf(ctx.db, id, { direction, depth, limit, ...(types ? { types } : {}) })
      const rows = reached.slice(0, limit)
      const cis = await cisById(ctx.db, [...new Set(rows.map(r => r.id))])
      return {
        root: summary(root),
        direction,
        depth,
        limit,
        truncated: reached.length > limit,
        nodes: nodesOf(rows, cis, labels)
      }
    },

    /**
     * The impact of many CIs at once (a GraphQL list asking each CI's impact): one recursive query for
     * every root, one read of the CIs reached. By root id; an id naming no CI answers null.
     */
    async impactMany(ctx: Ctx, ids: readonly string[], input: ImpactInput) {
      authorize(ctx.actor, 'ci.read')
      const { direction, depth, limit, labels, types } = await readInput(ctx, input)
      const roots = await cisById(ctx.db, [...new Set(ids)])
      const reach = await impactReach(ctx.db, [...roots.keys()], {
        direction,
        depth,
        limit,
        ...(types ? { types } : {})
      })
      const byRoot = new Map<string, ImpactRow[]>()
      for (const r of reach) {
        const own = byRoot.get(r.root)
        if (own) own.push(r)
        else byRoot.set(r.root, [r])
      }
      const truncated = new Set<string>()
      for (const [root, own] of byRoot) {
        own.sort(byDistance)
        if (own.length > limit) {
          truncated.add(root)
          own.length = limit
        }
      }
      const cis = await cisById(ctx.db, [...new Set([...byRoot.values()].flatMap(own => own.map(r => r.id)))])
      return new Map(
        ids.map(id => {
          const root = roots.get(id)
          if (!root) return [id, null] as const
          const own = byRoot.get(id) ?? []
          const answer = {
            root: summary(root),
            direction,
            depth,
            limit,
            truncated: truncated.has(id),
            nodes: nodesOf(own, cis, labels)
          }
          return [id, answer] as const
        })
      )
    },

    /** The tickets naming a CI (open ones unless `state=all`), newest first. */
    async tickets(ctx: Ctx, id: string, input: CiTicketsInput) {
      authorize(ctx.actor, 'ci.read')
      authorize(ctx.actor, 'ticket.read')
      if (!(await loadCi(ctx.db, id))) throw notFound('configuration item')
      const kinds = kindsOf(input)
      const limit = input.limit ?? 50
      const c = input.cursor ? decodeCursor(input.cursor, TICKETS_SORT) : undefined
      const rows = await ticketsOfCi(ctx.db, id, {
        open: (input.state ?? 'open') === 'open',
        limit,
        ...(kinds ? { kinds } : {}),
        ...(c && typeof c.value === 'string' ? { after: { createdAt: c.value, id: c.id } } : {})
      })
      return ticketPage(rows, limit)
    },

    /**
     * The first page of tickets of each of many CIs (a GraphQL list asking each CI's tickets with the
     * same state, kinds and page size): one query; in the order asked.
     */
    async firstTickets(ctx: Ctx, ids: readonly string[], input: Omit<CiTicketsInput, 'cursor'>) {
      authorize(ctx.actor, 'ci.read')
      authorize(ctx.actor, 'ticket.read')
      const kinds = kindsOf(input)
      const limit = input.limit ?? 50
      const wanted = [...new Set(ids)].filter(isUuid)
      const rows = wanted.length
        ? await firstTicketsOfCis(ctx.db, wanted, {
            open: (input.state ?? 'open') === 'open',
            limit,
            ...(kinds ? { kinds } : {})
          })
        : []
      const byCi = new Map<string, typeof rows>()
      for (const r of rows) byCi.set(r.ciId, [...(byCi.get(r.ciId) ?? []), r])
      return ids.map(id =>
        ticketPage(
          (byCi.get(id) ?? []).map(({ ciId: _c, ...r }) => r),
          limit
        )
      )
    }
  }
}

/** The kinds a tickets read names, checked (422 naming `kind`). */
function kindsOf(input: { kind?: string | undefined }) {
  const kinds = input.kind
    ?.split(',')
    .map(s => s.trim())
    .filter(Boolean)
  const bad = kinds?.filter(k => !isTicketKind(k)) ?? []
  if (bad.length) throw fieldError('kind', `not a kind: ${bad.join(', ')} (one of ${TICKET_KINDS.join(', ')})`)
  return kinds
}

type TicketRow = Awaited<ReturnType<typeof ticketsOfCi>>[number]

function ticketPage(rows: TicketRow[], limit: number) {
  return pageOf(
    rows,
    limit,
    last => ({ sort: TICKETS_SORT, value: last.createdAt.toISOString(), id: last.id }),
    r => ({ ...r, number: isTicketKind(r.kind) ? formatNumber(r.kind, r.number) : String(r.number) })
  )
}

export type CiGraphService = ReturnType<typeof createCiGraphService>
