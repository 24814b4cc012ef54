import type { TestApp } from '../helpers/app.js'
import { makeApiToken, makeUser } from '../helpers/factories.js'

/** A monitoring integration as admins set one up: a technician account and an events:write token. */
export async function makeIntegration(t: TestApp, name = 'monitoring') {
  const user = await makeUser(t, ['technician'], { username: `${name}-${Math.random().toString(36).slice(2, 8)}` })
  const token = await makeApiToken(t, { scopes: ['events:write'], userId: user.id, name: `${name} ingest` })
  return { user, token: token.token }
}

/** Posts JSON as a monitoring tool would, with the integration's token. */
export function post(t: TestApp, token: string, url: string, body: unknown, headers: Record<string, string> = {}) {
  return t.api('POST', url, { token, body, headers })
}

export const event = (over: Record<string, unknown> = {}) => ({
  source: 'test-monitor',
  fingerprint: `fp-${Math.random().toString(36).slice(2, 10)}`,
  severity: 'critical',
  summary: 'Disk / on srv-app01 is 96% full',
  ...over
})
