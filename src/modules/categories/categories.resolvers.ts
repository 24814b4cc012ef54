import { Type } from 'typebox'
import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  type CategoryListInput,
  CategoryListQuery,
  type CategoryTreeInput,
  CategoryTreeQuery,
  CreateCategoryBody,
  type CreateCategoryInput,
  UpdateCategoryBody,
  type UpdateCategoryInput
} from './categories.schemas.js'
import { type CategoryView, categoryKeyset } from './categories.service.js'

type Args = Record<string, unknown>
type Query = { obj: CategoryView; params: Args }
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown) => check<string>(Id, v, 'id')
const cursorOf = (row: CategoryView) => categoryKeyset.cursorOf(row)

/** GraphQL door to category trees: the REST schemas check the arguments, the same service acts. */
export function categoryResolvers(): Resolvers {
  return {
    Query: {
      category: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.categories.get(ctx, id(args.id)),
      categories: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<CategoryListInput>(CategoryListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.categories.list(ctx, query), cursorOf)
      }),
      categoryTree: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.categories.tree(ctx, check<CategoryTreeInput>(CategoryTreeQuery, defined(args)))
    },
    Mutation: {
      createCategory: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.categories.create(
          ctx,
          check<CreateCategoryInput>(CreateCategoryBody, defined(args.input as Args), 'input')
        ),
      updateCategory: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        // An explicit parentId: null moves the category to the root; other nulls mean "not given"
        const input = Object.fromEntries(
          Object.entries(args.input as Args).filter(([k, v]) => v !== undefined && (v !== null || k === 'parentId'))
        )
        return services.categories.update(
          ctx,
          id(args.id),
          check<UpdateCategoryInput>(UpdateCategoryBody, input, 'input')
        )
      }
    }
  }
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
