import { eq, inArray } from 'drizzle-orm'
import { authorize, isStaff } from '../../auth/policy.js'
import { organisationContacts, organisations, users } from '../../db/schema/index.js'
import type { Ctx } from '../../lib/context.js'
import { type FieldError, forbidden, notFound, validationFailed } from '../../lib/errors.js'
import { adminSettings } from '../admin/admin-settings.js'
import type { ContactsInput } from './organisation-contacts.schemas.js'

interface Contacts {
  userIds: string[]
  updatedAt: Date | null
}

/**
 * The notification contacts of an organisation (the `organisation_contacts` audience): keyed settings
 * per organisation, read by staff, set by organisation admins, the version read required, audited.
 */
export function createOrganisationContactService() {
  const settings = adminSettings<string, Contacts>({
    table: organisationContacts,
    key: organisationContacts.organisationId,
    version: organisationContacts.version,
    entityType: 'organisation_contacts',
    noun: 'organisation contacts',
    auditId: id => id,
    read: row =>
      row ? { userIds: row.userIds as string[], updatedAt: row.updatedAt as Date } : { userIds: [], updatedAt: null },
    columns: (organisationId, c) => ({ organisationId, userIds: c.userIds }),
    fields: () => ['userIds'],
    authorizeRead: ctx => {
      if (ctx.actor.kind !== 'system' && !isStaff(ctx.actor)) throw forbidden('organisation contacts are for staff')
    },
    authorizeWrite: ctx => authorize(ctx.actor, 'organisation.manage')
  })
  async function mustExist(ctx: Ctx, id: string) {
    const [found] = await ctx.db.select({ id: organisations.id }).from(organisations).where(eq(organisations.id, id))
    if (!found) throw notFound('organisation')
  }
  const view = (organisationId: string, s: { value: Contacts; version: number }) => ({
    organisationId,
    ...s.value,
    version: s.version
  })
  return {
    async get(ctx: Ctx, id: string) {
      const s = await settings.get(ctx, id)
      await mustExist(ctx, id)
      return view(id, s)
    },
    async set(ctx: Ctx, id: string, input: ContactsInput, expectedVersion?: number) {
      authorize(ctx.actor, 'organisation.manage')
      await mustExist(ctx, id)
      const found = input.userIds.length
        ? await ctx.db
            .select({ id: users.id, active: users.active })
            .from(users)
            .where(inArray(users.id, input.userIds))
        : []
      const byId = new Map(found.map(u => [u.id, u]))
      const errors: FieldError[] = []
      input.userIds.forEach((uid, i) => {
        if (!byId.get(uid)?.active) errors.push({ field: `userIds.${i}`, message: 'no such active user' })
      })
      if (errors.length > 0) throw validationFailed(errors)
      const s = await settings.set(ctx, id, expectedVersion, async (_tx, before) => ({
        ...before,
        userIds: [...input.userIds].sort()
      }))
      return view(id, s)
    }
  }
}

export type OrganisationContactService = ReturnType<typeof createOrganisationContactService>
