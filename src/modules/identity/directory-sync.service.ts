import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Authenticator } from '../../auth/authenticate.js'
import type { LdapDirectory } from '../../auth/ldap.js'
import { authorize } from '../../auth/policy.js'
import { apiTokens, sessions, users } from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { AppError, conflict } from '../../lib/errors.js'
import { uuidv7 } from '../../lib/ids.js'
import { recordAudit } from '../audit/audit.service.js'
import { directoryMapping, provisionFromDirectory } from './directory.js'

export interface DirectorySyncReport {
  created: number
  updated: number
  unchanged: number
  disabled: number
  errors: { username: string; message: string }[]
}

/**
 * Directory sync: every user the directory lists is created or brought up to date (one transaction
 * each, so one bad entry spoils nothing else), and directory users it no longer lists, or marks
 * disabled, are disabled here with their sessions and tokens revoked. Running it twice changes nothing
 * the second time.
 */
export function createDirectorySyncService(
  deps: Deps & { authenticator: Authenticator; directory: LdapDirectory | null }
) {
  const { db, config } = deps
  const mapping = directoryMapping(config)
  let running = false

  async function disable(ctx: Ctx, user: { id: string; username: string }, reason: string): Promise<void> {
    await db.transaction(async tx => {
      const now = new Date()
      await tx
        .update(users)
        .set({ active: false, version: sql`${users.version} + 1`, updatedAt: now })
        .where(eq(users.id, user.id))
      // Revoked rather than merely blocked, so enabling the account again does not revive them
      await tx
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)))
      await tx
        .update(apiTokens)
        .set({ revokedAt: now })
        .where(and(eq(apiTokens.userId, user.id), isNull(apiTokens.revokedAt)))
      await recordAudit(tx, ctx, {
        entityType: 'user',
        entityId: user.id,
        action: 'directory.disabled',
        changes: [
          { field: 'active', old: true, new: false },
          { field: 'reason', old: null, new: reason }
        ]
      })
    })
    deps.authenticator.forgetUser(user.id)
  }

  async function sync(ctx: Ctx): Promise<DirectorySyncReport> {
    authorize(ctx.actor, 'user.manage')
    const directory = deps.directory
    if (!directory) {
      // Not configured is the caller's situation to fix, not a dependency that is down: a 4xx, not a 503
      throw new AppError(
        'FEATURE_NOT_CONFIGURED',
        409,
        'Conflict',
        'directory sync needs a directory: set LDAP_URL (and LDAP_BASE_DN)'
      )
    }
    // One run at a time per process; a second run alongside would only repeat the same work
    if (running) throw conflict('a directory sync is already running')
    running = true
    try {
      return await run(ctx, directory)
    } finally {
      running = false
    }
  }

  async function run(ctx: Ctx, directory: LdapDirectory): Promise<DirectorySyncReport> {
    const report: DirectorySyncReport = { created: 0, updated: 0, unchanged: 0, disabled: 0, errors: [] }
    const listed = new Set<string>()
    const offInDirectory = new Set<string>()

    // A directory that fails part-way throws here, before anyone is disabled on a partial list
    for await (const page of directory.pageUsers()) {
      for (const { identity, disabled } of page) {
        const key = identity.username.toLowerCase()
        if (disabled) {
          offInDirectory.add(key)
          continue
        }
        listed.add(key)
        try {
          const outcome = await db.transaction(async tx => {
            const [local] = await tx
              .select({ authSource: users.authSource })
              .from(users)
              .where(sql`lower(${users.username}) = ${key}`)
            // A local account of the same name is never taken over by the directory
            if (local && local.authSource !== 'ldap') return null
            return provisionFromDirectory(tx, identity, mapping, config, ctx)
          })
          if (!outcome) {
            report.errors.push({
              username: identity.username,
              message: 'a local account has this username; left alone'
            })
            continue
          }
          report[outcome.action]++
          if (outcome.action !== 'unchanged') deps.authenticator.forgetUser(outcome.user.id)
        } catch (err) {
          ctx.log.warn({ err, username: identity.username }, 'directory sync: entry failed')
          report.errors.push({ username: identity.username, message: messageOf(err) })
        }
      }
    }

    const active = await db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(and(eq(users.authSource, 'ldap'), eq(users.active, true)))
    const gone = active.filter(u => !listed.has(u.username.toLowerCase()))
    if (listed.size === 0 && offInDirectory.size === 0 && gone.length > 0) {
      // An empty answer is far likelier a wrong filter or base than everyone leaving at once
      report.errors.push({ username: '*', message: 'the directory listed no users; nobody was disabled' })
    } else {
      for (const user of gone) {
        const reason = offInDirectory.has(user.username.toLowerCase())
          ? 'disabled in the directory'
          : 'not in the directory'
        try {
          await disable(ctx, user, reason)
          report.disabled++
        } catch (err) {
          ctx.log.warn({ err, username: user.username }, 'directory sync: disabling failed')
          report.errors.push({ username: user.username, message: messageOf(err) })
        }
      }
    }

    await recordAudit(db, ctx, {
      entityType: 'directory',
      entityId: uuidv7(),
      action: 'directory.synced',
      changes: [
        ...(['created', 'updated', 'unchanged', 'disabled'] as const).map(f => ({
          field: f,
          old: null,
          new: report[f]
        })),
        { field: 'errors', old: null, new: report.errors.length }
      ]
    })
    ctx.log.info({ ...report, errors: report.errors.length }, 'directory sync finished')
    return report
  }

  return { sync }
}

/** What an entry's failure says in the report: our own errors' text, never a driver's internals. */
function messageOf(err: unknown): string {
  if (err instanceof AppError) return err.message
  return 'could not be stored (see the server log)'
}

export type DirectorySyncService = ReturnType<typeof createDirectorySyncService>
