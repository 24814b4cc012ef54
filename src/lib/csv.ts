import type { FastifyReply, FastifyRequest } from 'fastify'
import type { TSchema } from 'typebox'

/** A report column: the header written and how a row gives its cell. */
export interface CsvColumn<Row> {
  header: string
  value: (row: Row) => string | number | boolean | null | undefined | Date
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/
/** A cell that a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection). */
const FORMULA = /^[=+\-@\t\r]/

function cell(value: string | number | boolean | null | undefined | Date): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  if (typeof value !== 'string') return String(value)
  const text = FORMULA.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 text: a header line, then one CRLF-ended line a row. */
export function toCsv<Row>(columns: readonly CsvColumn<Row>[], rows: Iterable<Row>): string {
  const lines = [columns.map(c => cell(c.header)).join(',')]
  for (const row of rows) lines.push(columns.map(c => cell(c.value(row))).join(','))
  return `${lines.join('\r\n')}\r\n`
}

/** True when the client asked for CSV (`Accept: text/csv`, or `?format=csv` for a browser link). */
export function wantsCsv(request: FastifyRequest): boolean {
  const format = (request.query as { format?: unknown } | undefined)?.format
  if (format === 'csv') return true
  const accept = request.headers.accept ?? ''
  if (!accept.includes('text/csv')) return false
  // text/csv must be preferred over JSON when both are listed
  const q = (type: string) => {
    const part = accept.split(',').find(p => p.trim().startsWith(type))
    if (!part) return -1
    const m = /;\s*q=([0-9.]+)/.exec(part)
    return m ? Number(m[1]) : 1
  }
  return q('text/csv') >= q('application/json')
}

/** The response headers saying how fresh a report is, in JSON and CSV alike. */
export const AS_OF_HEADER = 'x-report-as-of'
export const LAG_HEADER = 'x-replica-lag-seconds'

/**
 * Every report's second format: when the client wants CSV, sends the rows as text/csv (with a download
 * name) and returns the text; otherwise returns the JSON body untouched. A report that says how fresh
 * it is (`asOf`, `replicaLagSeconds`: lib/freshness.ts) says it in headers too, which CSV has no room for.
 */
export function replyTable<Row, Json>(
  request: FastifyRequest,
  reply: FastifyReply,
  table: { columns: readonly CsvColumn<Row>[]; rows: Iterable<Row>; filename: string },
  json: Json
): Json | string {
  const fresh = json as { asOf?: unknown; replicaLagSeconds?: unknown }
  if (fresh.asOf instanceof Date) reply.header(AS_OF_HEADER, fresh.asOf.toISOString())
  if (typeof fresh.replicaLagSeconds === 'number') reply.header(LAG_HEADER, String(fresh.replicaLagSeconds))
  if (!wantsCsv(request)) return json
  reply.header('content-type', 'text/csv; charset=utf-8')
  reply.header('content-disposition', `attachment; filename="${table.filename.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`)
  return toCsv(table.columns, table.rows)
}

/** The 200 response of a report route: the report as JSON, or its rows as CSV (`Accept: text/csv`). */
export const reportResponse = (schema: TSchema) => ({
  200: {
    description: 'The report (JSON), or its rows as CSV',
    content: {
      'application/json': { schema },
      'text/csv': { schema: { type: 'string', description: 'RFC 4180, a header line then one line a row' } }
    }
  }
})
