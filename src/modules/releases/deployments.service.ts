import { and, asc, eq, gt, inArray } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { releaseDeployments } from '../../db/schema/index.js'
import { type Ctx, withTx } from '../../lib/context.js'
import { decodeCursor, pageOf } from '../../lib/cursor.js'
import { conflict, notFound } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'
import { assertCisExist } from '../cmdb/cis.repository.js'
import type { PageInput } from '../tickets/tickets.schemas.js'
import type { AddDeploymentInput, DeploymentStatus, UpdateDeploymentInput } from './releases.schemas.js'
import { lockOpenRelease, type ReleaseServiceDeps } from './releases.service.js'

type DeploymentRow = typeof releaseDeployments.$inferSelect

/** Where a deployment may go from each status; a failed one may be retried, a finished one rolled back. */
export const DEPLOYMENT_MOVES: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  planned: ['in_progress'],
  in_progress: ['succeeded', 'failed', 'rolled_back'],
  succeeded: ['rolled_back'],
  failed: ['in_progress', 'rolled_back'],
  rolled_back: []
}
const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'rolled_back'])

export function toDeployment(row: DeploymentRow) {
  return {
    id: row.id,
    releaseId: row.releaseId,
    target: row.target,
    ciId: row.ciId,
    status: row.status as DeploymentStatus,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    notes: row.notes,
    createdById: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt
  }
}
export type DeploymentView = ReturnType<typeof toDeployment>

/** The times a status stamps: in_progress starts the clock (again, on a retry), finishing stops it. */
function stamps(status: DeploymentStatus, now: Date): Partial<DeploymentRow> {
  if (status === 'in_progress') return { startedAt: now, finishedAt: null }
  if (FINISHED.has(status)) return { finishedAt: now }
  return {}
}

const AUDITED = ['target', 'ciId', 'status', 'notes'] as const
/** Deployment changes are on the release's history, each field named after the deployment. */
const named = (id: string, changes: Change[]) => changes.map(c => ({ ...c, field: `deployments.${id}.${c.field}` }))

/** Deployments of a release to its targets, each with its own small lifecycle; staff record them. */
export function createDeploymentService(deps: ReleaseServiceDeps) {
  const { db, tickets: core } = deps
  const SORT = 'deployments'

  return {
    async list(ctx: Ctx, releaseId: string, page: PageInput) {
      await core.visible(ctx, 'release', releaseId)
      const limit = page.limit ?? 50
      const after = page.cursor ? decodeCursor(page.cursor, SORT).id : undefined
      const rows = await db
        .select()
        .from(releaseDeployments)
        .where(and(eq(releaseDeployments.releaseId, releaseId), after ? gt(releaseDeployments.id, after) : undefined))
        .orderBy(asc(releaseDeployments.id))
        .limit(limit + 1)
      return pageOf(rows, limit, last => ({ sort: SORT, value: null, id: last.id }), toDeployment)
    },

    /** Every deployment of several releases the caller has read, oldest first (GraphQL). */
    async deploymentsOf(ctx: Ctx, releaseIds: readonly string[]): Promise<DeploymentView[][]> {
      authorize(ctx.actor, 'ticket.read')
      const ids = [...new Set(releaseIds)]
      const rows = ids.length
        ? await db
            .select()
            .from(releaseDeployments)
            .where(inArray(releaseDeployments.releaseId, ids))
            .orderBy(asc(releaseDeployments.id))
        : []
      return releaseIds.map(id => rows.filter(r => r.releaseId === id).map(toDeployment))
    },

    async add(ctx: Ctx, releaseId: string, input: AddDeploymentInput): Promise<DeploymentView> {
      return withTx(ctx, async (tx, ctx) => {
        await lockOpenRelease(deps, tx, ctx, releaseId)
        if (input.ciId) await assertCisExist(tx, [input.ciId], 'ciId')
        const status = input.status ?? 'planned'
        const now = new Date()
        const [row] = await tx
          .insert(releaseDeployments)
          .values({
            id: uuidv7(),
            releaseId,
            target: input.target.trim(),
            ciId: input.ciId?.toLowerCase() ?? null,
            status,
            notes: input.notes ?? '',
            createdBy: ctx.actor.id,
            ...(status === 'in_progress' ? { startedAt: now } : {}),
            ...(FINISHED.has(status) ? { finishedAt: now } : {})
          })
          .returning()
        const d = row!
        const created = AUDITED.filter(f => d[f] !== null && d[f] !== '').map(f => ({ field: f, old: null, new: d[f] }))
        await recordAudit(tx, ctx, {
          entityType: 'ticket',
          entityId: releaseId,
          action: 'deployment.created',
          changes: named(d.id, created)
        })
        return toDeployment(d)
      })
    },

    async update(
      ctx: Ctx,
      releaseId: string,
      deploymentId: string,
      input: UpdateDeploymentInput
    ): Promise<DeploymentView> {
      return withTx(ctx, async (tx, ctx) => {
        await lockOpenRelease(deps, tx, ctx, releaseId)
        const [before] = await tx
          .select()
          .from(releaseDeployments)
          .where(and(eq(releaseDeployments.id, deploymentId), eq(releaseDeployments.releaseId, releaseId)))
        if (!before) throw notFound('deployment')
        const set: Partial<DeploymentRow> = {}
        if (input.status !== undefined && input.status !== before.status) {
          const from = before.status as DeploymentStatus
          const allowed = DEPLOYMENT_MOVES[from]
          if (!allowed.includes(input.status)) {
            throw conflict(
              `a deployment cannot go from ${from} to ${input.status}; allowed: ${allowed.join(', ') || 'none'}`,
              { allowed: [...allowed], from }
            )
          }
          Object.assign(set, { status: input.status }, stamps(input.status, new Date()))
        }
        if (input.notes !== undefined) set.notes = input.notes
        const changes = diff(before, set, [...AUDITED])
        if (changes.length === 0) return toDeployment(before)
        const [row] = await tx
          .update(releaseDeployments)
          .set({ ...set, updatedAt: new Date() })
          .where(eq(releaseDeployments.id, deploymentId))
          .returning()
        await recordAudit(tx, ctx, {
          entityType: 'ticket',
          entityId: releaseId,
          action: 'deployment.updated',
          changes: named(deploymentId, changes)
        })
        return toDeployment(row!)
      })
    }
  }
}

export type DeploymentService = ReturnType<typeof createDeploymentService>
