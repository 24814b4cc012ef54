import { hostname } from 'node:os'
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { jobRuns } from '../db/schema/index.js'
import type { Deps } from '../lib/context.js'
import type { Services } from '../services.js'
import type { Job } from './job.js'

/**
 * Runs jobs on a poll. Any number of runners may share one database: a run is claimed with one
 * conditional UPDATE, so each period's run happens once, and a runner killed mid-run only delays the
 * next period. Polling is the source of truth; nothing is lost when a runner dies.
 */
export function createJobRunner(deps: Deps & { services: Services }, jobs: Job[], pollMs: number) {
  const me = `${hostname()}:${process.pid}`
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = false

  async function claim(job: Job): Promise<boolean> {
    await deps.db.insert(jobRuns).values({ name: job.name }).onConflictDoNothing()
    const claimed = await deps.db
      .update(jobRuns)
      .set({ lastStartedAt: sql`now()`, claimedBy: me })
      .where(
        and(
          eq(jobRuns.name, job.name),
          or(
            isNull(jobRuns.lastStartedAt),
            lt(jobRuns.lastStartedAt, sql`now() - make_interval(secs => ${job.everyMs / 1000})`)
          )
        )
      )
      .returning({ name: jobRuns.name })
    return claimed.length > 0
  }

  async function tick() {
    for (const job of jobs) {
      if (stopped) return
      try {
        if (!(await claim(job))) continue
        const result = await job.run(deps)
        await deps.db
          .update(jobRuns)
          .set({ lastFinishedAt: sql`now()`, lastError: null })
          .where(eq(jobRuns.name, job.name))
        deps.log.info({ job: job.name, ...result }, 'job finished')
      } catch (err) {
        deps.log.error({ err, job: job.name }, 'job failed')
        await deps.db
          .update(jobRuns)
          .set({ lastError: String(err instanceof Error ? err.message : err).slice(0, 2000) })
          .where(eq(jobRuns.name, job.name))
          .catch(() => {})
      }
    }
  }

  const loop = () => {
    if (stopped) return
    running = tick().finally(() => {
      running = null
      if (!stopped) timer = setTimeout(loop, pollMs)
    })
  }

  return {
    start() {
      stopped = false
      loop()
    },
    /** Stop claiming; wait for the job in hand to finish. */
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
    tick
  }
}
