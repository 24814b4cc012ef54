import { createHmac, randomBytes } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { PermanentFailure, type SendResult } from './mail.js'

/** A new signing secret in the Standard Webhooks form. */
export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the key being the secret's base64 part. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

const blocked = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const)
  blocked.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  // (IPv4-mapped ::ffff:0:0/96 is refused in publicAddress: as a BlockList rule it would match IPv4 too)
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8]
] as const)
  blocked.addSubnet(net, bits, 'ipv6')

const isLoopback = (address: string) => /^127\./.test(address) || address === '::1'

/**
 * Whether a server-side fetch may connect to this address: never loopback, link-local, private,
 * unique-local, IPv4-mapped, NAT64, documentation, multicast or unspecified addresses (loopback only
 * with the test-only setting).
 */
export function publicAddress(address: string, allowLoopback: boolean): boolean {
  const family = isIP(address)
  if (family === 0) return false
  if (allowLoopback && isLoopback(address)) return true
  // An IPv4 address in IPv6 clothing is judged as IPv4 and refused either way
  if (family === 6 && /^::ffff:/i.test(address)) return false
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** What a subscription URL may be: http(s), no credentials, a host that is not a refused literal. */
export function checkWebhookUrl(raw: string, allowLoopback: boolean): string | null {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'not a URL'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http or https'
  if (url.username || url.password) return 'must not carry credentials'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) && !publicAddress(host, allowLoopback)) return 'must not point at a private or local address'
  if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host) && !allowLoopback) {
    return 'must not point at a local host name'
  }
  return null
}

/** Resolves a name and refuses it when any of its addresses is not public (no DNS-rebinding gap). */
function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { all: true, family: typeof options.family === 'number' ? options.family : 0 }).then(
      addresses => {
        const refused = addresses.find(a => !publicAddress(a.address, allowLoopback))
        if (addresses.length === 0 || refused) {
          callback(new PermanentFailure(`${hostname} resolves to a refused address`), '', 4)
          return
        }
        if (options.all) callback(null, addresses)
        else callback(null, addresses[0]!.address, addresses[0]!.family)
      },
      err => callback(err as NodeJS.ErrnoException, '', 4)
    )
  }
}

export interface WebhookMessage {
  url: string
  secret: string
  /** The `webhook-id`: the same on every attempt, so receivers drop duplicates. */
  id: string
  body: string
}

/**
 * POSTs one signed delivery. Redirects are not followed (a 3xx fails the attempt), the address is
 * vetted after resolution and a literal address before it; 2xx is success, anything else is retried.
 */
export function sendWebhook(
  msg: WebhookMessage,
  opts: { allowLoopback: boolean; timeoutMs: number }
): Promise<SendResult> {
  const why = checkWebhookUrl(msg.url, opts.allowLoopback)
  if (why) return Promise.reject(new PermanentFailure(`url ${why}`))
  const url = new URL(msg.url)
  const timestamp = Math.floor(Date.now() / 1000)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(opts.allowLoopback),
        timeout: opts.timeoutMs,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'servicedesk-webhooks/1',
          'webhook-id': msg.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature(msg.secret, msg.id, timestamp, msg.body)
        }
      },
      res => {
        res.resume()
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) resolve({ providerMessageId: `HTTP ${status}` })
          else if (status >= 300 && status < 400) reject(new Error(`answered ${status}: redirects are not followed`))
          else reject(new Error(`answered ${status}`))
        })
      }
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(msg.body)
  })
}
