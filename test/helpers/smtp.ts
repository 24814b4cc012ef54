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
  /** The decoded text/plain and text/html parts. */
  text: string
  html: string | null
}

/** What the sink answers a recipient: accept, or an SMTP error code with a text. */
export type Verdict = { code: number; message: string } | null

/** RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=) back to text. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8')
      const bytes = text
        .replace(/_/g, ' ')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
      return Buffer.from(bytes, 'latin1').toString('utf8')
    })
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase()
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (enc !== 'quoted-printable') return body
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

/** The text and HTML parts of a message (one level of multipart is what we send). */
function partsOf(headers: Map<string, string[]>, body: string): { text: string; html: string | null } {
  const type = headers.get('content-type')?.[0] ?? 'text/plain'
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
  if (!boundary) return { text: decodeBody(body, headers.get('content-transfer-encoding')?.[0]), html: null }
  let text = ''
  let html: string | null = null
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break
    const part = parseHeaders(chunk.replace(/^\r\n/, ''))
    const ct = part.headers.get('content-type')?.[0] ?? ''
    const decoded = decodeBody(part.body.replace(/\r\n$/, ''), part.headers.get('content-transfer-encoding')?.[0])
    if (/^text\/html/i.test(ct)) html = decoded
    else if (/^text\/plain/i.test(ct)) text = decoded
  }
  return { text, html }
}

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
export async function startSmtpSink(
  verdict: (rcpt: string, session: SMTPServerSession) => Verdict = () => null,
  opts: { delayMs?: () => number } = {}
) {
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
      stream.on('end', async () => {
        const delay = opts.delayMs?.() ?? 0
        if (delay > 0) await new Promise(r => setTimeout(r, delay))
        const raw = Buffer.concat(chunks).toString('utf8')
        const { headers, body } = parseHeaders(raw)
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map(r => r.address),
          raw,
          headers,
          header: name => {
            const v = headers.get(name.toLowerCase())?.[0]
            return v === undefined ? undefined : decodeWords(v)
          },
          body,
          ...partsOf(headers, body)
        })
        cb(null, `queued as q${received.length}`)
      })
    }
  })
  // A client killed mid-session (SIGKILL tests) resets its connection: that is not the sink's failure
  server.on('error', () => {})
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

/** Dispatches the outbox until a pass claims nothing (at most 20 passes). */
export async function drainOutbox(t: {
  app: { services: { notifications: { dispatchOnce(): Promise<{ claimed: number }> } } }
}) {
  for (let i = 0; i < 20; i++) if ((await t.app.services.notifications.dispatchOnce()).claimed === 0) return
}
