import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import {
  Category,
  CategoryListQuery,
  CategoryTree,
  CategoryTreeQuery,
  CreateCategoryBody,
  UpdateCategoryBody
} from './categories.schemas.js'

/** REST door to the per-kind category trees. */
export default async function categoryRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { categories } = app.services
  const tags = ['categories']

  app.get(
    '/categories',
    {
      schema: {
        tags,
        summary: 'List categories in path order (customers see active ones only)',
        querystring: CategoryListQuery,
        response: { 200: PageOf(Category), ...errorResponses(403) }
      }
    },
    async request => categories.list(request.ctx(), request.query)
  )
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
    async request => categories.tree(request.ctx(), request.query)
  )
  app.post(
    '/categories',
    {
      schema: {
        tags,
        summary: 'Create a category, at the root or under a parent of the same kind (admin)',
        body: CreateCategoryBody,
        response: { 201: Category, ...errorResponses(403, 409, 422) }
      }
    },
    async (request, reply) => {
      reply.code(201)
      return categories.create(request.ctx(), request.body)
    }
  )
  app.get(
    '/categories/:id',
    {
      schema: {
        tags,
        summary: 'Get a category',
        params: IdParams,
        response: { 200: Category, ...errorResponses(403, 404) }
      }
    },
    async request => categories.get(request.ctx(), request.params.id)
  )
  app.patch(
    '/categories/:id',
    {
      schema: {
        tags,
        summary: 'Rename, move or (de)activate a category; paths below it follow (admin)',
        params: IdParams,
        body: UpdateCategoryBody,
        response: { 200: Category, ...errorResponses(403, 404, 409, 422) }
      }
    },
    async request => categories.update(request.ctx(), request.params.id, request.body)
  )
}
