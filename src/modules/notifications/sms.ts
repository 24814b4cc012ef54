import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js'
import type { Config } from '../../config.js'
import { type Mailer, PermanentFailure, type SendResult } from './mail.js'
import { oneLine } from './templates.js'

/** A phone number in E.164 (`+4930123456`), or null when it is not a valid number. */
export function toE164(raw: string | null | undefined, region: string): string | null {
  if (!raw || raw.length > 40) return null
  // Only a number as people write one: the parser would otherwise find a number inside any text
  if (!/^\+?[0-9 ()./-]+$/.test(raw.trim())) return null
  const parsed = parsePhoneNumberFromString(raw.trim(), region as CountryCode)
  return parsed?.isValid() ? parsed.number : null
}

export interface SmsMessage {
  /** E.164. */
  to: string
  /** The ticket number, put first. */
  ticketNumber: string
  text: string
  messageId: string
}

export interface SmsSender {
  send(msg: SmsMessage): Promise<SendResult>
}

/** The text as sent: ticket number first, one line, cut to the gateway's length. */
export function smsBody(ticketNumber: string, text: string, max: number): string {
  const body = oneLine(text.startsWith(ticketNumber) ? text : `${ticketNumber} ${text}`)
  return body.length <= max ? body : `${body.slice(0, max - 1)}…`
}

/**
 * The SMS drivers configured: the email-to-SMS gateway (a mail to SMS_GATEWAY_ADDRESS with `{number}`
 * the E.164 digits, subject SMS_GATEWAY_SUBJECT carrying the account or token), else an HTTP JSON
 * gateway (SMS_HTTP_URL with a bearer SMS_HTTP_TOKEN). Null when neither is.
 */
export function createSmsSender(config: Config, mailer: Mailer | null): SmsSender | null {
  const max = config.SMS_MAX_LENGTH
  if (config.SMS_GATEWAY_ADDRESS && mailer) {
    const pattern = config.SMS_GATEWAY_ADDRESS
    return {
      async send(msg) {
        const address = pattern.replace('{number}', msg.to.replace(/^\+/, ''))
        const subject = config.SMS_GATEWAY_SUBJECT.replace('{ticket}', msg.ticketNumber)
        return mailer.send({
          to: { name: '', address },
          subject,
          text: smsBody(msg.ticketNumber, msg.text, max),
          messageId: msg.messageId
        })
      }
    }
  }
  if (config.SMS_HTTP_URL) {
    const url = config.SMS_HTTP_URL
    const token = config.SMS_HTTP_TOKEN
    return {
      async send(msg) {
        const res = await fetch(url, {
          method: 'POST',
          redirect: 'error',
          signal: AbortSignal.timeout(10_000),
          headers: {
            'content-type': 'application/json',
            'idempotency-key': msg.messageId,
            ...(token ? { authorization: `Bearer ${token}` } : {})
          },
          body: JSON.stringify({ to: msg.to, text: smsBody(msg.ticketNumber, msg.text, max) })
        })
        const body = await res.text()
        // 4xx other than timeouts and throttling will not get better by trying again
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          throw new PermanentFailure(`gateway answered ${res.status}`)
        }
        if (!res.ok) throw new Error(`gateway answered ${res.status}`)
        let id: string | null = null
        try {
          const parsed = JSON.parse(body) as { id?: unknown; messageId?: unknown }
          const value = parsed.id ?? parsed.messageId
          id = typeof value === 'string' || typeof value === 'number' ? String(value) : null
        } catch {
          id = null
        }
        return { providerMessageId: id }
      }
    }
  }
  return null
}
