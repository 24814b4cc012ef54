import { type Static, Type } from 'typebox'
import { DateTime, DateTimeInput, Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { kindSchemas } from '../tickets/tickets.routes.js'
import { createBody, updateBody } from '../tickets/tickets.schemas.js'

export const VERSION_MAX = 100
export const MAX_RELEASE_CHANGES = 500

const Version = Type.String({
  minLength: 1,
  maxLength: VERSION_MAX,
  pattern: '\\S',
  description: 'e.g. 2025.3 or 4.1.0'
})
const ManagerId = Type.String({
  format: 'uuid',
  description: 'The release manager: an active user with a staff role. Required (422 when absent)'
})

const releaseCreateFields = {
  releaseVersion: Type.Optional(
    Type.String({ ...Version, description: 'The version shipped, e.g. 4.1.0. Required (422 when absent)' })
  ),
  managerId: Type.Optional(ManagerId),
  releaseTeamId: Type.Optional(Type.String({ format: 'uuid', description: 'The team that ships it' })),
  plannedDate: Type.Optional(DateTimeInput)
}

const releaseUpdateFields = {
  releaseVersion: Type.Optional(Version),
  managerId: Type.Optional(Type.String({ format: 'uuid', description: 'Another release manager (cannot be cleared)' })),
  releaseTeamId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'null clears' }))),
  plannedDate: Type.Optional(Nullable(DateTimeInput))
}

export const BlockingChange = Type.Object({ changeId: Uuid, number: Type.String(), status: Type.String() })

export const Readiness = Type.Object(
  {
    ready: Type.Boolean({ description: 'At least one change, and every one ready' }),
    total: Type.Integer(),
    byStatus: Type.Record(Type.String(), Type.Integer(), { description: 'Bundled changes per status' }),
    blocking: Type.Array(BlockingChange, { description: 'Changes not ready, in number order' })
  },
  {
    description:
      'A change is ready in scheduled, implement, review or closed, or when its latest approval round is ' +
      'approved; cancelled and rejected changes always block'
  }
)

const summaryExtras = {
  releaseVersion: Type.String({
    description: 'The version shipped (`version` is the row version, as on every ticket)'
  }),
  managerId: Uuid,
  plannedDate: Nullable(DateTime)
}

const fullExtras = {
  ...summaryExtras,
  releaseTeamId: Nullable(Uuid),
  changeIds: Type.Array(Uuid, { description: 'Bundled changes, in number order' }),
  readiness: Readiness
}

/** Release fields beyond the shared ticket fields. */
export const releaseSchemas = kindSchemas(
  createBody(releaseCreateFields),
  updateBody(releaseUpdateFields),
  fullExtras,
  summaryExtras
)

export const SetChangesBody = Type.Object(
  {
    changeIds: Type.Array(Uuid, {
      maxItems: MAX_RELEASE_CHANGES,
      description: 'Every change the release bundles (replaces the list); [] unbundles them all'
    })
  },
  { additionalProperties: false }
)
export type SetChangesInput = Static<typeof SetChangesBody>

export const DEPLOYMENT_STATUSES = ['planned', 'in_progress', 'succeeded', 'failed', 'rolled_back'] as const
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number]

export const Deployment = Type.Object({
  id: Uuid,
  releaseId: Uuid,
  target: Type.String(),
  ciId: Nullable(Uuid),
  status: StringEnum(DEPLOYMENT_STATUSES),
  startedAt: Nullable(DateTime),
  finishedAt: Nullable(DateTime),
  notes: Type.String(),
  createdById: Nullable(Uuid),
  createdAt: DateTime,
  updatedAt: DateTime
})

const Notes = Type.String({ maxLength: 20_000 })

export const AddDeploymentBody = Type.Object(
  {
    target: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'An environment, a site' }),
    ciId: Type.Optional(Type.String({ format: 'uuid', description: 'The configuration item deployed to' })),
    status: Type.Optional(StringEnum(DEPLOYMENT_STATUSES, { description: 'Default planned' })),
    notes: Type.Optional(Notes)
  },
  { additionalProperties: false }
)
export type AddDeploymentInput = Static<typeof AddDeploymentBody>

export const UpdateDeploymentBody = Type.Object(
  {
    status: Type.Optional(
      StringEnum(DEPLOYMENT_STATUSES, {
        description:
          'planned → in_progress → succeeded | failed | rolled_back; failed → in_progress (retry) | rolled_back; ' +
          'succeeded → rolled_back. in_progress stamps startedAt; succeeded, failed and rolled_back stamp finishedAt'
      })
    ),
    notes: Type.Optional(Notes)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UpdateDeploymentInput = Static<typeof UpdateDeploymentBody>

export const DeploymentParams = Type.Object({ id: Uuid, deploymentId: Uuid }, { additionalProperties: false })
