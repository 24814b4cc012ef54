import { Type } from 'typebox'

/**
 * Money is exact end to end: `numeric` in the database, decimal strings in the API (never JSON
 * numbers, never floats in between). Sums and conversions run in SQL on numeric.
 */
export const MONEY_PATTERN = '^-?(0|[1-9][0-9]{0,15})(\\.[0-9]{1,4})?$'

export const Money = Type.String({
  pattern: MONEY_PATTERN,
  description: 'An exact decimal string (up to 4 decimals), e.g. "1234.50"; never a JSON number'
})

export const NonNegativeMoney = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,4})?$',
  description: 'An exact non-negative decimal string (up to 4 decimals), e.g. "1234.50"; never a JSON number'
})

export const MoneyOut = Type.String({ description: 'An exact decimal string, at least 2 decimals, e.g. "1234.50"' })

export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' })

/** A numeric as PostgreSQL answers it ("1200.0000") in the API's spelling: trailing zeros trimmed to 2 decimals. */
export function money(value: string | null): string {
  if (value === null) return '0.00'
  const [whole = '0', frac = ''] = value.split('.')
  const trimmed = frac.replace(/0+$/, '').padEnd(2, '0')
  return `${whole === '-0' ? '0' : whole}.${trimmed}`
}

export const moneyOrNull = (value: string | null) => (value === null ? null : money(value))

/** Compares exact decimals without floats: a decimal string as an integer of ten-thousandths (signed). */
export function scaled(value: string): bigint {
  const negative = value.startsWith('-')
  const [whole = '0', frac = ''] = (negative ? value.slice(1) : value).split('.')
  const n = BigInt(whole) * 10_000n + BigInt(frac.padEnd(4, '0').slice(0, 4))
  return negative ? -n : n
}
