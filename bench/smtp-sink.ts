/**
 * A local SMTP sink for the dispatch bench (its own process, pinned beside the servers): accepts every
 * message and drops it, counting. Prints `listening <port>` once ready.
 */
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

let received = 0
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, cb) {
    stream.on('data', () => {})
    stream.on('end', () => {
      received++
      cb(null, `queued as ${received}`)
    })
  }
})
server.on('error', () => {})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.server.address() as AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
