import { badRequest, type FieldError } from '../../../lib/errors.js'
import type { Mapped, Severity } from '../events.model.js'
import type { EventOutcomeView } from '../events.schemas.js'

/**
 * A native receiver: takes a monitoring tool's own webhook body, unchanged, and maps it onto normalised
 * events. A body that can never be valid (another tool's, a wrong version) throws a 400 naming what is
 * wrong, so senders that retry on 5xx do not retry it; a bad item inside a good body is reported per item.
 */
export interface Receiver {
  /** Path segment: /api/v1/events/{tool} and /api/v1/events/{tool}/{source}. */
  tool: string
  /** Route summary for the contract. */
  title: string
  map(body: unknown, source: string, defaultSeverity: Severity): Mapped
  /** Extra fields for the answer (Zabbix stores the incident number as event tags). */
  reply?(outcomes: EventOutcomeView[], mapped: Mapped): Record<string, unknown>
}

/** The body is not this tool's at all: a permanent 400 listing what is missing or wrong. */
export function wrongBody(tool: string, errors: FieldError[], hint?: string): never {
  throw badRequest(
    `not ${/^[AEIOU]/i.test(tool) ? 'an' : 'a'} ${tool} webhook body: ${errors.map(e => `${e.field} ${e.message}`).join('; ')}${hint ? ` (${hint})` : ''}`,
    errors
  )
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Guesses which tool a misdirected body came from, for the 400's hint. */
export function guessTool(body: unknown): string | undefined {
  if (!isObject(body)) return undefined
  if (body.version === '4' && Array.isArray(body.alerts))
    return 'an Alertmanager body: post it to /api/v1/events/alertmanager'
  if (body.version === '1' && 'orgId' in body) return 'a Grafana body: post it to /api/v1/events/grafana'
  if ('event_id' in body && ('event_value' in body || 'event_nseverity' in body)) {
    return 'a Zabbix body: post it to /api/v1/events/zabbix'
  }
  if ('notification_type' in body && 'host_name' in body)
    return 'a Nagios/Icinga body: post it to /api/v1/events/nagios or /icinga'
  if ('routing_key' in body && 'event_action' in body)
    return 'a PagerDuty Events v2 body: post it to /api/v1/events/pagerduty'
  return undefined
}
