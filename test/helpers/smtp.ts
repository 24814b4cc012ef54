import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server'

/** One message as the sink received it: the envelope, the raw source, the parsed top-level headers. */
export interface Received {
  from: string
  to: string[]
  raw: string
  headers: Map<string, string[]>
  header(name: string): string | undefined
  body: string
}

/** What the sink answers a recipient: accept, or an SMTP error code with a text. */
export type Verdict = { code: number; message: string } | null

function parseHeaders(raw: string) {
  const end = raw.indexOf('\r\n\r\n')
  const head = end >= 0 ? raw.slice(0, end) : raw
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ')
  const headers = new Map<string, string[]>()
  for (const line of unfolded.split('\r\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i).trim().toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()])
  }
  return { headers, body: end >= 0 ? raw.slice(end + 4) : '' }
}

/**
 * A real SMTP server (the smtp-server package) on loopback that keeps what it receives. `verdict`
 * decides per recipient (421/451 for "not now", 550 for "never"); default: accept everything.
 */
export async function startSmtpSink(verdict: (rcpt: string, session: SMTPServerSession) => Verdict = () => null) {
  const received: Received[] = []
  const rcptAttempts = new Map<string, number>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address: SMTPServerAddress, session, cb) {
      const rcpt = address.address.toLowerCase()
      rcptAttempts.set(rcpt, (rcptAttempts.get(rcpt) ?? 0) + 1)
      const v = verdict(rcpt, session)
      if (!v) return cb()
      const err = Object.assign(new Error(v.message), { responseCode: v.code })
      return cb(err)
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const { headers, body } = parseHeaders(raw)
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map(r => r.address),
          raw,
          headers,
          header: name => headers.get(name.toLowerCase())?.[0],
          body
        })
        cb(null, `queued as q${received.length}`)
      })
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as AddressInfo).port
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** Messages whose envelope includes this recipient. */
    to: (address: string) => received.filter(m => m.to.map(a => a.toLowerCase()).includes(address.toLowerCase())),
    rcptAttempts: (address: string) => rcptAttempts.get(address.toLowerCase()) ?? 0,
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>
