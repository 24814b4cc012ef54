import type { CiKeys } from '../../lib/ci-identity.js'
import { hostKeys as ciHostKeys } from '../../lib/ci-identity.js'
import type { FieldError } from '../../lib/errors.js'

/** Canonical severities, most severe first; every sender's vocabulary maps onto these. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const
export type Severity = (typeof SEVERITIES)[number]

export const EVENT_STATUSES = ['firing', 'resolved', 'update'] as const
export type EventStatus = (typeof EVENT_STATUSES)[number]

/** What an event did: the answer per item and the `action` stored with it. */
export type EventAction = 'opened' | 'deduplicated' | 'resolved' | 'noted' | 'held' | 'ignored' | 'rejected'

/** How a sender's severity words map onto ours (lower case). Unknown words are the caller's problem. */
const SEVERITY_ALIASES: Record<string, Severity> = {
  critical: 'critical',
  crit: 'critical',
  disaster: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  page: 'critical',
  p1: 'critical',
  major: 'major',
  high: 'major',
  error: 'major',
  err: 'major',
  p2: 'major',
  minor: 'minor',
  average: 'minor',
  medium: 'minor',
  p3: 'minor',
  warning: 'warning',
  warn: 'warning',
  low: 'warning',
  p4: 'warning',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  'not classified': 'info',
  none: 'info',
  debug: 'info',
  p5: 'info'
}

export const severityOf = (word: string | undefined | null): Severity | null =>
  word ? (SEVERITY_ALIASES[word.trim().toLowerCase()] ?? null) : null

export const severityRank = (s: string): number => {
  const i = SEVERITIES.indexOf(s as Severity)
  return i < 0 ? SEVERITIES.length : i
}

/** How an event names the CI it concerns: by id, or by the CMDB's identification keys. */
export type CiReference = CiKeys

/** Every sender's event, normalised: what the engine deduplicates, correlates and stores. */
export interface NormalisedEvent {
  source: string
  dedupKey: string
  family: string | null
  /** The sender's own event id (or a single event's Idempotency-Key): a retry answers the first outcome. */
  externalId: string | null
  status: EventStatus
  severity: Severity
  summary: string
  details: Record<string, unknown>
  labels: Record<string, string>
  ci: CiReference | null
  /** When it happened by the sender's clock; null: the sender did not say (we use the receipt time). */
  occurredAt: Date | null
  /** When the sender says this episode started (Alertmanager startsAt): separates episodes. */
  startsAt: Date | null
  /** When the sender says the episode ended (a resolved alert's endsAt). */
  endsAt: Date | null
  /**
   * The key names one episode only (a Zabbix event id, a Nagios problem id): once it ended, a firing
   * event for it is always a late delivery and never opens a new incident.
   */
  oneEpisode?: boolean
  /** Text for an update (acknowledgement or comment) or extra context for the incident note. */
  note: string | null
}

/** A sender payload item that could not become an event: reported per item, never stored. */
export interface RejectedItem {
  index: number
  errors: FieldError[]
}

/** What a receiver makes of a body: events to ingest, items it refused, and why (per index). */
export interface Mapped {
  events: { index: number; event: NormalisedEvent }[]
  rejected: RejectedItem[]
}

const FNV_OFFSET = 14695981039346656037n
const FNV_PRIME = 1099511628211n
const MASK = 0xffffffffffffffffn

/**
 * Prometheus' label-set fingerprint (FNV-1a 64 over sorted `name 0xFF value 0xFF`), so a generic event
 * with labels but no fingerprint gets the same one Alertmanager would compute.
 */
export function labelFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET
  for (const name of Object.keys(labels).sort()) {
    for (const part of [name, labels[name] ?? '']) {
      for (const byte of Buffer.from(part, 'utf8')) {
        hash ^= BigInt(byte)
        hash = (hash * FNV_PRIME) & MASK
      }
      hash ^= 0xffn
      hash = (hash * FNV_PRIME) & MASK
    }
  }
  return hash.toString(16).padStart(16, '0')
}

/** Zabbix leaves an unexpanded macro ("{EVENT.RECOVERY.ID}") literally: that means absent. */
export const UNEXPANDED_MACRO = /^\{[A-Z0-9._$#]+\}$/

/** A string field from a sender: trimmed, empty and unexpanded macros count as absent. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') return undefined
  const t = value.trim()
  if (!t || UNEXPANDED_MACRO.test(t)) return undefined
  return t
}

/** Splits "srv-app01.corp.example.com:9100" into identification keys (lib/ci-identity.ts). */
export const hostKeys = (raw: string | undefined): CiReference | null => ciHostKeys(raw)

/** Sender-supplied text bounded to what we store (annotations may be 64 KB; a summary is a line). */
export const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s)

/** Only string values survive as labels (keys and values bounded). */
export function stringLabels(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out
  let n = 0
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (n >= 100) break
    const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined
    if (s === undefined || k === '__proto__' || k.length > 200) continue
    out[k] = clip(s, 1000)
    n++
  }
  return out
}

/** A time from a sender: RFC 3339, or unix seconds. Go's zero time and garbage are null. */
export function timeOf(value: unknown): Date | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return new Date(value * 1000)
  if (typeof value !== 'string' || !value.trim()) return null
  if (/^\d{9,11}$/.test(value.trim())) return new Date(Number(value.trim()) * 1000)
  const d = new Date(value)
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970) return null
  return d
}

/** A value without NUL characters, which PostgreSQL text and jsonb cannot hold (deep, bounded). */
function withoutNul<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T
  if (depth > 64 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(v => withoutNul(v, depth + 1)) as T
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[withoutNul(k)] = withoutNul(v, depth + 1)
  return out as T
}

/**
 * An event fit to store: a NUL byte in one alert's annotation must not make PostgreSQL refuse the whole
 * delivery (a 4xx that Alertmanager would never retry), so NULs are dropped from every text.
 */
export function storable(e: NormalisedEvent): NormalisedEvent {
  const texts = [e.source, e.dedupKey, e.family, e.externalId, e.summary, e.note]
  if (!texts.some(t => t?.includes('\u0000')) && !JSON.stringify([e.details, e.labels]).includes('\\u0000')) return e
  return {
    ...e,
    source: withoutNul(e.source),
    dedupKey: withoutNul(e.dedupKey),
    family: withoutNul(e.family),
    externalId: withoutNul(e.externalId),
    summary: withoutNul(e.summary),
    note: withoutNul(e.note),
    details: withoutNul(e.details),
    labels: withoutNul(e.labels)
  }
}
