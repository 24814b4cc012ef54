import type { Resolvers } from '../../graphql/types.js'
import type { GqlCtx } from '../../lib/graphql.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  BudgetListQuery,
  CostCentreListQuery,
  CreateBudgetBody,
  CreateCostCentreBody,
  UpdateBudgetBody,
  UpdateCostCentreBody
} from './cost-centres.schemas.js'
import { budgetKeyset, costCentreKeyset } from './cost-centres.service.js'

/** GraphQL door to cost centres and budgets: the admin-resource door, the same services as REST. */
export function costCentreResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.costCentres,
      names: {
        get: 'costCentre',
        list: 'costCentres',
        create: 'createCostCentre',
        update: 'updateCostCentre',
        remove: 'deleteCostCentre'
      },
      listQuery: CostCentreListQuery,
      create: CreateCostCentreBody,
      patch: UpdateCostCentreBody,
      clearable: ['parentId', 'organisationId'],
      cursorOf: costCentreKeyset.cursorOf
    }),
    adminResolvers({
      service: services => services.costCentres.budgets,
      names: { get: 'budget', list: 'budgets', create: 'createBudget', update: 'updateBudget', remove: 'deleteBudget' },
      listQuery: BudgetListQuery,
      create: CreateBudgetBody,
      patch: UpdateBudgetBody,
      cursorOf: budgetKeyset.cursorOf
    }),
    {
      CostCentre: {
        parent: (centre: { parentId: string | null }, _: unknown, { ctx, services }: GqlCtx) =>
          centre.parentId ? services.costCentres.get(ctx, centre.parentId) : null,
        children: async (centre: { id: string }, _: unknown, { ctx, services }: GqlCtx) =>
          (await services.costCentres.list(ctx, { parentId: centre.id, limit: 100 })).items
      }
    } as Resolvers
  )
}
