import { readdirSync, readFileSync } from 'node:fs'
import { buildSchema, printSchema } from 'graphql'

/**
 * The GraphQL contract is written in parts: src/graphql/base.graphql (scalars, the Query and Mutation
 * roots, PageInfo) and one part per resolvers file next to it in src/modules/<m>/ (`extend type Query`,
 * `extend type Mutation`). `npm run schema` prints them as one canonical schema.graphql, the committed
 * contract that the server loads and clients read; the contract test fails when the two differ.
 */
const srcDir = new URL('../', import.meta.url)

const HEADER = [
  '# Servicedesk API — GraphQL contract. The same capabilities as REST /api/v1, under the same names.',
  '# Times are UTC ISO-8601 strings; ids are UUIDs; lists are connections paged with first/after.',
  '# Assembled by `npm run schema` from src/graphql/base.graphql and src/modules/*/*.graphql: edit those.',
  ''
].join('\n')

/** Paths of the parts under src/, the base first, then the modules' parts in name order. */
export function schemaParts(): string[] {
  const modules = readdirSync(new URL('modules/', srcDir), { recursive: true, encoding: 'utf8' })
    .filter(f => f.endsWith('.graphql'))
    .map(f => `modules/${f.split('\\').join('/')}`)
    .sort()
  return ['graphql/base.graphql', ...modules]
}

/** The parts as one SDL document, as written (extensions and all). */
export function schemaSource(): string {
  return schemaParts()
    .map(part => readFileSync(new URL(part, srcDir), 'utf8'))
    .join('\n')
}

/** schema.graphql as `npm run schema` writes it: the parts merged and printed canonically. */
export function assembleSchema(): string {
  return `${HEADER}\n${printSchema(buildSchema(schemaSource()))}\n`
}
