import { eq, sql } from 'drizzle-orm'
import { authorize } from '../../auth/policy.js'
import type { CiAttributeDefinition } from '../../db/schema/cmdb.js'
import {
  ciClasses,
  ciRelationships,
  ciRelationshipTypes,
  configurationItems,
  discoverySources
} from '../../db/schema/index.js'
import type { Ctx, Deps } from '../../lib/context.js'
import { conflict, type FieldError, validationFailed } from '../../lib/errors.js'
import { textKeyset } from '../../lib/keyset.js'
import { adminResource } from '../admin/admin-resource.js'
import { attributeProblem, type ClassCatalogue, type ClassRow, loadCatalogue } from './attributes.js'
import type {
  CiClassListInput,
  CreateCiClassInput,
  CreateDiscoverySourceInput,
  CreateRelationshipTypeInput,
  NamedListInput,
  UpdateCiClassInput,
  UpdateDiscoverySourceInput,
  UpdateRelationshipTypeInput
} from './catalogue.schemas.js'

export interface CiClassView extends ClassRow {
  effectiveAttributes: CiAttributeDefinition[]
}
export type RelationshipTypeRow = typeof ciRelationshipTypes.$inferSelect
export type DiscoverySourceRow = typeof discoverySources.$inferSelect

const read = (ctx: Ctx) => authorize(ctx.actor, 'ci.read')
const write = (ctx: Ctx) => authorize(ctx.actor, 'config.manage')

export const classKeyset = textKeyset<ClassRow>('ci-classes', ciClasses.name, ciClasses.id, r => r.name)
export const relationshipTypeKeyset = textKeyset<RelationshipTypeRow>(
  'ci-relationship-types',
  ciRelationshipTypes.name,
  ciRelationshipTypes.id,
  r => r.name
)
export const sourceKeyset = textKeyset<DiscoverySourceRow>(
  'discovery-sources',
  discoverySources.name,
  discoverySources.id,
  r => r.name
)

/**
 * Attribute definitions as a class declares them: names unique and not already inherited, enum values
 * given, defaults of the attribute's type. Every problem at once, naming `attributes.<i>.<part>` (as the schema check does).
 */
function checkDefinitions(defs: CiAttributeDefinition[], inherited: CiAttributeDefinition[]) {
  const errors: FieldError[] = []
  const seen = new Set<string>()
  const fromParent = new Set(inherited.map(d => d.name))
  defs.forEach((d, i) => {
    if (seen.has(d.name)) errors.push({ field: `attributes.${i}.name`, message: `${d.name} is defined twice` })
    else if (fromParent.has(d.name))
      errors.push({ field: `attributes.${i}.name`, message: `${d.name} is inherited from a parent class` })
    seen.add(d.name)
    if (d.type === 'enum' && !d.values?.length)
      errors.push({ field: `attributes.${i}.values`, message: 'an enum attribute lists its values' })
    if (d.type !== 'enum' && d.values)
      errors.push({ field: `attributes.${i}.values`, message: 'only enum attributes have values' })
    if (d.default !== undefined && d.default !== null) {
      const problem = d.type === 'ci' ? 'a CI reference has no default' : attributeProblem(d, d.default)
      if (problem) errors.push({ field: `attributes.${i}.default`, message: problem })
    }
    if (d.unique && d.default !== undefined)
      errors.push({ field: `attributes.${i}.default`, message: 'a unique attribute has no default' })
  })
  if (errors.length) throw validationFailed(errors)
}

/** The parent a class may have: an existing class that is not the class itself or below it. */
function checkParent(catalogue: ClassCatalogue, parentId: string | null, selfName?: string): ClassRow | null {
  if (!parentId) return null
  const parent = [...catalogue.byName.values()].find(c => c.id === parentId)
  if (!parent) throw validationFailed([{ field: 'parentId', message: 'no such class' }])
  if (selfName && catalogue.descendants(selfName).includes(parent.name)) {
    throw validationFailed([{ field: 'parentId', message: 'a class cannot be its own ancestor' }])
  }
  return parent
}

/** The CMDB's catalogues: classes with attribute definitions, relationship types, discovery sources. */
export function createCatalogueService({ db }: Deps) {
  const classes = adminResource<ClassRow, ClassRow>(db, {
    table: ciClasses,
    id: ciClasses.id,
    version: ciClasses.version,
    entityType: 'ci_class',
    noun: 'CI class',
    fields: ['name', 'label', 'description', 'parentId', 'attributes'],
    unique: { ci_classes_name_uq: { field: 'name', message: r => `a class named ${r.name} exists` } },
    view: r => r,
    authorizeRead: read,
    authorizeWrite: write
  })
  const types = adminResource<RelationshipTypeRow, RelationshipTypeRow>(db, {
    table: ciRelationshipTypes,
    id: ciRelationshipTypes.id,
    version: ciRelationshipTypes.version,
    entityType: 'ci_relationship_type',
    noun: 'relationship type',
    fields: ['name', 'label', 'reverseLabel'],
    unique: { ci_relationship_types_name_uq: { field: 'name', message: r => `a type named ${r.name} exists` } },
    view: r => r,
    authorizeRead: read,
    authorizeWrite: write
  })
  const sources = adminResource<DiscoverySourceRow, DiscoverySourceRow>(db, {
    table: discoverySources,
    id: discoverySources.id,
    version: discoverySources.version,
    entityType: 'discovery_source',
    noun: 'discovery source',
    fields: ['name', 'description', 'precedence', 'overridesManual', 'missingAfterDays'],
    unique: { discovery_sources_name_uq: { field: 'name', message: r => `a source named ${r.name} exists` } },
    view: r => r,
    authorizeRead: read,
    authorizeWrite: write
  })

  const withEffective = async (row: ClassRow): Promise<CiClassView> => ({
    ...row,
    effectiveAttributes: (await loadCatalogue(db)).definitions(row.name)
  })
  const manyEffective = async (rows: ClassRow[]): Promise<CiClassView[]> => {
    const catalogue = await loadCatalogue(db)
    return rows.map(r => ({ ...r, effectiveAttributes: catalogue.definitions(r.name) }))
  }

  /** Deletes are refused (409) while anything uses the row. */
  const inUse = async (what: string, count: Promise<{ n: number }[]>) => {
    const [row] = await count
    if ((row?.n ?? 0) > 0) throw conflict(`this ${what} is in use (${row!.n})`)
  }

  return {
    classes: {
      async get(ctx: Ctx, id: string) {
        return withEffective(await classes.get(ctx, id))
      },
      async list(ctx: Ctx, input: CiClassListInput) {
        const page = await classes.list(ctx, input, classKeyset, [
          input.parentId ? eq(ciClasses.parentId, input.parentId) : undefined
        ])
        return { ...page, items: await manyEffective(page.items) }
      },
      async byIds(ctx: Ctx, ids: readonly string[]) {
        return classes.byIds(ctx, ids)
      },
      async create(ctx: Ctx, input: CreateCiClassInput) {
        const row = await classes.create(ctx, async tx => {
          const catalogue = await loadCatalogue(tx)
          const parent = checkParent(catalogue, input.parentId ?? null)
          const attributes = input.attributes ?? []
          checkDefinitions(attributes, parent ? catalogue.definitions(parent.name) : [])
          return {
            name: input.name,
            label: input.label,
            description: input.description ?? '',
            parentId: parent?.id ?? null,
            attributes
          }
        })
        return withEffective(row)
      },
      async update(ctx: Ctx, id: string, input: UpdateCiClassInput, expectedVersion?: number) {
        const row = await classes.update(ctx, id, expectedVersion, async (tx, before) => {
          const catalogue = await loadCatalogue(tx)
          const parentId = input.parentId !== undefined ? input.parentId : before.parentId
          const parent = checkParent(catalogue, parentId, before.name)
          const attributes = input.attributes ?? before.attributes
          checkDefinitions(attributes, parent ? catalogue.definitions(parent.name) : [])
          return {
            ...(input.label !== undefined ? { label: input.label } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.parentId !== undefined ? { parentId: input.parentId } : {}),
            ...(input.attributes !== undefined ? { attributes } : {})
          }
        })
        return withEffective(row)
      },
      remove: (ctx: Ctx, id: string, expectedVersion?: number) =>
        classes.remove(ctx, id, expectedVersion, async (tx, before) => {
          await inUse(
            'class',
            tx
              .select({ n: sql<number>`count(*)::int` })
              .from(configurationItems)
              .where(eq(configurationItems.ciClass, before.name))
          )
          await inUse(
            'class (as a parent)',
            tx.select({ n: sql<number>`count(*)::int` }).from(ciClasses).where(eq(ciClasses.parentId, before.id))
          )
        })
    },

    relationshipTypes: {
      get: types.get,
      byIds: types.byIds,
      list: (ctx: Ctx, input: NamedListInput) => types.list(ctx, input, relationshipTypeKeyset),
      create: (ctx: Ctx, input: CreateRelationshipTypeInput) => types.create(ctx, async () => ({ ...input })),
      update: (ctx: Ctx, id: string, input: UpdateRelationshipTypeInput, expectedVersion?: number) =>
        types.update(ctx, id, expectedVersion, async () => ({ ...input })),
      remove: (ctx: Ctx, id: string, expectedVersion?: number) =>
        types.remove(ctx, id, expectedVersion, async (tx, before) =>
          inUse(
            'relationship type',
            tx
              .select({ n: sql<number>`count(*)::int` })
              .from(ciRelationships)
              .where(eq(ciRelationships.type, before.name))
          )
        )
    },

    sources: {
      get: sources.get,
      byIds: sources.byIds,
      list: (ctx: Ctx, input: NamedListInput) => sources.list(ctx, input, sourceKeyset),
      create: (ctx: Ctx, input: CreateDiscoverySourceInput) =>
        sources.create(ctx, async () => ({
          name: input.name,
          description: input.description ?? '',
          precedence: input.precedence ?? 50,
          overridesManual: input.overridesManual ?? false,
          missingAfterDays: input.missingAfterDays ?? null
        })),
      update: (ctx: Ctx, id: string, input: UpdateDiscoverySourceInput, expectedVersion?: number) =>
        sources.update(ctx, id, expectedVersion, async () => ({ ...input })),
      remove: (ctx: Ctx, id: string, expectedVersion?: number) => sources.remove(ctx, id, expectedVersion)
    }
  }
}

export type CatalogueService = ReturnType<typeof createCatalogueService>
