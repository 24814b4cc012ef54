import type { FieldError } from '../../../lib/errors.js'
import {
  type CiReference,
  clip,
  type EventStatus,
  hostKeys,
  type Mapped,
  type Severity,
  text,
  timeOf
} from '../events.model.js'
import { guessTool, isObject, type Receiver, wrongBody } from './receiver.js'

const SOURCE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

const STATE_SEVERITY: Record<string, Severity> = {
  CRITICAL: 'critical',
  DOWN: 'critical',
  UNREACHABLE: 'critical',
  WARNING: 'warning',
  UNKNOWN: 'minor',
  OK: 'info',
  UP: 'info'
}
const SERVICE_STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']
const HOST_STATES = ['UP', 'DOWN', 'UNREACHABLE']

/** Nagios Core 4 and Icinga 2 notification types; everything but PROBLEM and RECOVERY is a note. */
const UPDATE_TYPES = new Set([
  'ACKNOWLEDGEMENT',
  'CUSTOM',
  'FLAPPINGSTART',
  'FLAPPINGSTOP',
  'FLAPPINGEND',
  'FLAPPINGDISABLED',
  'DOWNTIMESTART',
  'DOWNTIMEEND',
  'DOWNTIMECANCELLED',
  'DOWNTIMEREMOVED'
])

/** Kept verbatim (bounded) in the event's details. */
const DETAIL_FIELDS: [string, number][] = [
  ['source', 100],
  ['host_display_name', 255],
  ['host_address', 100],
  ['host_address6', 100],
  ['service_display_name', 255],
  ['state_type', 10],
  ['check_attempt', 10],
  ['output', 4000],
  ['long_output', 10000],
  ['perfdata', 4000],
  ['author', 200],
  ['comment', 4000],
  ['long_date_time', 100],
  ['last_state_change', 20],
  ['problem_id', 30],
  ['last_problem_id', 30]
]

const HOSTISH = /^[A-Za-z0-9._-]{1,255}$/

/** A time with an explicit zone ("2026-11-23 15:01:41 +0000"); Nagios' "... CET 2026" is not trusted. */
function zonedTime(s: string | undefined): Date | null {
  if (!s || !/(?:Z|[+-]\d{2}:?\d{2})$/.test(s)) return null
  return timeOf(s)
}

/** A problem id macro: a positive number; "0" (Nagios: not in a problem state) and null count as absent. */
const problemId = (v: unknown) => {
  const s = text(v)
  return s && /^\d{1,20}$/.test(s) && !/^0+$/.test(s) ? s : undefined
}

type Flavour = 'nagios' | 'icinga'

/**
 * The `notify-itsm` JSON (peers.md §3b) built by a notification command from Nagios Core or Icinga 2
 * macros. One body is one notification.
 *
 * Keys: Nagios has problem ids (`svc:`/`host:` + $SERVICEPROBLEMID$; a RECOVERY names the episode by
 * $LASTSERVICEPROBLEMID$). Icinga 2 has none, so the key is host!service with open-incident semantics,
 * and last_state_change separates episodes (a late PROBLEM from before the last recovery reopens nothing).
 *
 * Only HARD problems open incidents: a SOFT PROBLEM is a retry, accepted (202) but rejected as an item.
 * ACKNOWLEDGEMENT, CUSTOM, FLAPPING* and DOWNTIME* become notes on the open incident.
 *
 * The body's `source` (the monitoring instance) scopes keys when the path does not name one.
 */
function makeReceiver(flavour: Flavour): Receiver {
  const Tool = flavour === 'nagios' ? 'Nagios' : 'Icinga'
  return {
    tool: flavour,
    title: `Receive a ${Tool} notification (notify-itsm JSON) unchanged`,
    map(body, pathSource, defaultSeverity) {
      if (!isObject(body)) wrongBody(Tool, [{ field: 'body', message: 'must be a JSON object' }])
      const errors: FieldError[] = []
      const type = text(body.notification_type)?.toUpperCase()
      const hostName = text(body.host_name)
      if (type === undefined) errors.push({ field: 'notification_type', message: 'required ($NOTIFICATIONTYPE$)' })
      if (hostName === undefined) errors.push({ field: 'host_name', message: 'required ($HOSTNAME$)' })
      if (type === undefined || hostName === undefined) wrongBody(Tool, errors, guessTool(body))
      if (type !== 'PROBLEM' && type !== 'RECOVERY' && !UPDATE_TYPES.has(type)) {
        errors.push({ field: 'notification_type', message: `unknown type ${clip(type, 40)}` })
      }
      const serviceName = text(body.service_name)
      const objectType = text(body.object_type)?.toLowerCase() ?? (serviceName ? 'service' : 'host')
      if (objectType !== 'host' && objectType !== 'service') {
        errors.push({ field: 'object_type', message: 'must be "host" or "service"' })
      }
      const isService = objectType === 'service'
      if (isService && !serviceName) errors.push({ field: 'service_name', message: 'required for a service' })
      if (hostName.length > 255) errors.push({ field: 'host_name', message: 'at most 255 characters' })
      if (serviceName && serviceName.length > 255) {
        errors.push({ field: 'service_name', message: 'at most 255 characters' })
      }

      let dedupKey = ''
      if (flavour === 'nagios') {
        const field = type === 'RECOVERY' ? 'last_problem_id' : 'problem_id'
        const raw = text(body[field])
        const macro = `$${type === 'RECOVERY' ? 'LAST' : ''}${isService ? 'SERVICE' : 'HOST'}PROBLEMID$`
        const id = problemId(raw)
        if (id) dedupKey = `${isService ? 'svc' : 'host'}:${id}`
        else if (raw !== undefined && !/^\d{1,20}$/.test(raw))
          errors.push({ field, message: `must be a number (${macro})` })
        else if (raw === undefined || type === 'PROBLEM' || type === 'RECOVERY') {
          const hint = raw === undefined ? '; Icinga 2 has none: post to /api/v1/events/icinga' : ''
          errors.push({ field, message: `required: a non-zero problem id (${macro})${hint}` })
        }
      } else {
        dedupKey = isService ? `${hostName}!${serviceName}` : hostName
      }
      if (errors.length) wrongBody(Tool, errors)

      const out: Mapped = { events: [], rejected: [] }
      // A Nagios note while the object is OK (problem id 0): nothing can be open for it
      if (!dedupKey) {
        out.rejected.push({
          index: 0,
          errors: [{ field: 'problem_id', message: `0: the ${objectType} is not in a problem state; nothing to note` }]
        })
        return out
      }
      const stateType = text(body.state_type)?.toUpperCase()
      if (type === 'PROBLEM' && stateType === 'SOFT') {
        out.rejected.push({
          index: 0,
          errors: [
            { field: 'state_type', message: 'SOFT state: retries are not incidents (only HARD problems open one)' }
          ]
        })
        return out
      }

      const stateId = text(body.state_id)
      const state =
        text(body.state)?.toUpperCase() ??
        (stateId && /^\d$/.test(stateId) ? (isService ? SERVICE_STATES : HOST_STATES)[Number(stateId)] : undefined)
      const severity = (state ? STATE_SEVERITY[state] : undefined) ?? defaultSeverity
      const status: EventStatus = type === 'PROBLEM' ? 'firing' : type === 'RECOVERY' ? 'resolved' : 'update'
      const output = text(body.output)
      const hostLabel = text(body.host_display_name) ?? hostName
      const what = isService ? `${text(body.service_display_name) ?? serviceName} on ${hostName}` : hostLabel
      const summary = clip(
        `${what}${isService ? '' : ` is ${state ?? 'in problem state'}`}${output ? `: ${output}` : ''}`,
        1024
      )

      const author = text(body.author)
      const comment = text(body.comment)
      let note: string | null
      if (status === 'update') {
        note = clip(
          `${type}${author ? ` by ${author}` : ''}${comment ? `: ${comment}` : ''}${state ? ` (state ${state})` : ''}`,
          4000
        )
      } else {
        const long = text(body.long_output)
        note = output ? clip([output, long].filter(Boolean).join('\n'), 10000) : null
      }

      const lastChange = timeOf(text(body.last_state_change))
      const details: Record<string, unknown> = { notification_type: type, object_type: objectType }
      for (const [field, max] of DETAIL_FIELDS) {
        const v = text(body[field])
        if (v !== undefined) details[field] = clip(v, max)
      }
      if (state) details.state = clip(state, 20)

      const labels: Record<string, string> = { host: clip(hostName, 255) }
      if (serviceName) labels.service = clip(serviceName, 255)
      if (state) labels.state = clip(state, 20)

      const bodySource = text(body.source)
      const source = pathSource === flavour && bodySource && SOURCE_RE.test(bodySource) ? bodySource : pathSource

      out.events.push({
        index: 0,
        event: {
          source,
          dedupKey,
          family: isService ? `${hostName}!${serviceName}` : hostName,
          externalId: null,
          status,
          severity,
          summary,
          details,
          labels,
          ci: ciOf(hostName, text(body.host_display_name), text(body.host_address)),
          occurredAt: zonedTime(text(body.long_date_time)),
          startsAt: status === 'firing' ? lastChange : null,
          endsAt: status === 'resolved' ? lastChange : null,
          // A Nagios problem id names one episode; Icinga's host!service key spans them
          oneEpisode: flavour === 'nagios',
          note
        }
      })
      return out
    }
  }
}

/** The host name, completed by an FQDN from the display name or address when one looks like it. */
function ciOf(hostName: string, displayName: string | undefined, address: string | undefined): CiReference | null {
  const ci = hostKeys(HOSTISH.test(hostName) ? hostName : undefined)
  if (!ci || ci.fqdn) return ci
  for (const candidate of [displayName, address]) {
    if (!candidate || !HOSTISH.test(candidate) || /^[0-9.]+$/.test(candidate) || !candidate.includes('.')) continue
    const keys = hostKeys(candidate)
    if (keys?.fqdn && keys.hostname === ci.hostname) return { ...ci, fqdn: keys.fqdn }
  }
  return ci
}

export const nagios = makeReceiver('nagios')
export const icinga = makeReceiver('icinga')
