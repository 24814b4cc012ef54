import { createRequire } from 'node:module'
import pg from 'pg'

/**
 * A node-postgres query (a "submittable", as pg-cursor is) for the hottest reads: rows in array mode,
 * text format. pg's own Query copies its config with property descriptors, builds a result object with
 * a parser per field from every RowDescription, and asks for that description on every run. Here a
 * named statement's parsers are worked out from its first description and kept (the same text always
 * answers the same columns), so later runs send Bind/Execute/Sync only, and rows are one loop.
 * The protocol steps are those of pg's Query (lib/query.js) for a statement without a row limit.
 */

type Parse = (value: string) => unknown

/** What pg's Connection offers a submittable (pg/lib/connection.js). */
interface Connection {
  stream: { cork?: () => void; uncork?: () => void }
  parsedStatements: Record<string, string>
  submittedNamedStatements: Record<string, string>
  parse(msg: { text: string; name: string; types: undefined }): void
  bind(msg: {
    portal: string
    statement: string
    values: unknown[]
    binary: boolean
    valueMapper: (value: unknown) => unknown
  }): void
  describe(msg: { type: 'P'; name: string }): void
  execute(msg: { portal: string; rows: undefined }): void
  sync(): void
  sendCopyFail(message: string): void
}

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (value: unknown) => unknown
}

/** Parsers of each named statement's columns, from its first RowDescription. */
const parsersByName = new Map<string, readonly Parse[]>()

export class ArrayRowsQuery {
  callback: ((err: Error | null, rows?: unknown[][]) => void) | undefined
  private readonly rows: unknown[][] = []
  private parsers: readonly Parse[] | undefined
  private failed: Error | null = null

  constructor(
    readonly text: string,
    readonly values: unknown[],
    readonly name: string | undefined,
    private readonly types: { getTypeParser(id: number, format: 'text'): Parse }
  ) {
    this.parsers = name ? parsersByName.get(name) : undefined
  }

  submit(connection: Connection): Error | null {
    const { name, text } = this
    const previous = name ? (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]) : undefined
    if (previous !== undefined && previous !== text) {
      return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`)
    }
    connection.stream.cork?.()
    try {
      if (previous === undefined) {
        connection.parse({ text, name: name ?? '', types: undefined })
        if (name) connection.submittedNamedStatements[name] = text
      }
      connection.bind({
        portal: '',
        statement: name ?? '',
        values: this.values,
        binary: false,
        valueMapper: prepareValue
      })
      // Without a description the server sends the rows only: the parsers are known already
      if (!this.parsers) connection.describe({ type: 'P', name: '' })
      connection.execute({ portal: '', rows: undefined })
      connection.sync()
    } finally {
      connection.stream.uncork?.()
    }
    return null
  }

  handleRowDescription(msg: { fields: { dataTypeID: number }[] }): void {
    const parsers = msg.fields.map(f => this.types.getTypeParser(f.dataTypeID, 'text'))
    this.parsers = parsers
    if (this.name) parsersByName.set(this.name, parsers)
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.failed) return
    const fields = msg.fields
    const parsers = this.parsers!
    const row = new Array<unknown>(fields.length)
    try {
      for (let i = 0; i < fields.length; i++) {
        const value = fields[i]
        row[i] = value === null || value === undefined ? null : parsers[i]!(value)
      }
    } catch (err) {
      this.failed = err as Error
      return
    }
    this.rows.push(row)
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('No source stream defined')
  }

  handleError(err: Error): void {
    const failed = this.failed
    this.failed = null
    this.callback?.(failed ?? err)
  }

  handleReadyForQuery(): void {
    if (this.failed) this.handleError(this.failed)
    else this.callback?.(null, this.rows)
  }
}

/** Runs it on a pool (which checks a client out and back in) or on a checked-out client. */
export function queryArrayRows(client: pg.Pool | pg.ClientBase, query: ArrayRowsQuery): Promise<unknown[][]> {
  if (client instanceof pg.Pool) {
    // The pool sets the callback (releasing its client) and answers what the query hands it
    return client.query(query as never) as unknown as Promise<unknown[][]>
  }
  return new Promise((resolve, reject) => {
    query.callback = (err, rows) => (err ? reject(err) : resolve(rows!))
    client.query(query as never)
  })
}
