import { type Static, Type } from 'typebox'
import { DateTime, Nullable, Uuid } from '../../lib/schemas.js'

export const ContactsBody = Type.Object(
  {
    userIds: Type.Array(Uuid, {
      maxItems: 50,
      uniqueItems: true,
      description: 'Active users told of the organisation’s tickets where a rule names organisation_contacts'
    })
  },
  { additionalProperties: false }
)
export type ContactsInput = Static<typeof ContactsBody>

export const ContactsView = Type.Object({
  organisationId: Uuid,
  userIds: Type.Array(Uuid),
  version: Type.Integer({ description: '0 while none were named; send it back to change them' }),
  updatedAt: Nullable(DateTime)
})

export const OrganisationIdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
