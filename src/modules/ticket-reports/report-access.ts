import { authorize, isStaff, ticketScope } from '../../auth/policy.js'
import type { Db } from '../../db/client.js'
import { reportSettings } from '../../db/schema/index.js'
import type { Ctx, Queryable } from '../../lib/context.js'
import { forbidden } from '../../lib/errors.js'
import { adminSettings } from '../admin/admin-settings.js'
import type { ReportSettingsInput } from './ticket-reports.schemas.js'

export interface ReportSettingsValue {
  /** reports.customerAccess: customers read their organisation's summary and SLA compliance. */
  customerAccess: boolean
}
const DEFAULTS: ReportSettingsValue = { customerAccess: false }

/** What a report is narrowed to for this actor: null sees every ticket the filter picks. */
export interface ReportScope {
  organisationId: string | null
}

/**
 * Who reads reports, the one place (README: access). Staff need `report.read` (a token pinned to an
 * organisation narrows them to it). Customers read the reports marked customer-readable (the summary
 * and SLA compliance), forced to their own organisation, only while an admin has switched
 * reports.customerAccess on; everything else, and everyone else, is a 403.
 */
export function createReportAccess(db: Db) {
  const settings = adminSettings<number, ReportSettingsValue>({
    table: reportSettings,
    key: reportSettings.id,
    version: reportSettings.version,
    entityType: 'report_settings',
    noun: 'report settings',
    auditId: () => '00000000-0000-0000-0000-0000000e9047',
    read: row => ({ ...DEFAULTS, ...((row?.settings as Partial<ReportSettingsValue>) ?? {}) }),
    columns: (id, value) => ({ id, settings: value }),
    fields: value => Object.keys(value),
    authorizeRead: ctx => authorize(ctx.actor, 'report.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage')
  })

  const current = async (q: Queryable = db) => (await settings.load(q, 1)).value

  return {
    async scope(ctx: Ctx, customerReadable: boolean): Promise<ReportScope> {
      const { actor } = ctx
      if (actor.kind === 'system' || isStaff(actor)) {
        authorize(actor, 'report.read')
        return { organisationId: ticketScope(actor)?.organisationId ?? null }
      }
      if (!actor.roles.has('customer')) authorize(actor, 'report.read')
      if (!customerReadable) throw forbidden('customers may read the summary and SLA compliance reports only')
      authorize(actor, 'ticket.read')
      const scope = ticketScope(actor)
      if (!scope?.organisationId || scope.requesterId) throw forbidden('reports cover an organisation; you have none')
      if (!(await current()).customerAccess)
        throw forbidden('reports are not shared with customers (an admin may switch reports.customerAccess on)')
      return { organisationId: scope.organisationId }
    },

    settings: {
      async get(ctx: Ctx) {
        const { value, version } = await settings.get(ctx, 1)
        return { ...value, version }
      },
      async set(ctx: Ctx, input: ReportSettingsInput, expectedVersion?: number) {
        const { value, version } = await settings.set(ctx, 1, expectedVersion, async () => ({
          customerAccess: input.customerAccess
        }))
        return { ...value, version }
      }
    }
  }
}

export type ReportAccess = ReturnType<typeof createReportAccess>
