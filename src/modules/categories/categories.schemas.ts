import { type Static, type TSchema, Type } from 'typebox'
import { CursorParam, DateTime, Limit, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { TICKET_KINDS } from '../tickets/kinds.js'

/** Deepest a category tree goes: a root is level 1. */
export const MAX_DEPTH = 5
/** Most categories one kind's tree holds: creates beyond it are refused, the tree read trims. */
export const MAX_NODES = 5000
/** Joins the names of a path: "Hardware / Laptop". Names cannot hold '/', so a path splits back apart. */
export const PATH_SEPARATOR = ' / '

export const Kind = StringEnum(TICKET_KINDS, { description: 'incident, request, problem, change or release' })

const Name = Type.String({
  minLength: 1,
  maxLength: 100,
  // No '/' (the path separator), no control characters, no blank at either end
  pattern: '^[^/\\s\\x00-\\x1f\\x7f](?:[^/\\x00-\\x1f\\x7f]*[^/\\s\\x00-\\x1f\\x7f])?$',
  description: 'Unique among its siblings regardless of case; no "/" and no blank at either end'
})

/** Output: the kind as stored (inputs are checked against Kind). */
const KindOut = Type.String({ description: 'incident, request, problem, change or release' })

export const Category = Type.Object({
  id: Uuid,
  kind: KindOut,
  parentId: Nullable(Uuid),
  name: Type.String(),
  path: Type.String({ description: 'Names from the root down, joined by " / ": copied onto tickets' }),
  depth: Type.Integer({ description: 'A root is 1; at most 5' }),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime
})

export const CreateCategoryBody = Type.Object(
  {
    kind: Kind,
    name: Name,
    parentId: Type.Optional(Nullable(Uuid)),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateCategoryInput = Static<typeof CreateCategoryBody>

export const UpdateCategoryBody = Type.Object(
  {
    name: Type.Optional(Name),
    parentId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'Move under this category; null makes it a root' }))
    ),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateCategoryInput = Static<typeof UpdateCategoryBody>

export const CategoryListQuery = Type.Object(
  {
    kind: Type.Optional(Kind),
    parentId: Type.Optional(
      Type.Union([Uuid, Type.Literal('root')], { description: 'Children of this category; "root" for the roots' })
    ),
    active: Type.Optional(Type.Boolean()),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of the path' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(CursorParam)
  },
  { additionalProperties: false }
)
export type CategoryListInput = Static<typeof CategoryListQuery>

export const CategoryTreeQuery = Type.Object(
  {
    kind: Kind,
    activeOnly: Type.Optional(
      Type.Boolean({ description: 'Leave out inactive categories and everything under them (always so for customers)' })
    )
  },
  { additionalProperties: false }
)
export type CategoryTreeInput = Static<typeof CategoryTreeQuery>

/** A tree node `level` deep; spelled out level by level, since no tree is deeper than MAX_DEPTH. */
function treeNode(level: number): TSchema {
  const children = level < MAX_DEPTH ? Type.Array(treeNode(level + 1)) : Type.Array(Type.Object({}), { maxItems: 0 })
  return Type.Object({
    id: Uuid,
    name: Type.String(),
    path: Type.String(),
    depth: Type.Integer(),
    active: Type.Boolean(),
    children
  })
}

export const CategoryTree = Type.Object({
  kind: KindOut,
  total: Type.Integer({ description: 'How many categories the tree holds (with the filter applied)' }),
  truncated: Type.Boolean({ description: 'True when more than 5000: the first 5000, level by level, are shown' }),
  note: Nullable(Type.String()),
  items: Type.Array(treeNode(1), { description: 'The roots, each with its children nested' })
})

export interface CategoryTreeNode {
  id: string
  name: string
  path: string
  depth: number
  active: boolean
  children: CategoryTreeNode[]
}
