import { authorize } from '../../auth/policy.js'
import { eventSettings } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { fieldError } from '../../lib/errors.js'
import { nameUuid } from '../../lib/ids.js'
import { adminSettings, type Stored } from '../admin/admin-settings.js'
import { SEVERITIES, type Severity } from './events.model.js'
import type { EventSettingsInput } from './events.schemas.js'
import { assertTeam } from './routing-rules.service.js'

export interface EventSettings {
  /** Impact and urgency (1 high … 3 low) an incident opened by an event of each severity gets. */
  severityPriority: Record<Severity, { impact: number; urgency: number }>
  /** A native event whose severity word we do not know gets this one (the generic API refuses it). */
  defaultSeverity: Severity
  /** What a resolved event does to its open incident: resolve it, or only add a note. */
  resolveAction: 'resolve' | 'note'
  /** Flapping: this many firing/resolved changes within the window mark the alert and hold it open. */
  flapChanges: number
  flapWindowMinutes: number
  /** Team of incidents no routing rule and no CI names. */
  defaultTeamId: string | null
  /** Events older than this are removed by the retention job (their incidents stay). */
  retentionDays: number
}

export const DEFAULT_EVENT_SETTINGS: EventSettings = {
  severityPriority: {
    critical: { impact: 1, urgency: 1 },
    major: { impact: 1, urgency: 2 },
    minor: { impact: 2, urgency: 2 },
    warning: { impact: 2, urgency: 3 },
    info: { impact: 3, urgency: 3 }
  },
  defaultSeverity: 'warning',
  resolveAction: 'resolve',
  flapChanges: 6,
  flapWindowMinutes: 30,
  defaultTeamId: null,
  retentionDays: 90
}

const AUDIT_ID = nameUuid('event-settings')
const CACHE_MS = 2000

/**
 * Event settings as data: defaults in code, one stored row overriding them (the admin-settings
 * helper). Ingest reads them on every request, so they are cached for two seconds per process (a
 * change here drops this process's copy).
 */
export function createEventSettingsService({ db }: Deps) {
  let cached: { at: number; entry: Stored<EventSettings> } | null = null
  const settings = adminSettings<number, EventSettings>({
    table: eventSettings,
    key: eventSettings.id,
    version: eventSettings.version,
    entityType: 'event_settings',
    noun: 'event settings',
    auditId: () => AUDIT_ID,
    read: row => ({ ...DEFAULT_EVENT_SETTINGS, ...((row?.settings as Partial<EventSettings>) ?? {}) }),
    columns: (id, value) => ({ id, settings: value }),
    fields: value => Object.keys(value),
    authorizeRead: ctx => authorize(ctx.actor, 'event.read'),
    authorizeWrite: ctx => authorize(ctx.actor, 'config.manage'),
    changed: () => {
      cached = null
    }
  })

  async function load(q: Queryable = db): Promise<Stored<EventSettings>> {
    if (q !== db) return settings.load(q, 1)
    if (!cached || Date.now() - cached.at >= CACHE_MS) cached = { at: Date.now(), entry: await settings.load(db, 1) }
    return cached.entry
  }

  return {
    current: async (q?: Queryable) => (await load(q)).value,

    async get(ctx: Ctx) {
      authorize(ctx.actor, 'event.read')
      const { value, version } = await load()
      return { ...value, version }
    },

    async set(ctx: Ctx, input: EventSettingsInput, expectedVersion?: number) {
      const { value, version } = await settings.set(ctx, 1, expectedVersion, async (tx, before) => {
        const next = {
          ...before,
          ...input,
          severityPriority: { ...before.severityPriority, ...(input.severityPriority ?? {}) }
        }
        for (const s of SEVERITIES) {
          if (!next.severityPriority[s]) throw fieldError(`severityPriority.${s}`, 'required')
        }
        await assertTeam(tx, next.defaultTeamId, 'defaultTeamId')
        return next
      })
      return { ...value, version }
    }
  }
}

export type EventSettingsService = ReturnType<typeof createEventSettingsService>
