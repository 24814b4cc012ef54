import { sql } from 'drizzle-orm'
import { systemActor } from '../../auth/actor.js'
import { ciSourceRecords, configurationItems, discoverySources } from '../../db/schema/index.js'
import type { PeriodicJob } from '../../jobs/job.js'
import type { Ctx, Queryable } from '../../lib/context.js'
import { withTx } from '../../lib/context.js'
import { recordAudit } from '../audit/audit.service.js'
import { viaSource } from './cis.service.js'

/**
 * Marks missing the CIs a source has not seen for its `missing_after_days` (the newest of the source's
 * records of the CI decides). One UPDATE per source, with a history row per CI; seeing it again clears it.
 */
export async function markMissing(ctx: Ctx, now = new Date()): Promise<{ marked: number }> {
  return withTx(ctx, async (tx, tctx) => {
    const sources = await tx
      .select()
      .from(discoverySources)
      .where(sql`${discoverySources.missingAfterDays} is not null`)
    let marked = 0
    for (const s of sources) {
      const cutoff = new Date(now.getTime() - s.missingAfterDays! * 86_400_000)
      const rows = await markFor(tx, s.id, cutoff, now)
      marked += rows.length
      await recordAudit(
        tx,
        viaSource(tctx, s.name),
        rows.map(r => ({
          entityType: 'ci',
          entityId: r.id,
          action: 'missing',
          changes: [{ field: 'missingSince', old: null, new: now.toISOString() }]
        }))
      )
    }
    return { marked }
  })
}

async function markFor(q: Queryable, sourceId: string, cutoff: Date, now: Date) {
  const ci = configurationItems
  const r = ciSourceRecords
  return q
    .update(ci)
    .set({ missingSince: now, version: sql`${ci.version} + 1`, updatedAt: now })
    .where(
      sql`${ci.missingSince} is null and ${ci.id} in (
        select ${r.ciId} from ${r} where ${r.sourceId} = ${sourceId}
        group by ${r.ciId} having max(${r.lastSeenAt}) < ${cutoff.toISOString()}::timestamptz)`
    )
    .returning({ id: ci.id })
}

export const missingSweep: PeriodicJob = {
  name: 'cmdb-missing-sweep',
  everyMs: 60 * 60_000,
  run: ({ db, log }) => markMissing({ actor: systemActor('cmdb-missing-sweep'), log, db })
}
