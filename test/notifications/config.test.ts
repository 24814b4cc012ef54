import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'

describe('notification settings are checked at start, naming the variable', () => {
  it('refuses incomplete or malformed mail and SMS settings', () => {
    expect(() => loadConfig({ SMTP_URL: 'smtp://mail.example.com:587' })).toThrow(
      'invalid configuration: MAIL_FROM is required with SMTP_URL'
    )
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.com', MAIL_FROM: 'a@b.test' })).toThrow(/SMTP_URL/)
    expect(() => loadConfig({ SMTP_URL: 'smtp://m.example.com', MAIL_FROM: 'a@b.test, c@d.test' })).toThrow(
      /MAIL_FROM must be one address/
    )
    expect(() =>
      loadConfig({ SMTP_URL: 'smtp://m.example.com', MAIL_FROM: 'a@b.test', SMTP_CA_FILE: '/nonexistent/ca.pem' })
    ).toThrow('invalid configuration: SMTP_CA_FILE names no readable file')
    expect(() => loadConfig({ SMS_GATEWAY_ADDRESS: 'sms.example.net' })).toThrow(/SMS_GATEWAY_ADDRESS/)
    expect(() => loadConfig({ SMS_GATEWAY_ADDRESS: '{number}@sms.example.net' })).toThrow(
      'invalid configuration: SMTP_URL is required with SMS_GATEWAY_ADDRESS'
    )
  })

  it('takes a complete set', () => {
    const c = loadConfig({
      SMTP_URL: 'smtps://desk:secret@mail.example.com:465',
      MAIL_FROM: 'Service Desk <desk@example.com>',
      SMS_GATEWAY_ADDRESS: '{number}@sms.example.net',
      SMS_GATEWAY_SUBJECT: '12345:token'
    })
    expect(c).toMatchObject({ SMS_MAX_LENGTH: 160, NOTIFY_MAX_ATTEMPTS: 8, WEBHOOK_ALLOW_LOOPBACK: false })
  })
})
