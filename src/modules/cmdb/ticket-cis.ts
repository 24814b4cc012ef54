import { and, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm'
import { configurationItems, ticketCis, tickets } from '../../db/schema/index.js'
import type { Queryable, Tx } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import type { CiLinkPort } from '../tickets/tickets.ports.js'
import { MAX_TICKET_CIS } from '../tickets/tickets.schemas.js'
import { assertCisExist } from './cis.repository.js'

async function idsOf(q: Queryable, ticketIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map(ticketIds.map(id => [id, [] as string[]]))
  if (ticketIds.length === 0) return out
  const rows = await q
    .select({ ticketId: ticketCis.ticketId, ciId: ticketCis.ciId })
    .from(ticketCis)
    .where(inArray(ticketCis.ticketId, [...new Set(ticketIds)]))
    .orderBy(ticketCis.ticketId, ticketCis.ciId)
  for (const r of rows) out.get(r.ticketId)?.push(r.ciId)
  return out
}

/**
 * The CMDB's side of "tickets name CIs" (ticket_cis, for every kind): checks the ids exist, replaces a
 * ticket's set (answering the audit change), reads the sets back for views, single reads and filters.
 */
export function createCiLinkPort(): CiLinkPort {
  return {
    async check(q, ids, field) {
      const wanted = [...new Set(ids.map(id => String(id).toLowerCase()))].sort()
      if (wanted.length > MAX_TICKET_CIS) throw fieldError(field, `at most ${MAX_TICKET_CIS} CIs`)
      await assertCisExist(q, wanted, field)
      return wanted
    },

    async replace(tx: Tx, ticketId, ids) {
      const after = [...new Set(ids)].sort()
      const before = (await idsOf(tx, [ticketId])).get(ticketId) ?? []
      if (JSON.stringify(before) === JSON.stringify(after)) return []
      await tx
        .delete(ticketCis)
        .where(
          after.length
            ? and(eq(ticketCis.ticketId, ticketId), notInArray(ticketCis.ciId, after))
            : eq(ticketCis.ticketId, ticketId)
        )
      if (after.length) {
        await tx
          .insert(ticketCis)
          .values(after.map(ciId => ({ ticketId, ciId })))
          .onConflictDoNothing()
      }
      return [{ field: 'ciIds', old: before.length ? before : null, new: after }]
    },

    idsOf,

    async ownerTeamsOf(q, ticketIds) {
      const out = new Map<string, string[]>()
      if (ticketIds.length === 0) return out
      const rows = await q
        .selectDistinct({ ticketId: ticketCis.ticketId, teamId: configurationItems.ownerTeamId })
        .from(ticketCis)
        .innerJoin(configurationItems, eq(configurationItems.id, ticketCis.ciId))
        .where(and(inArray(ticketCis.ticketId, [...new Set(ticketIds)]), isNotNull(configurationItems.ownerTeamId)))
        .orderBy(ticketCis.ticketId, configurationItems.ownerTeamId)
      for (const r of rows) if (r.teamId) out.set(r.ticketId, [...(out.get(r.ticketId) ?? []), r.teamId])
      return out
    },

    idsSql: sql`coalesce((select json_agg(tc.ci_id order by tc.ci_id) from ${ticketCis} tc where tc.ticket_id = ${tickets.id}), '[]'::json)`,

    filterField: {
      sql: sql`array(select tc.ci_id from ${ticketCis} tc where tc.ticket_id = ${tickets.id})`,
      type: 'uuid',
      many: true
    }
  }
}
