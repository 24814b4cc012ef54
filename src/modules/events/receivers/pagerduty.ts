import { createHash } from 'node:crypto'
import type { FieldError } from '../../../lib/errors.js'
import { clip, type EventStatus, hostKeys, type Mapped, type Severity, timeOf } from '../events.model.js'
import { guessTool, isObject, type Receiver, wrongBody } from './receiver.js'

const ACTIONS: Record<string, EventStatus> = { trigger: 'firing', acknowledge: 'update', resolve: 'resolved' }
const SEVERITY: Record<string, Severity> = { critical: 'critical', error: 'major', warning: 'warning', info: 'info' }
const MAX_CUSTOM_DETAILS = 16 * 1024
const HOSTISH = /^[A-Za-z0-9._:[\]-]{1,255}$/

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** custom_details is free JSON: kept when small, otherwise kept as clipped text. */
function bounded(value: unknown): unknown {
  if (value === undefined) return undefined
  const json = JSON.stringify(value)
  if (json === undefined) return undefined
  return json.length <= MAX_CUSTOM_DETAILS ? value : clip(json, MAX_CUSTOM_DETAILS)
}

/** links[] / images[]: kept for people to click (href, text, src, alt), never fetched here. */
function linksOf(value: unknown, max: number): Record<string, string>[] {
  if (!Array.isArray(value)) return []
  return value
    .slice(0, max)
    .filter(isObject)
    .map(l => {
      const out: Record<string, string> = {}
      for (const k of ['href', 'text', 'src', 'alt']) if (typeof l[k] === 'string') out[k] = clip(l[k] as string, 2000)
      return out
    })
}

/**
 * PagerDuty Events API v2 (`POST /v2/enqueue` bodies), the lingua franca many tools already emit.
 *
 * The dedup key is scoped by routing key, as at PagerDuty. Routing keys are secrets, so neither the
 * key nor the stored details contain one: the scope is the first 12 hex digits of its SHA-256. A trigger
 * without dedup_key gets a stable generated one, the SHA-256 of routing key, summary and source (so
 * repeats of the same trigger deduplicate); acknowledge and resolve must name dedup_key.
 *
 * acknowledge is a note on the open incident; resolve resolves it. As at PagerDuty, after a resolve the
 * same dedup_key triggers a new incident. Severity: critical, error (major), warning, info.
 */
export const pagerduty: Receiver = {
  tool: 'pagerduty',
  title: 'Receive a PagerDuty Events API v2 event unchanged',
  map(body, source) {
    if (!isObject(body)) wrongBody('PagerDuty Events v2', [{ field: 'body', message: 'must be a JSON object' }])
    const errors: FieldError[] = []
    const routingKey = typeof body.routing_key === 'string' ? body.routing_key.trim() : ''
    if (!routingKey) errors.push({ field: 'routing_key', message: 'required' })
    if (body.event_action === undefined) errors.push({ field: 'event_action', message: 'required' })
    if (errors.length) {
      const hint =
        guessTool(body) ??
        ('service_key' in body ? 'an Events API v1 body: send Events API v2 (routing_key, event_action)' : undefined)
      wrongBody('PagerDuty Events v2', errors, hint)
    }
    if (routingKey.length > 256) errors.push({ field: 'routing_key', message: 'at most 256 characters' })
    const action = typeof body.event_action === 'string' ? body.event_action : ''
    const status = Object.hasOwn(ACTIONS, action) ? ACTIONS[action]! : undefined
    if (!status) errors.push({ field: 'event_action', message: 'must be trigger, acknowledge or resolve' })
    const given = body.dedup_key
    if (given !== undefined && given !== null && (typeof given !== 'string' || given.length > 255 || !given.trim())) {
      errors.push({ field: 'dedup_key', message: 'must be a non-empty string of at most 255 characters' })
    }
    const payload = isObject(body.payload) ? body.payload : undefined
    let summary = ''
    let origin = ''
    let severity: Severity | undefined
    let occurredAt: Date | null = null
    if (status === 'firing') {
      if (!payload) errors.push({ field: 'payload', message: 'required on trigger' })
      summary = typeof payload?.summary === 'string' ? payload.summary.trim() : ''
      origin = typeof payload?.source === 'string' ? payload.source.trim() : ''
      if (payload && !summary) errors.push({ field: 'payload.summary', message: 'required on trigger' })
      if (payload && !origin) errors.push({ field: 'payload.source', message: 'required on trigger' })
      const word = payload?.severity
      severity = typeof word === 'string' && Object.hasOwn(SEVERITY, word) ? SEVERITY[word] : undefined
      if (payload && !severity) {
        errors.push({ field: 'payload.severity', message: 'required: critical, error, warning or info' })
      }
      if (payload?.timestamp !== undefined) {
        // PagerDuty's own examples write the offset without a colon ("+0000")
        const raw =
          typeof payload.timestamp === 'string' ? payload.timestamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : ''
        occurredAt = timeOf(raw)
        if (!occurredAt) errors.push({ field: 'payload.timestamp', message: 'must be an ISO 8601 time' })
      }
    } else if (status && typeof given !== 'string') {
      errors.push({ field: 'dedup_key', message: `required on ${action}` })
    }
    if (errors.length) wrongBody('PagerDuty Events v2', errors)

    const scope = sha256(routingKey).slice(0, 12)
    const dedup = typeof given === 'string' ? given.trim() : sha256(`${routingKey}\n${summary}\n${origin}`).slice(0, 32)
    const str = (v: unknown, max: number) => (typeof v === 'string' && v.trim() ? clip(v.trim(), max) : undefined)
    const labels: Record<string, string> = {}
    for (const k of ['component', 'group', 'class'] as const) {
      const v = str(payload?.[k], 255)
      if (v) labels[k] = v
    }
    if (origin) labels.source = clip(origin, 255)
    const details: Record<string, unknown> = {
      dedup_key: clip(dedup, 255),
      dedup_key_generated: typeof given !== 'string',
      routing_key_sha256: scope
    }
    const client = str(body.client, 255)
    const clientUrl = str(body.client_url, 2000)
    if (client) details.client = client
    if (clientUrl) details.client_url = clientUrl
    const custom = bounded(payload?.custom_details)
    if (custom !== undefined) details.custom_details = custom
    const links = linksOf(body.links, 20)
    const images = linksOf(body.images, 10)
    if (links.length) details.links = links
    if (images.length) details.images = images

    const out: Mapped = {
      events: [
        {
          index: 0,
          event: {
            source,
            dedupKey: `${scope}/${clip(dedup, 255)}`,
            family: str(payload?.class, 200) ?? str(payload?.component, 200) ?? null,
            externalId: null,
            status: status!,
            severity: severity ?? 'info',
            summary: clip(summary || `${action}: ${dedup}`, 1024),
            details,
            labels,
            ci: HOSTISH.test(origin) ? hostKeys(origin) : null,
            occurredAt,
            startsAt: null,
            endsAt: null,
            note:
              status === 'update'
                ? `Acknowledged via PagerDuty Events API${client ? ` (${client})` : ''}`
                : status === 'resolved'
                  ? `Resolved via PagerDuty Events API${client ? ` (${client})` : ''}`
                  : null
          }
        }
      ],
      rejected: []
    }
    return out
  },

  /** PagerDuty's own answer fields beside ours, so its clients read the dedup key as they expect. */
  reply(_outcomes, mapped) {
    const key = mapped.events[0]?.event.details.dedup_key
    return { status: 'success', message: 'Event processed', ...(typeof key === 'string' ? { dedup_key: key } : {}) }
  }
}
