import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { ts } from './columns.js'
import { users } from './identity.js'

/**
 * Per-kind workflow overrides edited by admins. A kind without a row uses the ITIL default shipped in
 * code (src/modules/workflows/defaults.ts), so a fresh install has every workflow without a seed step.
 */
export const workflows = pgTable('workflows', {
  kind: text('kind').primaryKey(),
  definition: jsonb('definition').notNull(),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  updatedBy: uuid('updated_by').references(() => users.id)
})

/** Admin-defined fields per ticket kind; values live in tickets.custom_fields under `key`. */
export const customFieldDefinitions = pgTable(
  'custom_field_definitions',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    label: text('label').notNull(),
    /** text | number | date | boolean | choice | multichoice | user | ci */
    type: text('type').notNull(),
    required: boolean('required').notNull().default(false),
    defaultValue: jsonb('default_value'),
    /** Allowed values for choice and multichoice. */
    options: jsonb('options').notNull().default(sql`'[]'::jsonb`),
    position: integer('position').notNull().default(0),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('custom_field_definitions_kind_key_uq').on(t.kind, t.key)]
)

/** Category trees, one per ticket kind. */
export const categories = pgTable(
  'categories',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    parentId: uuid('parent_id'),
    name: text('name').notNull(),
    /** "Hardware / Laptop": kept in step with the names above it, copied onto tickets. */
    path: text('path').notNull(),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [
    uniqueIndex('categories_sibling_name_uq').on(
      t.kind,
      sql`coalesce(${t.parentId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
      sql`lower(${t.name})`
    ),
    index('categories_parent_idx').on(t.parentId)
  ]
)

/** Ticket templates that prefill a create; `standard` marks a pre-approved standard change. */
export const ticketTemplates = pgTable(
  'ticket_templates',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    values: jsonb('values').notNull().default(sql`'{}'::jsonb`),
    standard: boolean('standard').notNull().default(false),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow()
  },
  t => [uniqueIndex('ticket_templates_kind_name_uq').on(t.kind, sql`lower(${t.name})`)]
)
