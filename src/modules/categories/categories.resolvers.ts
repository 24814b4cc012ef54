import type { Loaders, Resolvers } from '../../graphql/types.js'
import { defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  CategoryListQuery,
  type CategoryTreeInput,
  CategoryTreeQuery,
  CreateCategoryBody,
  UpdateCategoryBody
} from './categories.schemas.js'
import { type CategoryView, categoryKeyset } from './categories.service.js'

type Args = Record<string, unknown>
type Query = { obj: CategoryView; params: Args }

/** GraphQL door to category trees: the admin-resource door plus the whole tree of a kind. */
export function categoryResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.categories,
      names: { get: 'category', list: 'categories', create: 'createCategory', update: 'updateCategory' },
      listQuery: CategoryListQuery,
      create: CreateCategoryBody,
      patch: UpdateCategoryBody,
      // An explicit parentId: null moves the category to the root; other nulls mean "not given"
      clearable: ['parentId'],
      cursorOf: categoryKeyset.cursorOf
    }),
    {
      Query: {
        categoryTree: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.categories.tree(ctx, check<CategoryTreeInput>(CategoryTreeQuery, defined(args)))
      }
    }
  )
}

/** parent and children of every category in a response: one query each, never one per row. */
export function categoryLoaders(): Loaders {
  return {
    Category: {
      parent: async (queries: Query[], { ctx, services }: GqlCtx) => {
        const ids = queries.map(q => q.obj.parentId)
        const wanted = [...new Set(ids.filter((v): v is string => !!v))]
        const found = await services.categories.byIds(ctx, wanted)
        const map = new Map(wanted.map((v, i) => [v, found[i] ?? null]))
        return ids.map(v => (v ? (map.get(v) ?? null) : null))
      },
      children: async (queries: Query[], { ctx, services }: GqlCtx) => {
        const ids = queries.map(q => q.obj.id)
        const wanted = [...new Set(ids)]
        const found = await services.categories.childrenOf(ctx, wanted)
        const map = new Map(wanted.map((v, i) => [v, found[i] ?? []]))
        return ids.map(v => map.get(v) ?? [])
      }
    }
  }
}
