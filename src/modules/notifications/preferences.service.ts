import { eq } from 'drizzle-orm'
import { IANAZone } from 'luxon'
import { can } from '../../auth/policy.js'
import { notificationPreferences, users } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { type FieldError, forbidden, notFound, validationFailed } from '../../lib/errors.js'
import { adminSettings } from '../admin/admin-settings.js'
import { NOTIFICATION_EVENTS } from './outbox.js'
import type { PreferencesInput } from './preferences.schemas.js'
import { fromClock, toClock } from './quiet-hours.js'

export interface Preferences {
  channels: string[]
  eventChannels: Record<string, string[]>
  locale: string
  timeZone: string
  quietHours: { from: string; until: string } | null
  quietChannels: string[]
  ownChanges: boolean
  isDefault: boolean
  updatedAt: Date | null
}

export type PreferencesView = Preferences & { userId: string; version: number }

type Row = typeof notificationPreferences.$inferSelect

/** Events and their groups (`ticket`, `sla`, …): the keys `eventChannels` takes. */
export const EVENT_KEYS: ReadonlySet<string> = new Set([
  ...NOTIFICATION_EVENTS,
  ...NOTIFICATION_EVENTS.map(e => e.split('.')[0]!)
])

const DEFAULTS: Preferences = {
  channels: ['mail', 'sms'],
  eventChannels: {},
  locale: 'en',
  timeZone: 'UTC',
  quietHours: null,
  quietChannels: ['sms'],
  ownChanges: false,
  isDefault: true,
  updatedAt: null
}

const fromRow = (r: Row): Preferences => ({
  channels: r.channels,
  eventChannels: r.eventChannels,
  locale: r.locale,
  timeZone: r.timeZone,
  quietHours:
    r.quietFrom !== null && r.quietUntil !== null ? { from: toClock(r.quietFrom), until: toClock(r.quietUntil) } : null,
  quietChannels: r.quietChannels,
  ownChanges: r.ownChanges,
  isDefault: false,
  updatedAt: r.updatedAt
})

const FIELDS = ['channels', 'eventChannels', 'locale', 'timeZone', 'quietHours', 'quietChannels', 'ownChanges']

function check(input: PreferencesInput) {
  const errors: FieldError[] = []
  if (input.timeZone !== undefined && !IANAZone.isValidZone(input.timeZone)) {
    errors.push({ field: 'timeZone', message: 'not an IANA time zone (e.g. Europe/Paris)' })
  }
  for (const key of Object.keys(input.eventChannels ?? {})) {
    if (!EVENT_KEYS.has(key)) errors.push({ field: `eventChannels.${key}`, message: 'no such event or event group' })
  }
  if (input.quietHours && input.quietHours.from === input.quietHours.until) {
    errors.push({ field: 'quietHours.until', message: 'must differ from quietHours.from' })
  }
  if (errors.length > 0) throw validationFailed(errors)
}

/** Only the user themselves (or a user admin) reads and sets a user's notification preferences. */
function authorizeFor(ctx: Ctx, userId: string) {
  if (ctx.actor.kind === 'system' || ctx.actor.id === userId) return
  if (can(ctx.actor, 'user.manage')) return
  throw forbidden('only the user themselves or a user admin sees these preferences')
}

/**
 * Per-user notification preferences: channels (mail, SMS, none) overall and per event or event group,
 * the locale of their mail, quiet hours in their time zone and whether they hear of their own changes.
 * Defaults in code until the user sets them; the version read is required to change them.
 */
export function createPreferenceService({ db }: Deps) {
  const settings = adminSettings<string, Preferences>({
    table: notificationPreferences,
    key: notificationPreferences.userId,
    version: notificationPreferences.version,
    entityType: 'notification_preferences',
    noun: 'notification preferences',
    auditId: userId => userId,
    read: row => (row ? fromRow(row as Row) : DEFAULTS),
    columns: (userId, p) => ({
      userId,
      channels: p.channels,
      eventChannels: p.eventChannels,
      locale: p.locale,
      timeZone: p.timeZone,
      quietFrom: p.quietHours ? fromClock(p.quietHours.from) : null,
      quietUntil: p.quietHours ? fromClock(p.quietHours.until) : null,
      quietChannels: p.quietChannels,
      ownChanges: p.ownChanges
    }),
    fields: () => FIELDS,
    // Checked per user below (the key decides), not per actor alone
    authorizeRead: () => {},
    authorizeWrite: () => {}
  })

  async function mustExist(ctx: Ctx, userId: string) {
    authorizeFor(ctx, userId)
    const [found] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, userId))
    if (!found) throw notFound('user')
  }
  const view = (userId: string, s: { value: Preferences; version: number }): PreferencesView => ({
    userId,
    ...s.value,
    version: s.version
  })

  return {
    async get(ctx: Ctx, userId: string): Promise<PreferencesView> {
      await mustExist(ctx, userId)
      return view(userId, await settings.load(db, userId))
    },

    async set(ctx: Ctx, userId: string, input: PreferencesInput, expectedVersion?: number) {
      await mustExist(ctx, userId)
      check(input)
      const { eventChannels, quietHours, ...rest } = input
      const stored = await settings.set(ctx, userId, expectedVersion, async (_tx, before) => ({
        ...before,
        ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
        ...(eventChannels !== undefined ? { eventChannels } : {}),
        ...(quietHours !== undefined ? { quietHours } : {}),
        isDefault: false,
        updatedAt: before.updatedAt
      }))
      return view(userId, stored)
    }
  }
}

export type PreferenceService = ReturnType<typeof createPreferenceService>
