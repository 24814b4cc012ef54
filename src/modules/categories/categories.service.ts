import { and, count, eq, ilike, inArray, isNull, type SQL, sql } from 'drizzle-orm'
import { authorize, isStaff } from '../../auth/policy.js'
import { categories } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable, Tx } from '../../lib/context.js'
import { conflictField, fieldError } from '../../lib/errors.js'
import { isUuid } from '../../lib/ids.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { type AuditEntry, recordAudit } from '../audit/audit.service.js'
import type { TicketKind } from '../tickets/kinds.js'
import type { TicketService } from '../tickets/tickets.service.js'
import {
  type CategoryListInput,
  type CategoryTreeInput,
  type CategoryTreeNode,
  type CreateCategoryInput,
  MAX_DEPTH,
  MAX_NODES,
  PATH_SEPARATOR,
  type UpdateCategoryInput
} from './categories.schemas.js'

export type CategoryRow = typeof categories.$inferSelect
export interface CategoryView extends CategoryRow {
  depth: number
}

/** Names cannot hold '/', so the separators in a path count the levels. */
export const depthOf = (path: string) => path.split(PATH_SEPARATOR).length
const view = (row: CategoryRow): CategoryView => ({ ...row, depth: depthOf(row.path) })
const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows

interface ChainRow {
  id: string
  kind: string
  path: string
  active: boolean
}

/** The category and its ancestors, nearest first (empty when there is no such category). */
async function chainUp(q: Queryable, id: string): Promise<ChainRow[]> {
  const result = await q.execute(sql`
    WITH RECURSIVE up AS (
      SELECT id, parent_id, kind, path, active, 1 AS n FROM categories WHERE id = ${id}
      UNION ALL
      SELECT c.id, c.parent_id, c.kind, c.path, c.active, up.n + 1
      FROM categories c JOIN up ON c.id = up.parent_id
      WHERE up.n < ${MAX_DEPTH * 2}
    )
    SELECT id, kind, path, active FROM up ORDER BY n`)
  return rowsOf<ChainRow>(result)
}

/**
 * The category the ticket core files a ticket under: it must exist, belong to this kind's tree and be
 * usable (itself and every category above it active). Otherwise 422 naming `field`.
 */
export async function resolveCategory(
  q: Queryable,
  kind: TicketKind,
  categoryId: string,
  field = 'categoryId'
): Promise<{ id: string; path: string }> {
  if (!isUuid(categoryId)) throw fieldError(field, 'must be a category id')
  const chain = await chainUp(q, categoryId)
  const node = chain[0]
  if (!node) throw fieldError(field, 'no such category')
  if (node.kind !== kind) throw fieldError(field, `the category belongs to the ${node.kind} tree, not ${kind}`)
  if (!node.active) throw fieldError(field, `the category "${node.path}" is inactive`)
  const off = chain.find(c => !c.active)
  if (off) throw fieldError(field, `the category is under "${off.path}", which is inactive`)
  return { id: node.id, path: node.path }
}

/** The same lookup in the shape of the ticket core's CategoryPort. */
export const categoryPort = { resolve: resolveCategory }

export const categoryKeyset = textKeyset<CategoryRow>('path', categories.path, categories.id, r => r.path)

/** Per-kind category trees; writes to one kind's tree are serialised by an advisory lock. */
export function createCategoryService({ db, tickets }: Deps & { tickets: Pick<TicketService, 'writer'> }) {
  const lockKind = (tx: Tx, kind: string) =>
    tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`categories:${kind}`}))`)

  /** Non-staff (customers) see active categories only; the rest look absent. */
  const hidden = (ctx: Ctx, row: CategoryRow) => !row.active && !isStaff(ctx.actor)

  async function subtreeHeight(q: Queryable, id: string): Promise<number> {
    const result = await q.execute(sql`
      WITH RECURSIVE down AS (
        SELECT id, 1 AS h FROM categories WHERE id = ${id}
        UNION ALL
        SELECT c.id, down.h + 1 FROM categories c JOIN down ON c.parent_id = down.id WHERE down.h < ${MAX_DEPTH * 2}
      )
      SELECT max(h)::int AS h FROM down`)
    return Number(rowsOf<{ h: number }>(result)[0]?.h ?? 1)
  }

  /** Rewrites the path of a category and everything under it in one statement; answers the changed rows. */
  async function rewritePaths(tx: Tx, id: string, newPath: string) {
    const result = await tx.execute(sql`
      WITH RECURSIVE sub AS (
        SELECT id, path AS old_path, ${newPath}::text AS new_path FROM categories WHERE id = ${id}
        UNION ALL
        SELECT c.id, c.path, sub.new_path || ${PATH_SEPARATOR} || c.name
        FROM categories c JOIN sub ON c.parent_id = sub.id
      )
      UPDATE categories AS c SET path = sub.new_path, updated_at = now()
      FROM sub
      WHERE c.id = sub.id AND c.path IS DISTINCT FROM sub.new_path
      RETURNING c.id, sub.old_path, c.path`)
    return rowsOf<{ id: string; old_path: string; path: string }>(result)
  }

  const nodes = adminResource<CategoryRow, CategoryView>(db, {
    table: categories,
    id: categories.id,
    version: categories.version,
    entityType: 'category',
    noun: 'category',
    fields: ['kind', 'name', 'parentId', 'active', 'path'],
    unique: {
      categories_sibling_name_uq: {
        field: 'name',
        message: row => `"${row.path}" already exists at this place in the tree`
      }
    },
    view,
    authorizeRead: ctx => authorize(ctx.actor, 'config.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    hidden,
    // Writes to one kind's tree take its lock first, then rows (a move rewrites the rows below)
    serialise: async (tx, row) => {
      await lockKind(tx, row.kind)
    }
  })
  const load = async (q: Queryable, id: string) => (await q.select().from(categories).where(eq(categories.id, id)))[0]

  return {
    get: nodes.get,
    cursorOf: categoryKeyset.cursorOf,

    list: (ctx: Ctx, input: CategoryListInput) =>
      nodes.list(ctx, input, categoryKeyset, [
        input.kind ? eq(categories.kind, input.kind) : undefined,
        input.parentId === 'root'
          ? isNull(categories.parentId)
          : input.parentId
            ? eq(categories.parentId, input.parentId)
            : undefined,
        input.active !== undefined ? eq(categories.active, input.active) : undefined,
        isStaff(ctx.actor) ? undefined : eq(categories.active, true),
        input.q ? ilike(categories.path, `%${input.q.replace(/[\\%_]/g, m => `\\${m}`)}%`) : undefined
      ]),

    /** A kind's whole tree as nested nodes, breadth first, cut at MAX_NODES with a note saying so. */
    async tree(ctx: Ctx, input: CategoryTreeInput) {
      authorize(ctx.actor, 'config.read')
      const activeOnly = input.activeOnly === true || !isStaff(ctx.actor)
      const onlyActive = (alias: SQL) => (activeOnly ? sql`AND ${alias}.active` : sql``)
      const result = await db.execute(sql`
        WITH RECURSIVE t AS (
          SELECT r.id, r.parent_id, r.name, r.path, r.active, 1 AS depth FROM categories r
          WHERE r.kind = ${input.kind} AND r.parent_id IS NULL ${onlyActive(sql.raw('r'))}
          UNION ALL
          SELECT c.id, c.parent_id, c.name, c.path, c.active, t.depth + 1
          FROM categories c JOIN t ON c.parent_id = t.id
          WHERE t.depth < ${MAX_DEPTH} ${onlyActive(sql.raw('c'))}
        )
        SELECT id, parent_id, name, path, active, depth, count(*) OVER ()::int AS total
        FROM t ORDER BY depth, path, id LIMIT ${MAX_NODES}`)
      type TreeRow = Omit<CategoryTreeNode, 'children'> & { parent_id: string | null; total: number }
      const rows = rowsOf<TreeRow>(result)
      const total = Number(rows[0]?.total ?? 0)
      const byId = new Map<string, CategoryTreeNode>()
      const items: CategoryTreeNode[] = []
      for (const r of rows) {
        const node = { id: r.id, name: r.name, path: r.path, depth: Number(r.depth), active: r.active, children: [] }
        byId.set(r.id, node)
        // Breadth first: a parent always comes before its children, so it is already here
        if (r.parent_id) byId.get(r.parent_id)?.children.push(node)
        else items.push(node)
      }
      const truncated = total > rows.length
      const note = truncated
        ? `the ${input.kind} tree holds ${total} categories; only the first ${MAX_NODES}, level by level, are ` +
          `shown: list the rest with GET /api/v1/categories?kind=${input.kind}&parentId=…`
        : null
      return { kind: input.kind, total, truncated, note, items }
    },

    create: (ctx: Ctx, input: CreateCategoryInput): Promise<CategoryView> =>
      nodes.create(ctx, async tx => {
        await lockKind(tx, input.kind)
        const parentId = input.parentId ?? null
        let path = input.name
        if (parentId) {
          const parent = await load(tx, parentId)
          if (!parent) throw fieldError('parentId', 'no such category')
          if (parent.kind !== input.kind) {
            throw fieldError('parentId', `the parent belongs to the ${parent.kind} tree, not ${input.kind}`)
          }
          if (depthOf(parent.path) >= MAX_DEPTH) {
            throw fieldError('parentId', `categories nest at most ${MAX_DEPTH} levels deep`)
          }
          path = `${parent.path}${PATH_SEPARATOR}${input.name}`
        }
        const [size] = await tx.select({ n: count() }).from(categories).where(eq(categories.kind, input.kind))
        if (Number(size?.n ?? 0) >= MAX_NODES) {
          throw conflictField('kind', `the ${input.kind} tree already holds ${MAX_NODES} categories, the most it may`)
        }
        return { kind: input.kind, parentId, name: input.name, path, active: input.active ?? true }
      }),

    /**
     * Rename, move (within the same kind's tree) or switch active. A rename or move rewrites the path
     * of the whole subtree and the copies on tickets, and every rewritten path is audited.
     */
    update: (ctx: Ctx, id: string, input: UpdateCategoryInput, expectedVersion?: number): Promise<CategoryView> =>
      nodes.update(
        ctx,
        id,
        expectedVersion,
        async (tx, before) => {
          const name = input.name ?? before.name
          const parentId = input.parentId === undefined ? before.parentId : input.parentId
          const moved = parentId !== before.parentId
          let parentPath: string | null = null
          if (parentId) {
            if (parentId === id) throw conflictField('parentId', 'a category cannot be its own parent')
            const chain = await chainUp(tx, parentId)
            const parent = chain[0]
            if (!parent) throw fieldError('parentId', 'no such category')
            if (parent.kind !== before.kind) {
              throw fieldError('parentId', `the parent belongs to the ${parent.kind} tree, not ${before.kind}`)
            }
            if (moved && chain.some(c => c.id === id)) {
              throw conflictField('parentId', `"${parent.path}" is under this category: it cannot move beneath itself`)
            }
            if (moved) {
              const deepest = chain.length + (await subtreeHeight(tx, id))
              if (deepest > MAX_DEPTH) {
                throw fieldError(
                  'parentId',
                  `the move would nest categories ${deepest} levels deep; at most ${MAX_DEPTH} are allowed`
                )
              }
            }
            parentPath = parent.path
          }
          const path = parentPath === null ? name : `${parentPath}${PATH_SEPARATOR}${name}`
          return { name, parentId, active: input.active ?? before.active, path }
        },
        async (tx, before, after) => {
          if (after.path === before.path) return
          const below = await rewritePaths(tx, id, after.path)
          // Tickets hold a copy of their node's path (lists filter and sort on it without a join): the
          // ticket writer brings the copies up to date set-wise, audited and told, in this transaction
          const paths = new Map([[id, after.path], ...below.map(r => [r.id, r.path] as const)])
          await tickets.writer.categoryPaths({ ...ctx, db: tx }, paths)
          const entries: AuditEntry[] = below.map(r => ({
            entityType: 'category',
            entityId: r.id,
            action: 'path_updated',
            changes: [{ field: 'path', old: r.old_path, new: r.path }]
          }))
          await recordAudit(tx, ctx, entries)
        }
      ),

    /** Batched lookups for GraphQL `parent`: null where absent or hidden from the actor. */
    byIds: nodes.byIds,

    /** Batched GraphQL `children`: each parent's children in path order. */
    async childrenOf(ctx: Ctx, parentIds: readonly string[]): Promise<CategoryView[][]> {
      authorize(ctx.actor, 'config.read')
      const where: SQL[] = [inArray(categories.parentId, [...parentIds])]
      if (!isStaff(ctx.actor)) where.push(eq(categories.active, true))
      const rows = parentIds.length
        ? await db
            .select()
            .from(categories)
            .where(and(...where))
            .orderBy(...categoryKeyset.orderBy)
        : []
      const byParent = new Map<string, CategoryView[]>()
      for (const r of rows) {
        const list = byParent.get(r.parentId!) ?? []
        list.push(view(r))
        byParent.set(r.parentId!, list)
      }
      return parentIds.map(p => byParent.get(p) ?? [])
    }
  }
}

export type CategoryService = ReturnType<typeof createCategoryService>
