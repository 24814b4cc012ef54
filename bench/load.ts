import autocannon from 'autocannon'
import { settings } from './settings.js'

export interface Measured {
  /** 2xx responses per second: failures are not counted as throughput. */
  rps: number
  p50: number
  p99: number
  /** Non-2xx answers, connection errors and timeouts, plus 2xx answers the scenario's check rejected. */
  failures: number
  detail: string
  /** The server's CPU over the measured run: share of one core, and CPU time per answered request. */
  cpu: { share: number; perRequestUs: number } | null
}

export interface Load {
  url: string
  requests: autocannon.Request[]
  /** Whether a 2xx body is really a success (GraphQL answers 200 with `errors`). */
  accept?: (body: string) => boolean
  /** Clients at once, when not settings.connections. */
  connections?: number
}

async function fire(load: Load, seconds: number): Promise<{ result: autocannon.Result; rejected: number }> {
  let rejected = 0
  const accept = load.accept
  const requests = accept
    ? load.requests.map(r => ({
        ...r,
        onResponse: (status: number, body: string) => {
          if (status >= 200 && status < 300 && !accept(body)) rejected++
        }
      }))
    : load.requests
  const result = await autocannon({
    url: load.url,
    connections: load.connections ?? settings.connections,
    duration: seconds,
    timeout: 10,
    requests
  })
  return { result, rejected }
}

/** A warm-up of settings.warmup seconds, then the measured run of settings.duration seconds. */
export async function measure(load: Load, cpuSeconds: () => number | null): Promise<Measured> {
  await fire(load, settings.warmup)
  const cpuBefore = cpuSeconds()
  const { result: r, rejected } = await fire(load, settings.duration)
  const cpuAfter = cpuSeconds()
  const answered = r['2xx'] + r.non2xx
  // autocannon's `errors` already counts the timeouts
  const failures = r.non2xx + r.errors + rejected
  const parts = [
    r.non2xx ? `${r.non2xx} non-2xx (4xx ${r['4xx']}, 5xx ${r['5xx']})` : '',
    r.errors ? `${r.errors} connection errors (${r.timeouts} timeouts)` : '',
    rejected ? `${rejected} 2xx with errors in the body` : ''
  ]
  return {
    rps: (r['2xx'] - rejected) / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failures,
    detail: parts.filter(Boolean).join(', '),
    cpu:
      cpuBefore === null || cpuAfter === null || answered === 0
        ? null
        : { share: (cpuAfter - cpuBefore) / r.duration, perRequestUs: ((cpuAfter - cpuBefore) * 1e6) / answered }
  }
}
