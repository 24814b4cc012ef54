import { type FieldError, validationFailed } from '../../../lib/errors.js'
import {
  clip,
  type EventStatus,
  hostKeys,
  type Mapped,
  type Severity,
  severityOf,
  text,
  timeOf
} from '../events.model.js'
import { guessTool, isObject, type Receiver, wrongBody } from './receiver.js'

/** {EVENT.NSEVERITY}: 0 Not classified, 1 Information, 2 Warning, 3 Average, 4 High, 5 Disaster. */
const NSEVERITY: Severity[] = ['info', 'info', 'warning', 'minor', 'major', 'critical']

const MAX_TAGS = 100
const MAX_TAGS_JSON = 64 * 1024
const MAX_GROUPS = 50

/** Fields kept verbatim (bounded) in the event's details, for people reading it. */
const DETAIL_FIELDS: [string, number][] = [
  ['event_date', 20],
  ['event_time', 20],
  ['event_recovery_id', 30],
  ['event_recovery_date', 20],
  ['event_recovery_time', 20],
  ['event_duration', 100],
  ['event_severity', 50],
  ['event_nseverity', 5],
  ['event_update_action', 500],
  ['event_update_user', 200],
  ['event_update_message', 4000],
  ['event_opdata', 2000],
  ['operation_data', 2000],
  ['acknowledged', 10],
  ['trigger_id', 30],
  ['trigger_name', 1000],
  ['trigger_description', 4000],
  ['host_id', 30],
  ['host_host', 255],
  ['host_name', 255],
  ['host_ip', 100],
  ['host_port', 10],
  ['alert_subject', 1000],
  ['subject', 1000],
  ['alert_message', 10000],
  ['zabbix_url', 2000]
]

/** A value that names a host (not a visible name such as "srv-app01 (Paris DC1)"). */
const looksLikeHost = (s: string | undefined) => (s && /^[A-Za-z0-9._:[\]-]{1,255}$/.test(s) ? s : undefined)

/**
 * {EVENT.TAGSJSON} in either shape: the Event-Driven Ansible script's object of arrays
 * ({"scope": ["performance"]}), or the macro's own JSON string (or array) of {tag, value}.
 */
function tagsOf(raw: unknown): Record<string, string> {
  let value = raw
  if (typeof raw === 'string') {
    if (!text(raw) || raw.length > MAX_TAGS_JSON) return {}
    try {
      value = JSON.parse(raw)
    } catch {
      return {}
    }
  }
  const acc = new Map<string, string[]>()
  const add = (tag: unknown, v: unknown) => {
    const k = text(tag)
    if (!k || k.length > 200 || k === '__proto__') return
    if (!acc.has(k)) {
      if (acc.size >= MAX_TAGS) return
      acc.set(k, [])
    }
    const list = acc.get(k)!
    const s = typeof v === 'string' || typeof v === 'number' ? String(v) : ''
    if (list.length < 20) list.push(s)
  }
  if (Array.isArray(value)) {
    for (const item of value.slice(0, MAX_TAGS * 4)) if (isObject(item)) add(item.tag, item.value)
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value).slice(0, MAX_TAGS)) {
      if (Array.isArray(v)) for (const one of v.slice(0, 20)) add(k, one)
      else add(k, v)
    }
  }
  const out: Record<string, string> = {}
  for (const [k, list] of acc) out[k] = clip(list.filter(Boolean).join(', '), 1000)
  return out
}

/** {TRIGGER.HOSTGROUP.NAME}: an array (Event-Driven Ansible) or the macro's comma-separated text. */
function groupsOf(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' && text(raw) ? raw.split(',') : []
  return list
    .slice(0, MAX_GROUPS)
    .map(g => text(g))
    .filter((g): g is string => g !== undefined)
    .map(g => clip(g, 200))
}

/**
 * Zabbix webhook media type. Two shapes are accepted: the stock Event-Driven Ansible media type (ids as
 * integers, tags as an object of arrays, host groups as an array) and the native "ITSM" media type (every
 * value a macro-expanded string, tags as {EVENT.TAGSJSON}). Unexpanded macros ("{EVENT.RECOVERY.ID}")
 * count as absent.
 *
 * One body is one event: `event:{EVENT.ID}` is the dedup key (recovery and update messages carry the
 * original problem id). event_value 1 fires, 0 resolves; event_update_status 1 (acknowledge, comment,
 * severity change, manual close) adds a note and changes nothing else.
 *
 * Times: event_date/event_time are the Zabbix server's local time without a zone, so they are kept in
 * the details and never parsed. event_datetime_timestamp (unix seconds, added by the Ansible script) is the
 * problem's start: it is the event time of a problem message; recovery and update messages carry the same
 * problem time, so they use the receipt time instead.
 *
 * Only trigger events (event_source 0) are accepted. Discovery, autoregistration, internal and service
 * events are a misconfigured action: they answer 422 naming event_source (understood, refused; Zabbix
 * retries a few times and then shows the failure in its action log, which is where the admin will look).
 *
 * The answer carries `tags` (the media type's process_tags): __zbx_itsm_ticket_id and __zbx_itsm_link,
 * so recovery and update messages can name the incident.
 */
export const zabbix: Receiver = {
  tool: 'zabbix',
  title: 'Receive a Zabbix webhook media type event (Event-Driven Ansible or native ITSM shape)',
  map(body, source, defaultSeverity) {
    if (!isObject(body)) wrongBody('Zabbix', [{ field: 'body', message: 'must be a JSON object' }])
    const eventId = text(body.event_id)
    if (eventId === undefined) {
      wrongBody('Zabbix', [{ field: 'event_id', message: 'required ({EVENT.ID})' }], guessTool(body))
    }
    const errors: FieldError[] = []
    if (!/^\d{1,20}$/.test(eventId)) errors.push({ field: 'event_id', message: 'must be a number ({EVENT.ID})' })
    const value = text(body.event_value)
    if (value !== undefined && value !== '0' && value !== '1') {
      errors.push({ field: 'event_value', message: 'must be 1 (problem) or 0 (recovery)' })
    }
    const updateStatus = text(body.event_update_status)
    if (updateStatus !== undefined && updateStatus !== '0' && updateStatus !== '1') {
      errors.push({ field: 'event_update_status', message: 'must be 0 or 1' })
    }
    if (errors.length) wrongBody('Zabbix', errors)
    const eventSource = text(body.event_source)
    if (eventSource !== undefined && eventSource !== '0') {
      throw validationFailed(
        [{ field: 'event_source', message: `only trigger events (0) open incidents (got ${clip(eventSource, 20)})` }],
        `event_source ${clip(eventSource, 20)}: only trigger events (event_source 0) are accepted; restrict the Zabbix action to trigger events`
      )
    }

    const status: EventStatus = updateStatus === '1' ? 'update' : value === '0' ? 'resolved' : 'firing'
    const nseverity = text(body.event_nseverity)
    const word = text(body.event_severity)
    const severity =
      (nseverity && /^[0-5]$/.test(nseverity) ? NSEVERITY[Number(nseverity)] : undefined) ??
      severityOf(word) ??
      defaultSeverity
    const name = text(body.event_name) ?? text(body.alert_subject) ?? text(body.subject) ?? text(body.trigger_name)
    const summary = clip(name ?? `Zabbix event ${eventId}`, 1024)
    const hostHost = looksLikeHost(text(body.host_host))
    const hostName = text(body.host_name)
    const groups = groupsOf(body.host_groups)
    const triggerId = text(body.trigger_id)
    const problemTime = timeOf(text(body.event_datetime_timestamp))

    const labels: Record<string, string> = { ...tagsOf(body.event_tags) }
    const host = hostHost ?? hostName
    if (host) labels.host = clip(host, 255)
    if (triggerId) labels.trigger_id = clip(triggerId, 30)

    const details: Record<string, unknown> = { event_id: eventId }
    for (const [field, max] of DETAIL_FIELDS) {
      const v = text(body[field])
      if (v !== undefined) details[field] = clip(v, max)
    }
    if (groups.length) details.host_groups = groups

    let note: string | null
    if (status === 'update') {
      const who = text(body.event_update_user) ?? 'Zabbix'
      const what = text(body.event_update_action) ?? 'updated the problem'
      const message = text(body.event_update_message)
      note = clip(`${who} ${what}${message ? `: ${message}` : ''}`, 4000)
    } else if (status === 'resolved') {
      const duration = text(body.event_duration)
      const recoveryId = text(body.event_recovery_id)
      note = `Zabbix recovery${recoveryId ? ` (event ${clip(recoveryId, 30)})` : ''}${duration ? ` after ${clip(duration, 100)}` : ''}`
    } else {
      const opdata = text(body.event_opdata) ?? text(body.operation_data)
      note =
        text(body.alert_message) ??
        [
          text(body.trigger_description),
          opdata ? `Operational data: ${opdata}` : undefined,
          hostName || hostHost ? `Host: ${hostName ?? hostHost}` : undefined,
          groups.length ? `Host groups: ${groups.join(', ')}` : undefined
        ]
          .filter(Boolean)
          .join('\n')
      note = note ? clip(note, 10000) : null
    }

    const out: Mapped = {
      events: [
        {
          index: 0,
          event: {
            source,
            dedupKey: `event:${eventId}`,
            family: triggerId ? clip(triggerId, 30) : name ? clip(name, 200) : null,
            externalId: null,
            status,
            severity,
            summary,
            details,
            labels,
            ci: hostKeys(hostHost ?? looksLikeHost(hostName)),
            occurredAt: status === 'firing' ? problemTime : null,
            startsAt: problemTime,
            endsAt: null,
            oneEpisode: true,
            note
          }
        }
      ],
      rejected: []
    }
    return out
  },

  reply(outcomes) {
    const number = outcomes.find(o => o.incidentNumber)?.incidentNumber
    if (!number) return {}
    return { tags: { __zbx_itsm_ticket_id: number, __zbx_itsm_link: `/api/v1/tickets/${number}` } }
  }
}
