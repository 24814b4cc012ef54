import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  Budget,
  BudgetListQuery,
  CostCentre,
  CostCentreListQuery,
  CreateBudgetBody,
  CreateCostCentreBody,
  UpdateBudgetBody,
  UpdateCostCentreBody
} from './cost-centres.schemas.js'

/** REST door to the cost-centre tree and the budgets per cost centre and period. */
export default async function costCentreRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/cost-centres',
    tags: ['finance'],
    view: CostCentre,
    listQuery: CostCentreListQuery,
    create: CreateCostCentreBody,
    patch: UpdateCostCentreBody,
    summary: {
      list: 'List cost centres by code (finance, admin)',
      create: 'Create a cost centre, at the root or under a parent; an organisation unit may be one (finance, admin)',
      get: 'Get a cost centre',
      update: 'Rename, recode or move a cost centre; a move beneath itself is 409 naming parentId (finance, admin)',
      remove: 'Delete a cost centre nothing names (no child, CI, service or organisation; else 409)'
    },
    service: app => app.services.costCentres
  })

  adminRoutes(app, {
    path: '/budgets',
    tags: ['finance'],
    view: Budget,
    listQuery: BudgetListQuery,
    create: CreateBudgetBody,
    patch: UpdateBudgetBody,
    summary: {
      list: 'List budgets by period start (finance, admin)',
      create: "Set a cost centre's budget for a month, quarter or year (one per cost centre and period)",
      get: 'Get a budget',
      update: "Change a budget's amount or currency",
      remove: 'Delete a budget'
    },
    description: {
      create: 'amount is an exact decimal string; currency defaults to the reporting currency (REPORTING_CURRENCY).'
    },
    service: app => app.services.costCentres.budgets
  })
}
