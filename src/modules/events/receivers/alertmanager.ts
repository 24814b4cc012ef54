import type { FieldError } from '../../../lib/errors.js'
import {
  clip,
  hostKeys,
  labelFingerprint,
  type Mapped,
  type Severity,
  severityOf,
  stringLabels,
  timeOf
} from '../events.model.js'
import { guessTool, isObject, type Receiver, wrongBody } from './receiver.js'

const MAX_ALERTS = 1000

/** The label naming the host an alert concerns, in the order exporters usually set them. */
export const HOST_LABELS = ['instance', 'host', 'hostname', 'nodename', 'node', 'fqdn']

/**
 * Maps one alert of an Alertmanager-format group (Alertmanager v4, and Grafana, whose alerts keep the same
 * fields). `keyPrefix` scopes the fingerprint (Grafana: the organisation).
 */
export function mapAlert(
  alert: unknown,
  index: number,
  ctx: { source: string; defaultSeverity: Severity; keyPrefix?: string; details: Record<string, unknown> },
  out: Mapped
) {
  const errors: FieldError[] = []
  const at = (f: string) => `alerts[${index}].${f}`
  if (!isObject(alert)) {
    out.rejected.push({ index, errors: [{ field: `alerts[${index}]`, message: 'must be an object' }] })
    return
  }
  if (!isObject(alert.labels) || Object.keys(alert.labels).length === 0) {
    errors.push({ field: at('labels'), message: 'must be a non-empty object' })
  }
  if (alert.status !== 'firing' && alert.status !== 'resolved') {
    errors.push({ field: at('status'), message: 'must be "firing" or "resolved"' })
  }
  const fingerprint = alert.fingerprint
  if (fingerprint !== undefined && (typeof fingerprint !== 'string' || !/^[0-9a-zA-Z]{1,64}$/.test(fingerprint))) {
    errors.push({ field: at('fingerprint'), message: 'must be a hex fingerprint' })
  }
  if (alert.startsAt !== undefined && timeOf(alert.startsAt) === null) {
    errors.push({ field: at('startsAt'), message: 'must be an RFC 3339 time' })
  }
  if (errors.length) {
    out.rejected.push({ index, errors })
    return
  }
  const labels = stringLabels(alert.labels)
  const annotations = stringLabels(alert.annotations)
  const name = labels.alertname ?? 'alert'
  const hostLabel = HOST_LABELS.find(l => labels[l])
  const word = labels.severity
  const severity = severityOf(word) ?? ctx.defaultSeverity
  const status = alert.status as 'firing' | 'resolved'
  const fp = typeof fingerprint === 'string' ? fingerprint.toLowerCase() : labelFingerprint(labels)
  const summary =
    annotations.summary ?? annotations.description ?? `${name}${hostLabel ? ` on ${labels[hostLabel]}` : ''}`
  out.events.push({
    index,
    event: {
      source: ctx.source,
      dedupKey: ctx.keyPrefix ? `${ctx.keyPrefix}${fp}` : fp,
      family: name,
      externalId: null,
      status,
      severity,
      summary: clip(summary, 1024),
      details: {
        ...ctx.details,
        annotations,
        ...(typeof alert.generatorURL === 'string' ? { generatorURL: clip(alert.generatorURL, 2000) } : {}),
        ...(word && !severityOf(word) ? { unmappedSeverity: clip(word, 100) } : {}),
        startsAt: alert.startsAt ?? null,
        endsAt: alert.endsAt ?? null
      },
      labels,
      ci: hostKeys(hostLabel ? labels[hostLabel] : undefined),
      occurredAt: null,
      startsAt: timeOf(alert.startsAt),
      endsAt: status === 'resolved' ? timeOf(alert.endsAt) : null,
      note: annotations.description ?? null
    }
  })
}

/** Prometheus Alertmanager webhook, payload version 4: one group of alerts, each with its own status. */
export const alertmanager: Receiver = {
  tool: 'alertmanager',
  title: 'Receive a Prometheus Alertmanager webhook (version 4) unchanged',
  map(body, source, defaultSeverity) {
    if (!isObject(body)) wrongBody('Alertmanager', [{ field: 'body', message: 'must be a JSON object' }])
    const errors: FieldError[] = []
    if (body.version !== '4') {
      errors.push({ field: 'version', message: `must be "4" (got ${JSON.stringify(body.version ?? null)})` })
    }
    if (!Array.isArray(body.alerts)) errors.push({ field: 'alerts', message: 'must be an array' })
    else if (body.alerts.length > MAX_ALERTS) errors.push({ field: 'alerts', message: `at most ${MAX_ALERTS}` })
    if (errors.length) wrongBody('Alertmanager', errors, guessTool(body))
    const details = {
      groupKey: typeof body.groupKey === 'string' ? clip(body.groupKey, 2000) : null,
      receiver: typeof body.receiver === 'string' ? clip(body.receiver, 200) : null,
      externalURL: typeof body.externalURL === 'string' ? clip(body.externalURL, 2000) : null,
      truncatedAlerts: typeof body.truncatedAlerts === 'number' ? body.truncatedAlerts : 0
    }
    const out: Mapped = { events: [], rejected: [] }
    ;(body.alerts as unknown[]).forEach((alert, i) => {
      mapAlert(alert, i, { source, defaultSeverity, details }, out)
    })
    return out
  }
}
