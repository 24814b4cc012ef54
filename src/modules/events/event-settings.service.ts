import { eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import { eventSettings, teams } from '../../db/schema/index.js'
import type { Ctx, Deps, Queryable } from '../../lib/context.js'
import { fieldError, preconditionFailed } from '../../lib/errors.js'
import { nameUuid } from '../../lib/ids.js'
import { diff, recordAudit } from '../audit/audit.service.js'
import { SEVERITIES, type Severity } from './events.model.js'
import type { EventSettingsInput } from './events.schemas.js'

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
 * Event settings as data: defaults in code, one stored row overriding them. Ingest reads them on every
 * request, so they are cached for two seconds per process (a change here drops this process's copy).
 */
export function createEventSettingsService({ db }: Deps) {
  let cached: { at: number; value: EventSettings; version: number } | null = null

  async function load(q: Queryable = db) {
    if (q === db && cached && Date.now() - cached.at < CACHE_MS) return cached
    const [row] = await q.select().from(eventSettings).where(eq(eventSettings.id, 1))
    const value = { ...DEFAULT_EVENT_SETTINGS, ...((row?.settings as Partial<EventSettings>) ?? {}) }
    const entry = { at: Date.now(), value, version: row?.version ?? 0 }
    if (q === db) cached = entry
    return entry
  }

  return {
    current: async (q?: Queryable) => (await load(q)).value,

    async get(ctx: Ctx) {
      authorize(ctx.actor, 'event.read')
      const { value, version } = await load()
      return { ...value, version }
    },

    async set(ctx: Ctx, input: EventSettingsInput, expectedVersion?: number) {
      authorize(ctx.actor, 'config.manage')
      const result = await db.transaction(async tx => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('event_settings'))`)
        const before = await load(tx)
        if (expectedVersion !== undefined && expectedVersion !== before.version) {
          throw preconditionFailed(`the event settings were changed by someone else (now version ${before.version})`, {
            currentVersion: before.version
          })
        }
        const next: EventSettings = {
          ...before.value,
          ...input,
          severityPriority: { ...before.value.severityPriority, ...(input.severityPriority ?? {}) }
        }
        for (const s of SEVERITIES) {
          if (!next.severityPriority[s]) throw fieldError(`severityPriority.${s}`, 'required')
        }
        if (next.defaultTeamId) {
          const [team] = await tx.select({ id: teams.id }).from(teams).where(eq(teams.id, next.defaultTeamId))
          if (!team) throw fieldError('defaultTeamId', 'no such team')
        }
        const version = before.version + 1
        await tx
          .insert(eventSettings)
          .values({ id: 1, settings: next, version })
          .onConflictDoUpdate({ target: eventSettings.id, set: { settings: next, version, updatedAt: new Date() } })
        const changes = diff<Record<string, unknown>>(
          before.value as unknown as Record<string, unknown>,
          next as unknown as Record<string, unknown>,
          Object.keys(next)
        )
        await recordAudit(tx, ctx, { entityType: 'event_settings', entityId: AUDIT_ID, action: 'updated', changes })
        return { ...next, version }
      })
      cached = null
      return result
    }
  }
}

export type EventSettingsService = ReturnType<typeof createEventSettingsService>
