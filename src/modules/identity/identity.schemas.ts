import { type Static, Type } from 'typebox'
import { ROLES, SCOPES } from '../../auth/actor.js'
import { DateTime, DateTimeInput, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'

export const Role = StringEnum(ROLES)
export const Scope = StringEnum(SCOPES)

const Username = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s\\x00-\\x1f]+$' })
const Password = Type.String({ minLength: 12, maxLength: 1024 })
const Email = Type.String({ format: 'email', maxLength: 320 })
const Phone = Type.String({ pattern: '^\\+?[0-9 ()./-]{3,32}$' })
const Name = Type.String({ minLength: 1, maxLength: 200 })

export const User = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    displayName: Type.String(),
    email: Nullable(Type.String()),
    phone: Nullable(Type.String()),
    organisationId: Nullable(Uuid),
    roles: Type.Array(Role),
    authSource: Type.String(),
    active: Type.Boolean(),
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime
  },
  {}
)

export const CreateUserBody = Type.Object(
  {
    username: Username,
    displayName: Name,
    email: Type.Optional(Nullable(Email)),
    phone: Type.Optional(Nullable(Phone)),
    organisationId: Type.Optional(Nullable(Uuid)),
    roles: Type.Array(Role, { minItems: 1, maxItems: ROLES.length, uniqueItems: true }),
    password: Type.Optional(Password),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false }
)
export type CreateUserInput = Static<typeof CreateUserBody>

export const UpdateUserBody = Type.Object(
  {
    displayName: Type.Optional(Name),
    email: Type.Optional(Nullable(Email)),
    phone: Type.Optional(Nullable(Phone)),
    organisationId: Type.Optional(Nullable(Uuid)),
    roles: Type.Optional(Type.Array(Role, { minItems: 1, maxItems: ROLES.length, uniqueItems: true })),
    password: Type.Optional(Password),
    active: Type.Optional(Type.Boolean())
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateUserInput = Static<typeof UpdateUserBody>

export const UserListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    organisationId: Type.Optional(Uuid),
    role: Type.Optional(Role),
    active: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type UserListInput = Static<typeof UserListQuery>

export const Organisation = Type.Object(
  { id: Uuid, name: Type.String(), costCentreId: Nullable(Uuid), createdAt: DateTime, updatedAt: DateTime },
  {}
)
export const OrganisationBody = Type.Object(
  {
    name: Name,
    costCentreId: Type.Optional(
      Nullable(Type.String({ format: 'uuid', description: 'The cost centre carrying it (finance); null clears it' }))
    )
  },
  { additionalProperties: false }
)
export type OrganisationInput = Static<typeof OrganisationBody>

export const ListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type ListInput = Static<typeof ListQuery>

export const TeamLayer = Type.Object({
  level: Type.Integer(),
  name: Type.String(),
  members: Type.Array(Uuid)
})

export const Team = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Nullable(Type.String()),
    managerId: Nullable(Uuid),
    layers: Type.Array(TeamLayer),
    createdAt: DateTime,
    updatedAt: DateTime
  },
  {}
)

const LayerInput = Type.Object({ name: Name }, { additionalProperties: false })

export const CreateTeamBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    managerId: Type.Optional(Nullable(Uuid)),
    layers: Type.Optional(
      Type.Array(LayerInput, {
        minItems: 1,
        maxItems: 10,
        description: 'Escalation layers in order: the first is level 1 (first line).'
      })
    )
  },
  { additionalProperties: false }
)
export type CreateTeamInput = Static<typeof CreateTeamBody>

export const UpdateTeamBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    managerId: Type.Optional(Nullable(Uuid)),
    layers: Type.Optional(Type.Array(LayerInput, { minItems: 1, maxItems: 10 }))
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateTeamInput = Static<typeof UpdateTeamBody>

export const TeamMemberBody = Type.Object(
  { userId: Uuid, level: Type.Integer({ minimum: 1, maximum: 10 }) },
  { additionalProperties: false }
)
export type TeamMemberInput = Static<typeof TeamMemberBody>

export const ApiToken = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    userId: Uuid,
    prefix: Type.String(),
    scopes: Type.Array(Scope),
    organisationId: Nullable(Uuid),
    createdAt: DateTime,
    expiresAt: Nullable(DateTime),
    revokedAt: Nullable(DateTime),
    lastUsedAt: Nullable(DateTime),
    lastUsedIp: Nullable(Type.String())
  },
  {}
)

export const CreateTokenBody = Type.Object(
  {
    name: Name,
    userId: Type.Optional(Uuid),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
    organisationId: Type.Optional(Nullable(Uuid)),
    expiresAt: Type.Optional(Nullable(DateTimeInput))
  },
  { additionalProperties: false }
)
export type CreateTokenInput = Static<typeof CreateTokenBody>

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
    password: Type.String({ minLength: 1, maxLength: 1024 })
  },
  { additionalProperties: false }
)
export type LoginInput = Static<typeof LoginBody>

export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Password
  },
  { additionalProperties: false }
)
export type ChangePasswordInput = Static<typeof ChangePasswordBody>

export const LoginResult = Type.Object({ token: Type.String(), expiresAt: DateTime, user: User })

export const RotateTokenBody = Type.Object(
  {
    graceMinutes: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10080, description: 'How long the old token keeps working (default 60)' })
    ),
    name: Type.Optional(Name)
  },
  { additionalProperties: false }
)
export type RotateTokenInput = Static<typeof RotateTokenBody>

export const AuthEvent = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  kind: Type.String(),
  method: Nullable(Type.String()),
  username: Nullable(Type.String()),
  userId: Nullable(Uuid),
  ip: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown())
})

export const AuthEventListQuery = Type.Object(
  {
    kind: Type.Optional(
      StringEnum([
        'login.success',
        'login.failure',
        'login.locked',
        'logout',
        'sso.login',
        'sso.rejected',
        'token.new_address',
        'directory.unavailable'
      ])
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    ip: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(DateTimeInput),
    to: Type.Optional(DateTimeInput),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)
export type AuthEventListInput = Static<typeof AuthEventListQuery>
