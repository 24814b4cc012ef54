import type { CustomFieldSpec, CustomFieldType } from './custom-fields.types.js'

/** Longest text value a field holds; longer belongs in a note or an attachment. */
export const MAX_TEXT = 10_000

/** Types whose values are references checked against the database, and which therefore take no default. */
export const REFERENCE_TYPES: readonly CustomFieldType[] = ['user', 'ci']
export const CHOICE_TYPES: readonly CustomFieldType[] = ['choice', 'multichoice']

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** The outcome of checking one value: the value to store, or why it is refused. */
export type Checked = { ok: true; value: unknown } | { ok: false; message: string }

const ok = (value: unknown): Checked => ({ ok: true, value })
const bad = (message: string): Checked => ({ ok: false, message })

/** "Leeds, York": long option lists are cut short so an error stays readable. */
export function listOptions(options: readonly string[]): string {
  const shown = options.slice(0, 20).join(', ')
  return options.length > 20 ? `${shown}, … (${options.length} options)` : shown
}

export function isCalendarDate(v: string): boolean {
  const m = DATE.exec(v)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(y, mo - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

/**
 * Checks a non-null value against a field's type without touching the database: user and ci values
 * only get their id shape checked here, their existence is the caller's (one query for all of them).
 * `required` refuses values that say nothing: a blank text, an empty multichoice.
 */
export function checkValue(spec: CustomFieldSpec, value: unknown, required = false): Checked {
  switch (spec.type) {
    case 'text':
      if (typeof value !== 'string') return bad('must be a string')
      if (value.length > MAX_TEXT) return bad(`must be at most ${MAX_TEXT} characters`)
      if (required && value.trim() === '') return bad('required: must not be blank')
      return ok(value)
    case 'number':
      if (typeof value !== 'number') return bad('must be a number')
      if (!Number.isFinite(value)) return bad('must be a finite number')
      return ok(value)
    case 'date':
      if (typeof value !== 'string' || !isCalendarDate(value)) return bad('must be a date as YYYY-MM-DD')
      return ok(value)
    case 'boolean':
      return typeof value === 'boolean' ? ok(value) : bad('must be true or false')
    case 'choice': {
      const options = spec.options ?? []
      return typeof value === 'string' && options.includes(value)
        ? ok(value)
        : bad(`must be one of: ${listOptions(options)}`)
    }
    case 'multichoice': {
      const options = spec.options ?? []
      const message = `must be a list of distinct options from: ${listOptions(options)}`
      if (!Array.isArray(value)) return bad(message)
      if (value.some(v => typeof v !== 'string' || !options.includes(v))) return bad(message)
      if (new Set(value).size !== value.length) return bad(message)
      if (required && value.length === 0) return bad('required: choose at least one option')
      return ok([...value])
    }
    case 'user':
      return typeof value === 'string' && UUID.test(value) ? ok(value.toLowerCase()) : bad('must be a user id')
    case 'ci':
      return typeof value === 'string' && UUID.test(value)
        ? ok(value.toLowerCase())
        : bad('must be a configuration item id')
  }
}

/** Values are JSON primitives or lists of strings: their JSON text compares them. */
export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
