import { Type } from 'typebox'
import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  CreateTemplateBody,
  type CreateTemplateInput,
  type TemplateListInput,
  TemplateListQuery,
  UpdateTemplateBody,
  type UpdateTemplateInput
} from './templates.schemas.js'
import { type TemplateRow, templateKeyset } from './templates.service.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown) => check<string>(Id, v, 'id')
const cursorOf = (row: TemplateRow) => templateKeyset.cursorOf(row)

/** GraphQL door to ticket templates: the REST schemas check the arguments, the same service acts. */
export function templateResolvers(): Resolvers {
  return {
    Query: {
      template: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.templates.get(ctx, id(args.id)),
      templates: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<TemplateListInput>(TemplateListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.templates.list(ctx, query), cursorOf)
      })
    },
    Mutation: {
      createTemplate: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.templates.create(
          ctx,
          check<CreateTemplateInput>(CreateTemplateBody, defined(args.input as Args), 'input')
        ),
      updateTemplate: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.templates.update(
          ctx,
          id(args.id),
          check<UpdateTemplateInput>(UpdateTemplateBody, defined(args.input as Args), 'input'),
          typeof args.version === 'number' ? args.version : undefined
        )
    }
  }
}
