import { and, eq, inArray, sql } from 'drizzle-orm'
import { ROLES, type Role, systemActor } from '../../auth/actor.js'
import type { DirectoryIdentity } from '../../auth/directory.js'
import type { Config } from '../../config.js'
import { organisations, teamLayers, teamMembers, teams, users } from '../../db/schema/index.js'
import type { Ctx, Queryable } from '../../lib/context.js'
import { uuidv7 } from '../../lib/ids.js'
import { type Change, diff, recordAudit } from '../audit/audit.service.js'

// What a directory answers is declared beside the LDAP client (src/auth), which the core may import
export type { DirectoryIdentity, PasswordDirectory } from '../../auth/directory.js'

/**
 * Group keys compare case-insensitively with DN spacing and escapes normalised, so
 * `CN=ITSM Agents, OU=Groups` and `cn=itsm agents,ou=groups` are one group, and `\,` equals `\2C`.
 */
export function groupKey(group: string): string {
  return group
    .trim()
    .replace(/\\2c/gi, '\\,')
    .replace(/\s*([,=+])\s*/g, '$1')
    .toLowerCase()
}

export interface DirectoryMapping {
  roles: Map<string, Role[]>
  teams: Map<string, { team: string; level: number }[]>
  defaultRoles: Role[]
}

export function directoryMapping(config: Config): DirectoryMapping {
  const roles = new Map<string, Role[]>()
  const teamsMap = new Map<string, { team: string; level: number }[]>()
  const roleJson = JSON.parse(config.DIRECTORY_ROLE_MAP ?? '{}') as Record<string, unknown>
  for (const [group, value] of Object.entries(roleJson)) {
    const list = (Array.isArray(value) ? value : [value]).filter((r): r is Role => ROLES.includes(r as Role))
    roles.set(groupKey(group), list)
  }
  const teamJson = JSON.parse(config.DIRECTORY_TEAM_MAP ?? '{}') as Record<string, unknown>
  for (const [group, value] of Object.entries(teamJson)) {
    const list = (Array.isArray(value) ? value : [value]) as { team?: unknown; level?: unknown }[]
    teamsMap.set(
      groupKey(group),
      list
        .filter(v => typeof v?.team === 'string')
        .map(v => ({ team: String(v.team), level: Number.isInteger(v.level) ? Number(v.level) : 1 }))
    )
  }
  const defaultRoles = config.DIRECTORY_DEFAULT_ROLES.split(',')
    .map(r => r.trim())
    .filter((r): r is Role => ROLES.includes(r as Role))
  return { roles, teams: teamsMap, defaultRoles }
}

/** Roles from groups; never admin from nothing: with no mapped group, the default roles. */
export function rolesFor(groups: string[], mapping: DirectoryMapping): Role[] {
  const out = new Set<Role>()
  for (const g of groups) for (const r of mapping.roles.get(groupKey(g)) ?? []) out.add(r)
  return out.size > 0 ? [...out].sort() : [...mapping.defaultRoles]
}

export interface ProvisionResult {
  user: typeof users.$inferSelect
  action: 'created' | 'updated' | 'unchanged'
}

/**
 * Creates or updates the local user a directory describes (just-in-time at login, and in sync):
 * name, contact, department, roles and team places follow the directory's groups every time, so a
 * mapping change takes effect on the next login. A locally disabled user stays disabled.
 */
export async function provisionFromDirectory(
  q: Queryable,
  identity: DirectoryIdentity,
  mapping: DirectoryMapping,
  config: Config,
  ctx?: Ctx,
  opts: { neverAdmin?: boolean } = {}
): Promise<ProvisionResult> {
  const auditCtx: Ctx = ctx ?? { actor: systemActor(`directory:${identity.source}`), log: undefined as never, db: q }
  // Headers never make an admin: with neverAdmin, an admin group maps to nothing
  const mapped = rolesFor(identity.groups, mapping).filter(r => !(opts.neverAdmin && r === 'admin'))
  const roles = mapped.length > 0 ? mapped : [...mapping.defaultRoles].filter(r => r !== 'admin')
  const organisationId =
    config.DIRECTORY_ORGANISATION_FROM_DEPARTMENT && identity.department
      ? await organisationFor(q, identity.department, auditCtx)
      : undefined

  const [existing] = await q
    .select()
    .from(users)
    .where(sql`lower(${users.username}) = lower(${identity.username})`)
    .for('update')
  const fields = {
    displayName: identity.displayName || identity.username,
    email: identity.email,
    phone: identity.phone,
    department: identity.department,
    roles,
    externalId: identity.externalId,
    ...(organisationId !== undefined ? { organisationId } : {})
  }
  let user: typeof users.$inferSelect
  let action: ProvisionResult['action']
  if (!existing) {
    const [row] = await q
      .insert(users)
      .values({ id: uuidv7(), username: identity.username, authSource: identity.source, ...fields })
      .returning()
    user = row!
    action = 'created'
    await recordAudit(q, auditCtx, {
      entityType: 'user',
      entityId: user.id,
      action: 'created',
      changes: (['displayName', 'email', 'roles', 'organisationId'] as const).map(f => ({
        field: f,
        old: null,
        new: user[f]
      }))
    })
  } else {
    const changes: Change[] = diff(existing, fields, [
      'displayName',
      'email',
      'phone',
      'department',
      'roles',
      'externalId',
      'organisationId'
    ])
    if (existing.authSource !== identity.source) {
      changes.push({ field: 'authSource', old: existing.authSource, new: identity.source })
    }
    if (changes.length === 0) {
      user = existing
      action = 'unchanged'
    } else {
      const [row] = await q
        .update(users)
        .set({ ...fields, authSource: identity.source, version: sql`${users.version} + 1`, updatedAt: new Date() })
        .where(eq(users.id, existing.id))
        .returning()
      user = row!
      action = 'updated'
      await recordAudit(q, auditCtx, { entityType: 'user', entityId: user.id, action: 'directory.updated', changes })
    }
  }
  const teamChanged = await syncTeamPlaces(q, user.id, identity.groups, mapping, auditCtx)
  if (teamChanged && action === 'unchanged') action = 'updated'
  return { user, action }
}

async function organisationFor(q: Queryable, name: string, ctx: Ctx): Promise<string> {
  const [found] = await q
    .select({ id: organisations.id })
    .from(organisations)
    .where(sql`lower(${organisations.name}) = lower(${name})`)
  if (found) return found.id
  const id = uuidv7()
  await q.insert(organisations).values({ id, name }).onConflictDoNothing()
  const [row] = await q
    .select({ id: organisations.id })
    .from(organisations)
    .where(sql`lower(${organisations.name}) = lower(${name})`)
  if (row?.id === id) {
    await recordAudit(q, ctx, {
      entityType: 'organisation',
      entityId: id,
      action: 'created',
      changes: [{ field: 'name', old: null, new: name }]
    })
  }
  return row!.id
}

/** In teams the mapping names, places follow the directory's groups; other teams are left alone. */
async function syncTeamPlaces(
  q: Queryable,
  userId: string,
  groups: string[],
  mapping: DirectoryMapping,
  ctx: Ctx
): Promise<boolean> {
  if (mapping.teams.size === 0) return false
  const wanted = groups.flatMap(g => mapping.teams.get(groupKey(g)) ?? [])
  const mappedTeams = [...new Set([...mapping.teams.values()].flat().map(p => p.team.toLowerCase()))]
  const teamRows = mappedTeams.length
    ? await q
        .select({ id: teams.id, name: teams.name })
        .from(teams)
        .where(inArray(sql`lower(${teams.name})`, mappedTeams))
    : []
  const byName = new Map(teamRows.map(t => [t.name.toLowerCase(), t.id]))
  const current = teamRows.length
    ? await q
        .select()
        .from(teamMembers)
        .where(
          and(
            eq(teamMembers.userId, userId),
            inArray(
              teamMembers.teamId,
              teamRows.map(t => t.id)
            )
          )
        )
    : []
  const want = new Set(
    wanted.filter(w => byName.has(w.team.toLowerCase())).map(w => `${byName.get(w.team.toLowerCase())}:${w.level}`)
  )
  const have = new Set(current.map(m => `${m.teamId}:${m.level}`))
  let changed = false
  for (const key of want) {
    if (have.has(key)) continue
    const [teamId, level] = key.split(':') as [string, string]
    const [layer] = await q
      .select()
      .from(teamLayers)
      .where(and(eq(teamLayers.teamId, teamId), eq(teamLayers.level, Number(level))))
    if (!layer) continue
    await q
      .insert(teamMembers)
      .values({ teamId, level: Number(level), userId })
      .onConflictDoNothing()
    await recordAudit(q, ctx, {
      entityType: 'team',
      entityId: teamId,
      action: 'member.added',
      changes: [{ field: `layers.${level}.members`, old: null, new: userId }]
    })
    changed = true
  }
  for (const m of current) {
    if (want.has(`${m.teamId}:${m.level}`)) continue
    await q
      .delete(teamMembers)
      .where(and(eq(teamMembers.teamId, m.teamId), eq(teamMembers.level, m.level), eq(teamMembers.userId, userId)))
    await recordAudit(q, ctx, {
      entityType: 'team',
      entityId: m.teamId,
      action: 'member.removed',
      changes: [{ field: `layers.${m.level}.members`, old: userId, new: null }]
    })
    changed = true
  }
  return changed
}
