import type { ValidateFunction } from 'ajv'
import type { FieldError } from '../../../lib/errors.js'
import { depthOf } from '../../../lib/json-depth.js'
import { fieldOf, makeAjv } from '../../../lib/validate.js'
import { labelFingerprint, type Mapped, type NormalisedEvent, type Severity } from '../events.model.js'
import { GenericEvent, type GenericEventInput } from '../events.schemas.js'

let validate: ValidateFunction | null = null

/** How deep one event may nest (the item itself is level 1); a deeper item is rejected alone. */
export const MAX_EVENT_DEPTH = 32

/** The members of an event that nest deeper than MAX_EVENT_DEPTH, named under `prefix`. */
function tooDeep(value: unknown, prefix: string): FieldError[] {
  if (typeof value !== 'object' || value === null || depthOf(value, MAX_EVENT_DEPTH) <= MAX_EVENT_DEPTH) return []
  return Object.entries(value)
    .filter(([, v]) => depthOf(v, MAX_EVENT_DEPTH) >= MAX_EVENT_DEPTH)
    .map(([k]) => ({
      field: prefix ? `${prefix}.${k}` : k,
      message: `nests deeper than ${MAX_EVENT_DEPTH} levels`
    }))
}

/** Validates one item of the generic API against its schema: the errors name fields under `prefix`. */
function errorsOf(value: unknown, prefix: string): FieldError[] {
  validate ??= makeAjv(false).compile(GenericEvent)
  if (validate(value)) return []
  return (validate.errors ?? []).map(e => {
    const f = fieldOf(e)
    return { field: prefix ? (f.field === 'body' ? prefix : `${prefix}.${f.field}`) : f.field, message: f.message }
  })
}

/** One generic event, checked and normalised; `errors` names every field that is wrong. */
export function normaliseGeneric(
  value: unknown,
  prefix: string,
  idempotencyKey?: string
): { event?: NormalisedEvent; errors: FieldError[] } {
  const deep = tooDeep(value, prefix)
  if (deep.length) return { errors: deep }
  const errors = errorsOf(value, prefix)
  if (errors.length) return { errors }
  const input = value as GenericEventInput
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field)
  const labels = input.labels ?? {}
  let dedupKey = input.fingerprint
  if (!dedupKey && input.fingerprintFields) {
    const missing = input.fingerprintFields.filter(f => labels[f] === undefined)
    if (missing.length) {
      return {
        errors: missing.map(f => ({ field: at(`labels.${f}`), message: 'named in fingerprintFields but absent' }))
      }
    }
    dedupKey = labelFingerprint(Object.fromEntries(input.fingerprintFields.map(f => [f, labels[f]!])))
  }
  if (!dedupKey && Object.keys(labels).length) dedupKey = labelFingerprint(labels)
  if (!dedupKey) {
    return {
      errors: [{ field: at('fingerprint'), message: 'required (or labels, or fingerprintFields, to compute one)' }]
    }
  }
  if (input.ci && input.ciId && input.ci.id && input.ci.id !== input.ciId) {
    return { errors: [{ field: at('ciId'), message: 'names another CI than ci.id' }] }
  }
  const ci = input.ci || input.ciId ? { ...(input.ci ?? {}), ...(input.ciId ? { id: input.ciId } : {}) } : null
  const event: NormalisedEvent = {
    source: input.source,
    dedupKey,
    family: input.family ?? null,
    externalId: input.eventId ?? idempotencyKey ?? null,
    status: input.status ?? 'firing',
    severity: input.severity as Severity,
    summary: input.summary,
    details: input.details ?? {},
    labels,
    ci,
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : null,
    startsAt: input.startsAt ? new Date(input.startsAt) : null,
    endsAt: input.endsAt ? new Date(input.endsAt) : null,
    note: input.note ?? null
  }
  return { event, errors: [] }
}

/** A batch of generic events: each item is checked alone, so one bad item does not sink the rest. */
export function mapGenericBatch(items: unknown[]): Mapped {
  const out: Mapped = { events: [], rejected: [] }
  items.forEach((item, index) => {
    const { event, errors } = normaliseGeneric(item, `[${index}]`)
    if (event) out.events.push({ index, event })
    else out.rejected.push({ index, errors })
  })
  return out
}
