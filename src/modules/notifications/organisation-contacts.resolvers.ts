import type { Resolvers } from '../../graphql/types.js'
import { Uuid } from '../../lib/schemas.js'
import { adminSettingsResolvers } from '../admin/admin-resolvers.js'
import { ContactsBody } from './organisation-contacts.schemas.js'

/** GraphQL door to organisation notification contacts: same schema and service as REST. */
export function organisationContactResolvers(): Resolvers {
  return adminSettingsResolvers({
    service: services => services.organisationContacts,
    names: { get: 'organisationNotificationContacts', set: 'setOrganisationNotificationContacts' },
    key: { arg: 'organisationId', schema: Uuid },
    body: ContactsBody
  })
}
