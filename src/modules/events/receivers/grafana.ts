import type { FieldError } from '../../../lib/errors.js'
import { clip, type Mapped } from '../events.model.js'
import { mapAlert } from './alertmanager.js'
import { guessTool, isObject, type Receiver, wrongBody } from './receiver.js'

const MAX_ALERTS = 1000

/** Links Grafana adds to each alert: kept for people to click, never fetched here (SSRF). */
const URL_FIELDS = ['silenceURL', 'dashboardURL', 'panelURL', 'imageURL'] as const

/** The rule's expression values (refId → number), bounded. */
function valuesOf(v: unknown): Record<string, number> | null {
  if (!isObject(v)) return null
  const out: Record<string, number> = {}
  for (const [k, n] of Object.entries(v).slice(0, 50)) {
    if (typeof n === 'number' && Number.isFinite(n) && k.length <= 100 && k !== '__proto__') out[k] = n
  }
  return out
}

/**
 * Grafana unified alerting webhook (contact point type "webhook", payload version "1"). Its alerts keep
 * Alertmanager's fields, so each is mapped by `mapAlert`; the dedup key is the organisation plus Grafana's
 * fingerprint (opaque: Grafana computes it, we never recompute it when present).
 *
 * The contact point's "Test" button sends a synthetic alert named TestAlert. It must prove the path works
 * without paging anyone, so it is mapped as an `update` under a key that never fires: the engine stores
 * the event (visible in GET /events) and answers 202 `ignored`, and no incident is opened. Its labels carry
 * test=true.
 *
 * HMAC signatures (hmacConfig) are not checked: there is no per-source secret configuration yet; the
 * bearer token authenticates the sender.
 */
export const grafana: Receiver = {
  tool: 'grafana',
  title: 'Receive a Grafana unified alerting webhook (version 1) unchanged',
  map(body, source, defaultSeverity) {
    if (!isObject(body)) wrongBody('Grafana', [{ field: 'body', message: 'must be a JSON object' }])
    const errors: FieldError[] = []
    if (body.version !== '1') {
      errors.push({ field: 'version', message: `must be "1" (got ${JSON.stringify(body.version ?? null)})` })
    }
    const orgId =
      typeof body.orgId === 'number' && Number.isInteger(body.orgId)
        ? String(body.orgId)
        : typeof body.orgId === 'string' && /^\d{1,18}$/.test(body.orgId)
          ? body.orgId
          : undefined
    if (orgId === undefined) errors.push({ field: 'orgId', message: 'required: the Grafana organisation id' })
    if (!Array.isArray(body.alerts)) errors.push({ field: 'alerts', message: 'must be an array' })
    else if (body.alerts.length > MAX_ALERTS) errors.push({ field: 'alerts', message: `at most ${MAX_ALERTS}` })
    if (errors.length) wrongBody('Grafana', errors, guessTool(body))

    const str = (v: unknown, max: number) => (typeof v === 'string' ? clip(v, max) : null)
    const details = {
      orgId: Number(orgId),
      groupKey: str(body.groupKey, 2000),
      receiver: str(body.receiver, 200),
      externalURL: str(body.externalURL, 2000),
      title: str(body.title, 500),
      state: str(body.state, 50),
      truncatedAlerts: typeof body.truncatedAlerts === 'number' ? body.truncatedAlerts : 0
    }
    const out: Mapped = { events: [], rejected: [] }
    ;(body.alerts as unknown[]).forEach((alert, i) => {
      const before = out.events.length
      mapAlert(alert, i, { source, defaultSeverity, keyPrefix: `${orgId}:`, details }, out)
      const mapped = out.events.length > before ? out.events[out.events.length - 1]!.event : null
      if (!mapped || !isObject(alert)) return
      for (const f of URL_FIELDS) {
        if (typeof alert[f] === 'string' && alert[f]) mapped.details[f] = clip(alert[f] as string, 2000)
      }
      const values = valuesOf(alert.values)
      if (values) mapped.details.values = values
      if (typeof alert.valueString === 'string' && alert.valueString) {
        mapped.details.valueString = clip(alert.valueString, 2000)
      }
      if (mapped.labels.alertname === 'TestAlert') {
        mapped.status = 'update'
        mapped.severity = 'info'
        mapped.dedupKey = `${orgId}:test-notification`
        mapped.labels = { ...mapped.labels, test: 'true' }
        mapped.summary = clip(`Grafana test notification: ${mapped.summary}`, 1024)
        mapped.note = 'Grafana contact point test: no incident opened'
        mapped.startsAt = null
        mapped.endsAt = null
      }
    })
    return out
  }
}
