/** The row version inside an ETag (`"3-<digest>"` → 3); NaN when it is not one of ours. */
export function versionOfEtag(etag: unknown): number {
  const m = typeof etag === 'string' ? /^"(\d+)-[A-Za-z0-9_-]+"$/.exec(etag) : null
  return m ? Number(m[1]) : Number.NaN
}
