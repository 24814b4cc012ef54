const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

/**
 * The same JSON value with object keys sorted at every level. jsonb hands keys back in its own order,
 * so values read from the database and values from a request compare equal only once both are canonical.
 */
export function canonical<T>(v: T): T {
  if (Array.isArray(v)) return v.map(canonical) as T
  if (!isPlainObject(v)) return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map(k => [k, canonical(v[k])])
  ) as T
}
