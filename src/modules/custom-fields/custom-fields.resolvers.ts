import { Type } from 'typebox'
import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { encodeCursor } from '../../lib/cursor.js'
import { defined, type GqlCtx, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import {
  CreateCustomFieldBody,
  type CreateCustomFieldInput,
  type CustomFieldListInput,
  CustomFieldListQuery,
  UpdateCustomFieldBody,
  type UpdateCustomFieldInput
} from './custom-fields.schemas.js'
import { customFieldCursor } from './custom-fields.service.js'
import type { CustomFieldDefinitionRow } from './custom-fields.values.js'

type Args = Record<string, unknown>
const Id = Type.String({ format: 'uuid' })
const id = (v: unknown) => check<string>(Id, v, 'id')
const cursorOf = (row: CustomFieldDefinitionRow) => encodeCursor(customFieldCursor(row))

/** Input without GraphQL's nulls for omitted optionals; an explicit null defaultValue clears the default. */
function updateInput(input: Args): Args {
  return Object.fromEntries(
    Object.entries(input).filter(([k, v]) => v !== undefined && (v !== null || k === 'defaultValue'))
  )
}

/** GraphQL door to custom-field definitions: the REST schemas check the arguments, the same service acts. */
export function customFieldResolvers(): Resolvers {
  return {
    Query: {
      customFieldDefinition: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.customFields.get(ctx, id(args.id)),
      customFieldDefinitions: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const query = check<CustomFieldListInput>(
          CustomFieldListQuery,
          defined({ kind: args.kind, active: args.active, ...pageArgs(args) })
        )
        return toConnection(await services.customFields.list(ctx, query), cursorOf)
      })
    },
    Mutation: {
      createCustomFieldDefinition: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.customFields.create(
          ctx,
          check<CreateCustomFieldInput>(CreateCustomFieldBody, defined(args.input as Args), 'input')
        ),
      updateCustomFieldDefinition: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.customFields.update(
          ctx,
          id(args.id),
          check<UpdateCustomFieldInput>(UpdateCustomFieldBody, updateInput(args.input as Args), 'input'),
          typeof args.version === 'number' ? args.version : undefined
        )
    }
  }
}
