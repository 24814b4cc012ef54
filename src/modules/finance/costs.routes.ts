import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { withEtag } from '../../lib/http.js'
import { errorResponses, IdParams, PageOf } from '../../lib/schemas.js'
import { adminRoutes, adminSettingsRoutes } from '../admin/admin-routes.js'
import {
  CiCost,
  CiCostListQuery,
  CreateCiCostBody,
  CreateExchangeRateBody,
  ExchangeRate,
  ExchangeRateListQuery,
  FinanceSettings,
  FinanceSettingsBody,
  UpdateCiCostBody,
  UpdateExchangeRateBody
} from './costs.schemas.js'

const MONEY_NOTE =
  'Money is exact: amounts are decimal strings (up to 4 decimals), never JSON numbers; rates up to 10 decimals.'

/** REST door to CI costs, exchange rates and the finance settings. */
export default async function costRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['finance']

  app.get(
    '/cis/:id/costs',
    {
      schema: {
        tags,
        summary: 'The costs of a CI (finance, admin; other staff while granted)',
        description: MONEY_NOTE,
        params: IdParams,
        querystring: CiCostListQuery,
        response: { 200: PageOf(CiCost), ...errorResponses(403, 404) }
      }
    },
    async request => app.services.finance.costs.listOfCi(request.ctx(), request.params.id, request.query)
  )

  app.post(
    '/cis/:id/costs',
    {
      schema: {
        tags,
        summary: 'Add a capital or recurring cost to a CI (finance, admin)',
        description: `${MONEY_NOTE} capital: amount, purchaseDate, depreciationMonths, residualValue (straight-line, monthly from the purchase month). recurring: amount per period (month, quarter, year) from startDate to endDate, spread over the days of each month.`,
        params: IdParams,
        body: CreateCiCostBody,
        response: { 201: CiCost, ...errorResponses(403, 404, 422) }
      }
    },
    async (request, reply) => {
      const created = await app.services.finance.costs.add(request.ctx(), request.params.id, request.body)
      reply.code(201).header('location', `/api/v1/ci-costs/${created.id}`)
      return withEtag(reply, created)
    }
  )

  adminRoutes(base, {
    path: '/ci-costs',
    tags,
    view: CiCost,
    patch: UpdateCiCostBody,
    summary: { get: 'Get a CI cost', update: 'Change a CI cost (its kind stays)', remove: 'Delete a CI cost' },
    description: { update: MONEY_NOTE },
    service: app => app.services.finance.costs
  })

  adminRoutes(base, {
    path: '/exchange-rates',
    tags,
    view: ExchangeRate,
    listQuery: ExchangeRateListQuery,
    create: CreateExchangeRateBody,
    patch: UpdateExchangeRateBody,
    summary: {
      list: 'Dated exchange rates into the reporting currency, by day',
      create: 'Add a rate of a currency from a day on (in force until its next rate)',
      get: 'Get an exchange rate',
      update: 'Correct an exchange rate',
      remove: 'Delete an exchange rate'
    },
    description: { create: MONEY_NOTE },
    service: app => app.services.finance.rates
  })

  adminSettingsRoutes(base, {
    path: '/finance-settings',
    tags,
    view: FinanceSettings,
    body: FinanceSettingsBody,
    summary: {
      get: 'Finance settings: the reporting currency, whether staff read CI costs, whether customers read chargeback',
      set: 'Grant or withdraw CI cost reading for staff and chargeback reading for customers (admin)'
    },
    service: app => ({
      get: ctx => app.services.finance.settings.get(ctx),
      set: (ctx, _key: undefined, input, version) => app.services.finance.settings.set(ctx, input, version)
    })
  })
}
