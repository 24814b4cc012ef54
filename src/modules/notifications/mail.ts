import { readFileSync } from 'node:fs'
import nodemailer from 'nodemailer'
import addressparser from 'nodemailer/lib/addressparser'
import type { Config } from '../../config.js'
import { oneLine } from './templates.js'

/** One message to exactly one recipient. */
export interface MailMessage {
  to: { name: string; address: string }
  subject: string
  text: string
  html?: string | null
  messageId: string
  /** The thread this message belongs to (the ticket's root id): In-Reply-To and References. */
  threadId?: string
}

export interface SendResult {
  providerMessageId: string | null
}

/** A send that must not be repeated for this recipient (SMTP 5xx: no such user, refused). */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure'
}

export interface Mailer {
  send(msg: MailMessage): Promise<SendResult>
  close(): void
  /** The domain of our Message-IDs (MAIL_FROM's). */
  domain: string
}

const SIMPLE_ADDRESS =
  /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/

/**
 * The one address a stored field holds, or null: a list, a comment, a quoted local part, a group or
 * anything a mail parser reads as more (or less) than one plain address is refused, so a message goes
 * to exactly the intended envelope recipient.
 */
export function singleAddress(raw: string | null | undefined): string | null {
  if (!raw || raw.length > 320) return null
  const value = raw.trim()
  if (!SIMPLE_ADDRESS.test(value)) return null
  const parsed = addressparser(value, { flatten: true })
  if (parsed.length !== 1 || parsed[0]!.address !== value) return null
  return value
}

/** MAIL_FROM as { name, address }. */
export function parseFrom(raw: string): { name: string; address: string } {
  const m = /^\s*(?:"?([^"<]*)"?\s*)?<([^<>]+)>\s*$/.exec(raw)
  return m ? { name: oneLine(m[1] ?? ''), address: m[2]!.trim() } : { name: '', address: raw.trim() }
}

/** Whether an SMTP answer means "never for this recipient" (5xx) rather than "not now" (4xx, no answer). */
export function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode
  return typeof code === 'number' && code >= 500 && code < 600
}

/** The pooled SMTP transport of SMTP_URL (smtp:// with optional STARTTLS, smtps://), or null when unset. */
export function createMailer(config: Config): Mailer | null {
  if (!config.SMTP_URL || !config.MAIL_FROM) return null
  const url = new URL(config.SMTP_URL)
  const from = parseFrom(config.MAIL_FROM)
  const domain = from.address.split('@')[1] ?? 'servicedesk.invalid'
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: config.SMTP_POOL_SIZE,
    maxMessages: Number.POSITIVE_INFINITY,
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 587),
    secure: url.protocol === 'smtps:',
    requireTLS: config.SMTP_STARTTLS,
    ignoreTLS: url.protocol === 'smtp:' && !config.SMTP_STARTTLS,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    ...(config.SMTP_CA_FILE ? { tls: { ca: readFileSync(config.SMTP_CA_FILE) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true
  })
  return {
    domain,
    async send(msg) {
      const to = singleAddress(msg.to.address)
      if (!to) throw new PermanentFailure('not exactly one valid address')
      try {
        const info = await transport.sendMail({
          from,
          to: { name: oneLine(msg.to.name), address: to },
          // Exactly this recipient, whatever the headers say
          envelope: { from: from.address, to: [to] },
          subject: oneLine(msg.subject),
          text: msg.text,
          ...(msg.html ? { html: msg.html } : {}),
          messageId: msg.messageId,
          ...(msg.threadId ? { inReplyTo: msg.threadId, references: [msg.threadId] } : {}),
          headers: { 'Auto-Submitted': 'auto-generated' },
          disableFileAccess: true,
          disableUrlAccess: true
        })
        return { providerMessageId: typeof info.response === 'string' ? info.response.slice(0, 300) : null }
      } catch (err) {
        if (isPermanent(err)) throw new PermanentFailure(String((err as Error).message).slice(0, 500))
        throw err
      }
    },
    close: () => transport.close()
  }
}
