import type { Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, adminSettingsResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import {
  type CiCostListInput,
  CiCostListQuery,
  CreateCiCostBody,
  type CreateCiCostInput,
  CreateExchangeRateBody,
  ExchangeRateListQuery,
  FinanceSettingsBody,
  type FinanceSettingsInput,
  UpdateCiCostBody,
  UpdateExchangeRateBody
} from './costs.schemas.js'
import { rateKeyset } from './costs.service.js'

/** GraphQL door to CI costs, exchange rates and the finance settings: the REST schemas, the same service. */
export function costResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.finance.costs,
      names: { get: 'ciCost', update: 'updateCiCost', remove: 'deleteCiCost' },
      patch: UpdateCiCostBody,
      clearable: ['endDate']
    }),
    adminResolvers({
      service: services => services.finance.rates,
      names: {
        get: 'exchangeRate',
        list: 'exchangeRates',
        create: 'createExchangeRate',
        update: 'updateExchangeRate',
        remove: 'deleteExchangeRate'
      },
      listQuery: ExchangeRateListQuery,
      create: CreateExchangeRateBody,
      patch: UpdateExchangeRateBody,
      cursorOf: rateKeyset.cursorOf
    }),
    adminSettingsResolvers({
      service: services => ({
        get: ctx => services.finance.settings.get(ctx),
        set: (ctx, _key, input: FinanceSettingsInput, version) => services.finance.settings.set(ctx, input, version)
      }),
      names: { get: 'financeSettings', set: 'setFinanceSettings' },
      body: FinanceSettingsBody
    }),
    {
      Query: {
        ciCosts: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
          const { id, first, after } = args
          const query = check<CiCostListInput>(CiCostListQuery, defined(pageArgs({ first, after })))
          const page = await services.finance.costs.listOfCi(ctx, check<string>(Id, id, 'id'), query)
          return toConnection(page, services.finance.costs.cursorOf)
        })
      },
      Mutation: {
        addCiCost: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.finance.costs.add(
            ctx,
            check<string>(Id, args.id, 'id'),
            check<CreateCiCostInput>(CreateCiCostBody, nullsKept(args.input as Args, ['endDate']), 'input')
          )
      }
    }
  )
}
