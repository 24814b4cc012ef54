import type { FastifyInstance } from 'fastify'
import { adminSettingsRoutes } from '../admin/admin-routes.js'
import { ContactsBody, ContactsView, OrganisationIdParams } from './organisation-contacts.schemas.js'

/** REST door to an organisation's notification contacts (the keyed-settings door). */
export default async function organisationContactRoutes(app: FastifyInstance) {
  adminSettingsRoutes(app, {
    path: '/organisations',
    key: { name: 'id', params: OrganisationIdParams },
    suffix: '/notification-contacts',
    tags: ['notifications'],
    view: ContactsView,
    body: ContactsBody,
    summary: {
      get: 'Who is told of an organisation’s tickets where a rule names organisation_contacts (staff)',
      set: 'Name the notification contacts of an organisation (organisation admin)'
    },
    service: app => ({
      get: (ctx, id: string) => app.services.organisationContacts.get(ctx, id),
      set: (ctx, id: string, input, version) => app.services.organisationContacts.set(ctx, id, input, version)
    })
  })
}
