import { and, eq, inArray } from 'drizzle-orm'
import {
  notificationPreferences,
  notificationRules,
  organisationContacts,
  smsBlockedNumbers,
  teamMembers,
  teams,
  ticketNotes,
  tickets,
  ticketWatchers,
  users
} from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { formatNumber, type TicketKind } from '../kinds/kinds.js'
import type { CiLinkPort } from '../tickets/tickets.ports.js'
import { STAFF_ONLY } from './outbox.js'
import type { Quiet } from './quiet-hours.js'
import type { Channel } from './templates.js'

/** Who a rule names, resolved against the ticket when the row is dispatched. */
export const AUDIENCES = [
  'requester',
  'assignee',
  'assignee_or_layer',
  'layer',
  'team_manager',
  'watchers',
  'approvers',
  'organisation_contacts',
  'ci_owner_team',
  'users'
] as const
export type Audience = (typeof AUDIENCES)[number]

export interface OutboxRow {
  id: string
  event: string
  ticketId: string | null
  actorId: string | null
  payload: Record<string, unknown>
  attempts: number
  maxAttempts: number
}

export interface TicketInfo {
  id: string
  kind: TicketKind
  number: string
  title: string
  status: string
  priority: number
  requesterId: string
  organisationId: string | null
  assigneeId: string | null
  teamId: string | null
  layer: number | null
  resolution: string | null
}

export interface Person {
  id: string
  displayName: string
  email: string | null
  phone: string | null
  staff: boolean
  channels: readonly string[]
  /** Per event or event group, the channels instead of `channels`. */
  eventChannels: Record<string, readonly string[]>
  locale: string
  ownChanges: boolean
  quiet: Quiet | null
  quietChannels: readonly string[]
  blockedPhones: Set<string>
}

/** The channels a person takes for an event: the event's own entry, else its group's, else their default. */
export function channelsFor(person: Person, event: string): readonly string[] {
  return person.eventChannels[event] ?? person.eventChannels[event.split('.')[0]!] ?? person.channels
}

export interface Recipient {
  person: Person
  channel: Channel
}

type Rule = typeof notificationRules.$inferSelect

const str = (v: unknown) => (typeof v === 'string' ? v : null)
const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const num = (v: unknown) => (typeof v === 'number' ? v : null)

/** What one batch needs to resolve its recipients and fill its templates, read in a few queries. */
export async function loadBatchContext(q: Queryable, rows: readonly OutboxRow[], ciLinks?: CiLinkPort) {
  const ticketIds = [...new Set(rows.flatMap(r => (r.ticketId ? [r.ticketId] : [])))]
  const noteIds = [...new Set(rows.flatMap(r => str(r.payload.noteId) ?? []))]
  const [ticketRows, noteRows, rules, watcherRows] = await Promise.all([
    ticketIds.length
      ? q
          .select({
            id: tickets.id,
            kind: tickets.kind,
            number: tickets.number,
            title: tickets.title,
            status: tickets.status,
            priority: tickets.priority,
            requesterId: tickets.requesterId,
            organisationId: tickets.organisationId,
            assigneeId: tickets.assigneeId,
            teamId: tickets.teamId,
            layer: tickets.layer,
            resolution: tickets.resolution
          })
          .from(tickets)
          .where(inArray(tickets.id, ticketIds))
      : [],
    noteIds.length
      ? q
          .select({ id: ticketNotes.id, body: ticketNotes.body, internal: ticketNotes.internal })
          .from(ticketNotes)
          .where(inArray(ticketNotes.id, noteIds))
      : [],
    q.select().from(notificationRules).where(eq(notificationRules.enabled, true)),
    ticketIds.length
      ? q
          .select({ ticketId: ticketWatchers.ticketId, userId: ticketWatchers.userId })
          .from(ticketWatchers)
          .where(inArray(ticketWatchers.ticketId, ticketIds))
      : []
  ])
  const ticketById = new Map<string, TicketInfo>(
    ticketRows.map(t => [
      t.id,
      { ...t, kind: t.kind as TicketKind, number: formatNumber(t.kind as TicketKind, t.number) } satisfies TicketInfo
    ])
  )
  // Changes tell the owner teams of the CIs they touch; the CMDB knows them (a port, not its tables)
  const changeIds = [...ticketById.values()].filter(t => t.kind === 'change').map(t => t.id)
  const orgIds = [...new Set([...ticketById.values()].flatMap(t => (t.organisationId ? [t.organisationId] : [])))]
  const [ownerTeams, contactRows] = await Promise.all([
    ciLinks && changeIds.length ? ciLinks.ownerTeamsOf(q, changeIds) : new Map<string, string[]>(),
    orgIds.length
      ? q.select().from(organisationContacts).where(inArray(organisationContacts.organisationId, orgIds))
      : []
  ])
  const contacts = new Map(contactRows.map(c => [c.organisationId, c.userIds]))
  const teamIds = [
    ...new Set([
      ...rows.flatMap(r => {
        const t = r.ticketId ? ticketById.get(r.ticketId) : undefined
        return [str(r.payload.teamId), t?.teamId ?? null].filter((x): x is string => !!x)
      }),
      ...[...ownerTeams.values()].flat()
    ])
  ]
  const [teamRows, memberRows] = teamIds.length
    ? await Promise.all([
        q
          .select({ id: teams.id, name: teams.name, managerId: teams.managerId })
          .from(teams)
          .where(inArray(teams.id, teamIds)),
        q
          .select({ teamId: teamMembers.teamId, level: teamMembers.level, userId: teamMembers.userId })
          .from(teamMembers)
          .where(inArray(teamMembers.teamId, teamIds))
      ])
    : [[], []]
  const teamById = new Map(teamRows.map(t => [t.id, t]))
  const watchers = new Map<string, string[]>()
  for (const w of watcherRows) watchers.set(w.ticketId, [...(watchers.get(w.ticketId) ?? []), w.userId])

  const userIds = new Set<string>()
  for (const r of rows) if (r.actorId) userIds.add(r.actorId)
  for (const t of ticketById.values()) {
    userIds.add(t.requesterId)
    if (t.assigneeId) userIds.add(t.assigneeId)
  }
  for (const r of rows) {
    for (const id of [str(r.payload.assigneeId), ...strs(r.payload.approverIds), ...strs(r.payload.userIds)]) {
      if (id) userIds.add(id)
    }
  }
  for (const t of teamRows) if (t.managerId) userIds.add(t.managerId)
  for (const m of memberRows) userIds.add(m.userId)
  for (const w of watcherRows) userIds.add(w.userId)
  for (const ids of contacts.values()) for (const id of ids) userIds.add(id)
  const people = await loadPeople(q, [...userIds])

  const notes = new Map(noteRows.map(n => [n.id, n]))
  return {
    ticket: (id: string | null) => (id ? ticketById.get(id) : undefined),
    note: (id: unknown) => (typeof id === 'string' ? notes.get(id) : undefined),
    person: (id: string | null | undefined) => (id ? people.get(id) : undefined),
    team: (id: string | null | undefined) => (id ? teamById.get(id) : undefined),
    rulesFor: (event: string) => rules.filter(r => r.event === event),
    layerMembers: (teamId: string | null, level: number | null) =>
      memberRows.filter(m => m.teamId === teamId && m.level === level).map(m => m.userId),
    watchersOf: (ticketId: string | null) => (ticketId ? (watchers.get(ticketId) ?? []) : []),
    contactsOf: (organisationId: string | null | undefined) =>
      organisationId ? (contacts.get(organisationId) ?? []) : [],
    ciOwnerMembers: (ticketId: string | null) => {
      const owners = new Set(ticketId ? (ownerTeams.get(ticketId) ?? []) : [])
      return memberRows.filter(m => owners.has(m.teamId)).map(m => m.userId)
    }
  }
}
export type BatchContext = Awaited<ReturnType<typeof loadBatchContext>>

async function loadPeople(q: Queryable, ids: string[]): Promise<Map<string, Person>> {
  if (ids.length === 0) return new Map()
  const [found, blocked] = await Promise.all([
    q
      .select({
        id: users.id,
        displayName: users.displayName,
        email: users.email,
        phone: users.phone,
        roles: users.roles,
        active: users.active,
        channels: notificationPreferences.channels,
        eventChannels: notificationPreferences.eventChannels,
        locale: notificationPreferences.locale,
        ownChanges: notificationPreferences.ownChanges,
        timeZone: notificationPreferences.timeZone,
        quietFrom: notificationPreferences.quietFrom,
        quietUntil: notificationPreferences.quietUntil,
        quietChannels: notificationPreferences.quietChannels
      })
      .from(users)
      .leftJoin(notificationPreferences, eq(notificationPreferences.userId, users.id))
      .where(inArray(users.id, ids)),
    q
      .select({ userId: smsBlockedNumbers.userId, phone: smsBlockedNumbers.phone })
      .from(smsBlockedNumbers)
      .where(and(inArray(smsBlockedNumbers.userId, ids)))
  ])
  const out = new Map<string, Person>()
  for (const u of found) {
    out.set(u.id, {
      id: u.id,
      displayName: u.displayName,
      email: u.active ? u.email : null,
      phone: u.active ? u.phone : null,
      staff: u.roles.some(r => r !== 'customer'),
      channels: u.channels ?? ['mail', 'sms'],
      eventChannels: u.eventChannels ?? {},
      locale: u.locale ?? 'en',
      ownChanges: u.ownChanges ?? false,
      quiet:
        u.quietFrom !== null && u.quietUntil !== null
          ? { from: u.quietFrom, until: u.quietUntil, timeZone: u.timeZone ?? 'UTC' }
          : null,
      quietChannels: u.quietChannels ?? ['sms'],
      blockedPhones: new Set(blocked.filter(b => b.userId === u.id).map(b => b.phone))
    })
  }
  return out
}

function audienceIds(ctx: BatchContext, row: OutboxRow, t: TicketInfo | undefined, audience: string): string[] {
  const p = row.payload
  const assignee = str(p.assigneeId) ?? (row.event === 'ticket.assigned' ? null : (t?.assigneeId ?? null))
  const teamId = str(p.teamId) ?? t?.teamId ?? null
  const layer = num(p.layer) ?? t?.layer ?? null
  switch (audience as Audience) {
    case 'requester':
      return t ? [t.requesterId] : []
    case 'assignee':
      return assignee ? [assignee] : []
    case 'assignee_or_layer':
      return assignee ? [assignee] : ctx.layerMembers(teamId, layer)
    case 'layer':
      return ctx.layerMembers(teamId, layer)
    case 'team_manager': {
      const manager = ctx.team(teamId)?.managerId
      return manager ? [manager] : []
    }
    case 'watchers':
      return ctx.watchersOf(row.ticketId)
    case 'approvers':
      return strs(p.approverIds)
    case 'organisation_contacts':
      return ctx.contactsOf(t?.organisationId)
    case 'ci_owner_team':
      return t?.kind === 'change' ? ctx.ciOwnerMembers(t.id) : []
    case 'users':
      return strs(p.userIds)
    default:
      return []
  }
}

/** The `channel|userId` keys of a row held back by quiet hours (payload.deferredTo), else null. */
function deferredTo(row: OutboxRow): Set<string> | null {
  const d = row.payload.deferredTo
  if (!Array.isArray(d)) return null
  return new Set(
    d.flatMap(x => (x && typeof x === 'object' && 'userId' in x && 'channel' in x ? [`${x.channel}|${x.userId}`] : []))
  )
}

/** The requester's receipt of a ticket they opened themselves is the one own change always told. */
const isReceipt = (row: OutboxRow, rule: Rule) => row.event === 'ticket.created' && rule.audience === 'requester'

/**
 * A breach is told once, by the breach timer's row, to the audiences of the breach rules. A breach row
 * an escalation wrote (it carries the threshold's percent) is that threshold's notify action: it goes to
 * the people the action named and nobody else, so an assignee is not told twice of one breach.
 */
const escalationOnly = (row: OutboxRow, rule: Rule) =>
  row.event === 'sla.breach' && typeof row.payload.percent === 'number' && rule.audience !== 'users'

/**
 * Whom the breach rules tell of a ticket's breach, per channel (`channel|userId`): the breach timer's
 * row tells them, so an escalation's breach row (a 100 % threshold naming, say, the assignee) skips
 * them on that channel. One breach, one notice per person and channel.
 */
function toldByBreachRules(ctx: BatchContext, row: OutboxRow, t: TicketInfo | undefined): Set<string> {
  const told = new Set<string>()
  for (const rule of ctx.rulesFor('sla.breach') as Rule[]) {
    if (rule.audience === 'users') continue
    if (rule.kinds && t && !rule.kinds.includes(t.kind)) continue
    if (rule.maxPriority !== null && (!t || t.priority > rule.maxPriority)) continue
    for (const id of audienceIds(ctx, row, t, rule.audience)) told.add(`${rule.channel}|${id}`)
  }
  return told
}

/** OLA clocks are the desk's own targets: only staff hear of their breaches. */
const staffOnly = (row: OutboxRow) =>
  STAFF_ONLY.has(row.event) || (row.event === 'sla.breach' && row.payload.agreement === 'ola')

/**
 * Who hears this row on which channel: each enabled rule of its event (kinds and priority permitting)
 * names an audience; people are kept once per channel, only when they accept the channel, never the
 * actor of the change unless they asked for their own changes (a requester's receipt aside), and only staff for staff-only events.
 */
export function resolveRecipients(ctx: BatchContext, row: OutboxRow): Recipient[] {
  const t = ctx.ticket(row.ticketId)
  const out: Recipient[] = []
  const seen = new Set<string>()
  // A row held back by quiet hours goes only to those it was held for
  const only = deferredTo(row)
  const byTimer =
    row.event === 'sla.breach' && typeof row.payload.percent === 'number' ? toldByBreachRules(ctx, row, t) : null
  for (const rule of ctx.rulesFor(row.event) as Rule[]) {
    if (rule.kinds && t && !rule.kinds.includes(t.kind)) continue
    if (rule.maxPriority !== null && (!t || t.priority > rule.maxPriority)) continue
    if (escalationOnly(row, rule)) continue
    const channel = rule.channel as Channel
    for (const id of audienceIds(ctx, row, t, rule.audience)) {
      const person = ctx.person(id)
      if (!person) continue
      if (staffOnly(row) && !person.staff) continue
      if (person.id === row.actorId && !person.ownChanges && !isReceipt(row, rule)) continue
      if (!channelsFor(person, row.event).includes(channel)) continue
      const key = `${channel}|${person.id}`
      if (only && !only.has(key)) continue
      if (seen.has(key) || byTimer?.has(key)) continue
      seen.add(key)
      out.push({ person, channel })
    }
  }
  return out
}
