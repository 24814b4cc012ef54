import { type Static, Type } from 'typebox'
import { Nullable, StringEnum, Uuid } from '../../lib/schemas.js'
import { CI_STATUSES } from './cmdb.schemas.js'

export const MAX_IMPORT_ITEMS = 10_000
const Key = Type.String({ minLength: 1, maxLength: 300, description: "The source's own key for the item" })
const Short = (max: number) => Type.String({ minLength: 1, maxLength: max })

const Relationship = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z][a-z0-9_]*$' }),
    target: Type.Optional(Key),
    source: Type.Optional(Key)
  },
  {
    additionalProperties: false,
    description:
      'By external keys (of this request or seen before by this source): this item <type> target, or source <type> this item'
  }
)

export const ImportItem = Type.Object(
  {
    key: Type.Optional(Key),
    class: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z][a-z0-9_]*$' }),
    name: Short(200),
    status: Type.Optional(StringEnum(CI_STATUSES)),
    identifiers: Type.Optional(
      Type.Object(
        {
          serial: Type.Optional(Nullable(Short(200))),
          systemUuid: Type.Optional(Nullable(Short(64))),
          macAddresses: Type.Optional(Type.Array(Short(32), { maxItems: 64 })),
          fqdn: Type.Optional(Nullable(Short(254))),
          hostname: Type.Optional(Nullable(Short(253))),
          assetTag: Type.Optional(Nullable(Short(100)))
        },
        { additionalProperties: false }
      )
    ),
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 63 }), Type.Unknown(), { maxProperties: 200 })),
    relationships: Type.Optional(Type.Array(Relationship, { maxItems: 10_000 })),
    replaceRelationships: Type.Optional(
      Type.Array(Type.String({ maxLength: 63 }), {
        maxItems: 20,
        description: 'Types whose relationships at this CI not listed in `relationships` are removed'
      })
    )
  },
  { additionalProperties: false }
)
export type ImportItemInput = Static<typeof ImportItem>

export const ImportBody = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 100, description: 'A discovery source name' }),
    mode: Type.Optional(
      StringEnum(['atomic', 'partial'] as const, {
        default: 'atomic',
        description: 'atomic: nothing is written when any item fails; partial: good items land, bad ones are reported'
      })
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'Answer the report, write nothing' })),
    items: Type.Array(ImportItem, { maxItems: MAX_IMPORT_ITEMS })
  },
  { additionalProperties: false }
)
export type ImportInput = Static<typeof ImportBody>

export const IMPORT_RESULTS = ['created', 'updated', 'unchanged', 'conflict', 'error'] as const
export const ImportItemResult = Type.Object({
  index: Type.Integer(),
  key: Nullable(Type.String()),
  result: StringEnum(IMPORT_RESULTS),
  ciId: Nullable(Uuid),
  identifiedBy: Nullable(Type.String({ description: 'The rule that found the CI: key, serial+systemUuid, serial …' })),
  changed: Type.Array(Type.String(), { description: 'Fields and attributes.<name> this import changed' }),
  protected: Type.Array(Type.String(), {
    description: 'Fields the source reported differently but may not overwrite (precedence, manual edits)'
  }),
  reason: Nullable(Type.String()),
  errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))
})
export type ImportItemReport = Static<typeof ImportItemResult>

export const ImportReport = Type.Object({
  source: Type.String(),
  mode: Type.String(),
  dryRun: Type.Boolean(),
  committed: Type.Boolean({ description: 'Whether anything was written' }),
  summary: Type.Object({
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    conflict: Type.Integer(),
    error: Type.Integer()
  }),
  items: Type.Array(ImportItemResult)
})
export type ImportReportView = Static<typeof ImportReport>
