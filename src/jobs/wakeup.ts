import pg from 'pg'

/** The channel the work_items trigger notifies when rows become due soon (migration, hand-written part). */
export const WORK_CHANNEL = 'work_items'

interface WakeLog {
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

/**
 * LISTEN for work falling due (PostgreSQL only): the trigger on `work_items` notifies, on commit, the
 * earliest due time (ms since the epoch) of claimable rows a statement wrote when it is within a minute,
 * and `onDue` hears it. A dedicated connection, outside the pool (a pooled one would be handed back);
 * reconnects after a second when it drops. Polling stays the source of truth: a missed notification
 * only means the work waits for the next poll.
 */
export function listenForWork(url: string, onDue: (dueAtMs: number) => void, log: WakeLog) {
  let client: pg.Client | null = null
  let closed = false
  let retry: NodeJS.Timeout | null = null

  async function connect() {
    if (closed) return
    const c = new pg.Client({ connectionString: url })
    client = c
    c.on('notification', msg => {
      const at = Number(msg.payload)
      onDue(Number.isFinite(at) ? at : Date.now())
    })
    c.on('error', err => {
      log.warn({ err }, 'work wake-up connection lost; reconnecting')
      again(c)
    })
    try {
      await c.connect()
      await c.query(`LISTEN ${WORK_CHANNEL}`)
      // Anything that fell due while we were not listening
      onDue(Date.now())
    } catch (err) {
      log.debug({ err }, 'work wake-up connection failed; retrying')
      again(c)
    }
  }

  function again(c: pg.Client) {
    if (client !== c) return
    client = null
    c.end().catch(() => {})
    if (!closed) retry = setTimeout(() => void connect(), 1000)
  }

  void connect()
  return {
    async close() {
      closed = true
      if (retry) clearTimeout(retry)
      const c = client
      client = null
      await c?.end().catch(() => {})
    }
  }
}
