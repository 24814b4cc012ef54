import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm'
import { authorize, ticketScope } from '../../auth/policy.js'
import { changeDetails, tickets } from '../../db/schema/index.js'
import { type Ctx, type Deps, type Tx, withTx } from '../../lib/context.js'
import { decodeCursor, encodeCursor, type Page } from '../../lib/cursor.js'
import { conflict, type FieldError, validationFailed } from '../../lib/errors.js'
import { recordAudit } from '../audit/audit.service.js'
import { formatNumber, type TicketKind } from '../tickets/kinds.js'
import { fullColumns, type Row, type TicketView } from '../tickets/tickets.repository.js'
import type { PageInput } from '../tickets/tickets.schemas.js'
import { type TicketService, visibleTo } from '../tickets/tickets.service.js'
import type { WorkflowService } from '../workflows/workflows.service.js'
import type { SetChangesInput } from './releases.schemas.js'

export interface ReleaseServiceDeps extends Deps {
  tickets: TicketService
  workflows: WorkflowService
}

/** The release locked for a write to what it bundles or deploys: staff only, 409 once it is closed. */
export async function lockOpenRelease(deps: ReleaseServiceDeps, tx: Tx, ctx: Ctx, releaseId: string): Promise<Row> {
  const release = await deps.tickets.visible(ctx, 'release', releaseId)
  authorize(ctx.actor, 'ticket.update')
  const wf = await deps.workflows.get('release', tx)
  if (wf.isClosed(release.status)) throw conflict(`the release is ${release.status} and can no longer be changed`)
  return release
}

const PAGE_SORT = 'release-changes'

/**
 * The changes a release bundles (change_details.release_id). A change sits in one open release at a
 * time; the release's and each change's history record every change to the bundle.
 */
export function createReleaseService(deps: ReleaseServiceDeps) {
  const { db, tickets: core } = deps

  /** The changes' rows for the ids asked, locked in id order (so two bundlings never deadlock). */
  async function lockChanges(tx: Tx, ids: string[]) {
    if (ids.length === 0) return []
    return tx
      .select({
        id: tickets.id,
        kind: tickets.kind,
        number: tickets.number,
        organisationId: tickets.organisationId,
        requesterId: tickets.requesterId,
        releaseId: changeDetails.releaseId,
        hasDetail: sql<boolean>`${changeDetails.ticketId} is not null`
      })
      .from(tickets)
      .leftJoin(changeDetails, eq(changeDetails.ticketId, tickets.id))
      .where(inArray(tickets.id, ids))
      .orderBy(asc(tickets.id))
      .for('update', { of: tickets })
  }

  /** 409 when a change is bundled in another release that is still open, naming that release. */
  async function assertNotElsewhere(
    tx: Tx,
    releaseId: string,
    asked: string[],
    rows: Awaited<ReturnType<typeof lockChanges>>
  ) {
    const byId = new Map(rows.map(r => [r.id, r]))
    const elsewhere = [...new Set(rows.map(r => r.releaseId).filter((r): r is string => !!r && r !== releaseId))]
    if (elsewhere.length === 0) return
    const wf = await deps.workflows.get('release', tx)
    const others = await tx
      .select({ id: tickets.id, number: tickets.number, status: tickets.status })
      .from(tickets)
      .where(inArray(tickets.id, elsewhere))
    const open = new Map(others.filter(o => !wf.isClosed(o.status)).map(o => [o.id, formatNumber('release', o.number)]))
    const errors: FieldError[] = []
    const releases = new Set<string>()
    asked.forEach((id, i) => {
      const row = byId.get(id)!
      const other = row.releaseId ? open.get(row.releaseId) : undefined
      if (!other) return
      releases.add(other)
      errors.push({
        field: `changeIds.${i}`,
        message: `${formatNumber('change', row.number)} is bundled in ${other}, which is still open`
      })
    })
    if (errors.length) throw conflict(errors.map(e => e.message).join('; '), { releases: [...releases] }, errors)
  }

  async function changesIn(releaseIds: readonly string[], after?: string, limit?: number) {
    const rows = await db
      .select({ id: changeDetails.ticketId, releaseId: changeDetails.releaseId })
      .from(changeDetails)
      .where(
        and(inArray(changeDetails.releaseId, [...releaseIds]), after ? gt(changeDetails.ticketId, after) : undefined)
      )
      .orderBy(asc(changeDetails.ticketId))
      .limit(limit ?? 100_000)
    return rows
  }

  return {
    /** Replaces the changes the release bundles; answers the release (changeIds, readiness). */
    async setChanges(ctx: Ctx, releaseId: string, input: SetChangesInput): Promise<TicketView> {
      return withTx(ctx, async (tx, ctx) => {
        const release = await lockOpenRelease(deps, tx, ctx, releaseId)
        const asked = input.changeIds.map(id => id.toLowerCase())
        const wanted = [...new Set(asked)]
        const current = (
          await tx
            .select({ id: changeDetails.ticketId })
            .from(changeDetails)
            .where(eq(changeDetails.releaseId, releaseId))
        ).map(r => r.id)
        const rows = await lockChanges(tx, [...new Set([...wanted, ...current])])
        const byId = new Map(rows.map(r => [r.id, r]))
        const scope = ticketScope(ctx.actor)
        const errors: FieldError[] = []
        asked.forEach((id, i) => {
          const row = byId.get(id)
          const field = `changeIds.${i}`
          if (!row || !visibleTo(scope, row)) errors.push({ field, message: 'no such change' })
          else if (row.kind !== 'change') {
            errors.push({ field, message: `${formatNumber(row.kind as TicketKind, row.number)} is not a change` })
          } else if (!row.hasDetail) errors.push({ field, message: 'the change has no change details' })
        })
        if (errors.length) throw validationFailed(errors)
        await assertNotElsewhere(tx, releaseId, asked, rows)

        const added = wanted.filter(id => byId.get(id)!.releaseId !== releaseId)
        const removed = current.filter(id => !wanted.includes(id))
        if (added.length === 0 && removed.length === 0) return (await core.views(tx, [release]))[0]!
        if (added.length) {
          await tx.update(changeDetails).set({ releaseId }).where(inArray(changeDetails.ticketId, added))
        }
        if (removed.length) {
          await tx.update(changeDetails).set({ releaseId: null }).where(inArray(changeDetails.ticketId, removed))
        }
        // Their shapes changed (changeIds, readiness, releaseId): new versions, so ETags move on
        const bump = { version: sql`${tickets.version} + 1`, updatedAt: new Date() }
        await tx
          .update(tickets)
          .set(bump)
          .where(inArray(tickets.id, [...added, ...removed]))
        const [after] = await tx.update(tickets).set(bump).where(eq(tickets.id, releaseId)).returning(fullColumns)
        await recordAudit(tx, ctx, [
          {
            entityType: 'ticket',
            entityId: releaseId,
            action: 'changes.set',
            changes: [{ field: 'changeIds', old: current, new: wanted }]
          },
          ...added.map(id => ({
            entityType: 'ticket',
            entityId: id,
            action: 'release.bundled',
            changes: [{ field: 'releaseId', old: byId.get(id)!.releaseId, new: releaseId }]
          })),
          ...removed.map(id => ({
            entityType: 'ticket',
            entityId: id,
            action: 'release.unbundled',
            changes: [{ field: 'releaseId', old: releaseId, new: null }]
          }))
        ])
        return (await core.views(tx, [after!]))[0]!
      })
    },

    /** A page of the release's changes (the change list-row shape), in creation order. */
    async changes(ctx: Ctx, releaseId: string, page: PageInput): Promise<Page<TicketView>> {
      await core.visible(ctx, 'release', releaseId)
      const limit = page.limit ?? 50
      const after = page.cursor ? decodeCursor(page.cursor, PAGE_SORT).id : undefined
      const rows = await changesIn([releaseId], after, limit + 1)
      const kept = rows.slice(0, limit)
      const views = await core.byIds(
        ctx,
        'change',
        kept.map(r => r.id)
      )
      const byId = new Map(views.map(v => [v.id, v]))
      const last = kept[kept.length - 1]
      return {
        items: kept.map(r => byId.get(r.id)).filter((v): v is TicketView => !!v),
        nextCursor: rows.length > limit && last ? encodeCursor({ sort: PAGE_SORT, value: null, id: last.id }) : null
      }
    },

    /** The changes of several releases the caller has read, in number order (GraphQL). */
    async changesOf(ctx: Ctx, releaseIds: readonly string[]): Promise<TicketView[][]> {
      authorize(ctx.actor, 'ticket.read')
      if (releaseIds.length === 0) return []
      const rows = await changesIn(releaseIds)
      const views = await core.byIds(
        ctx,
        'change',
        rows.map(r => r.id)
      )
      const byId = new Map(views.map(v => [v.id, v]))
      return releaseIds.map(id =>
        rows
          .filter(r => r.releaseId === id)
          .map(r => byId.get(r.id))
          .filter((v): v is TicketView => !!v)
          .sort((a, b) => a.number.localeCompare(b.number))
      )
    }
  }
}

export type ReleaseService = ReturnType<typeof createReleaseService>
