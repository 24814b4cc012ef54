import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  Category,
  CategoryListQuery,
  CategoryTree,
  CategoryTreeQuery,
  CreateCategoryBody,
  UpdateCategoryBody
} from './categories.schemas.js'

/** REST door to the per-kind category trees. No delete: retire a category with active=false. */
export default async function categoryRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['categories']

  app.get(
    '/categories/tree',
    {
      schema: {
        tags,
        summary: 'The whole category tree of a kind as nested nodes (at most 5000 nodes)',
        querystring: CategoryTreeQuery,
        response: { 200: CategoryTree, ...errorResponses(403) }
      }
    },
    async request => app.services.categories.tree(request.ctx(), request.query)
  )

  adminRoutes(base, {
    path: '/categories',
    tags,
    view: Category,
    listQuery: CategoryListQuery,
    create: CreateCategoryBody,
    patch: UpdateCategoryBody,
    summary: {
      list: 'List categories in path order (customers see active ones only)',
      create: 'Create a category, at the root or under a parent of the same kind (admin)',
      get: 'Get a category',
      update: 'Rename, move or (de)activate a category; paths below it and on tickets follow (admin)'
    },
    service: app => app.services.categories
  })
}
