import type { Deps } from '../lib/context.js'
import type { Services } from '../services.js'

/** A scheduled job as data: what it is called, how often it runs, and what it does. */
export interface Job {
  name: string
  everyMs: number
  run(deps: Deps & { services: Services }): Promise<Record<string, unknown> | undefined>
}
