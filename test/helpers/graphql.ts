import { readFileSync } from 'node:fs'
import { count } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import {
  buildSchema,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument
} from 'graphql'
import { expect } from 'vitest'
import { schemaPath } from '../../src/plugins/graphql.js'
import type { TestApp } from './app.js'

/** What TestApp.gql answers in `body`. */
export type GqlBody = Awaited<ReturnType<TestApp['gql']>>['body']

/** schema.graphql as graphql-js sees it: the contract the tests compare the code against. */
export function loadSchema(): GraphQLSchema {
  return buildSchema(readFileSync(schemaPath, 'utf8'))
}

export function objectType(schema: GraphQLSchema, name: string): GraphQLObjectType {
  const type = schema.getType(name)
  if (!isObjectType(type)) throw new Error(`${name} is not an object type in schema.graphql`)
  return type
}

/**
 * A selection set naming every field of a type, nested objects included, built from the schema so a
 * field added to schema.graphql is queried without touching the tests. A type already on the path is
 * not entered again (no cycles); fields with required arguments cannot be selected blindly and are left out.
 */
export function selectAll(schema: GraphQLSchema, typeName: string, path: string[] = []): string {
  const type = objectType(schema, typeName)
  const parts: string[] = []
  for (const field of Object.values(type.getFields())) {
    if (field.args.some(isRequiredArgument)) continue
    const named = getNamedType(field.type)
    if (isInterfaceType(named)) {
      // An interface (Ticket): its own plain fields, whichever type the value turns out to be
      const plain = Object.values(named.getFields()).filter(
        f =>
          !isObjectType(getNamedType(f.type)) &&
          !isInterfaceType(getNamedType(f.type)) &&
          !f.args.some(isRequiredArgument)
      )
      parts.push(`${field.name} { __typename ${plain.map(f => f.name).join(' ')} }`)
      continue
    }
    if (!isObjectType(named)) {
      parts.push(field.name)
      continue
    }
    if (path.includes(named.name) || named.name === typeName) continue
    parts.push(`${field.name} ${selectAll(schema, named.name, [...path, typeName])}`)
  }
  return `{ ${parts.join(' ')} }`
}

export interface ShapeOptions {
  /** Also complain about null in nullable fields ("Type.field" entries are exempt). */
  strict?: boolean
  allowNull?: string[]
  /** Collects the object types seen with a value, to prove every type was checked somewhere. */
  seen?: Set<string>
}

/** Walks an answer beside its schema type: every non-null field must hold a value (all of them when strict). */
export function shapeProblems(
  schema: GraphQLSchema,
  type: GraphQLOutputType | string,
  value: unknown,
  opts: ShapeOptions = {},
  at = '$'
): string[] {
  const t = typeof type === 'string' ? objectType(schema, type) : type
  if (isNonNullType(t)) {
    if (value === null || value === undefined) return [`${at} is null but ${String(t)} is non-null`]
    return shapeProblems(schema, t.ofType, value, opts, at)
  }
  if (value === null || value === undefined) return []
  if (isListType(t)) {
    if (!Array.isArray(value)) return [`${at} is not a list`]
    return value.flatMap((v, i) => shapeProblems(schema, t.ofType, v, opts, `${at}[${i}]`))
  }
  if (!isObjectType(t)) return []
  opts.seen?.add(t.name)
  const fields = t.getFields()
  const problems: string[] = []
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = fields[key]
    if (!field) {
      if (key !== '__typename') problems.push(`${at}.${key} is not a field of ${t.name}`)
      continue
    }
    if (opts.strict && v === null && !opts.allowNull?.includes(`${t.name}.${key}`)) {
      problems.push(`${at}.${key} (${t.name}.${key}) is null`)
    }
    problems.push(...shapeProblems(schema, field.type, v, opts, `${at}.${key}`))
  }
  return problems
}

/** The nodes of a connection. */
export const nodesOf = (connection: { edges: { node: Record<string, unknown> }[] }) => connection.edges.map(e => e.node)

/** extensions.code of every error in a GraphQL answer. */
export const codes = (body: GqlBody): string[] => (body.errors ?? []).map(e => e.extensions?.code)

/** Field names carried in extensions.errors of every error. */
export const fields = (body: GqlBody): string[] =>
  (body.errors ?? []).flatMap(e => (e.extensions?.errors ?? []).map((f: { field: string }) => f.field))

export async function countRows(t: TestApp, table: PgTable): Promise<number> {
  const [row] = await t.db.select({ n: count() }).from(table)
  return Number(row?.n ?? 0)
}

/**
 * Counts operations that reached execution (mercurius preExecution hook): a limit that rejects a
 * document before any resolver runs leaves it at zero.
 */
export function executionCounter(t: TestApp) {
  let n = 0
  t.app.graphql.addHook('preExecution', async () => {
    n++
  })
  return {
    get count() {
      return n
    }
  }
}

/**
 * Asserts an answer failed with `code` and that every error carries a code, never INTERNAL (bad input
 * must never look like a server fault). Answers the first error with that code.
 */
export function errorWith(body: GqlBody, code: string) {
  expect(body.errors?.length ?? 0).toBeGreaterThan(0)
  for (const e of body.errors ?? []) {
    expect(typeof e.extensions?.code).toBe('string')
    expect(e.extensions.code).not.toBe('INTERNAL')
  }
  expect(codes(body)).toContain(code)
  return body.errors!.find(e => e.extensions.code === code)!
}

/**
 * Settings for suites that query every field of a type in one document (selectAll): such a document
 * costs far more than any client's query. The cost limit itself is tested in test/graphql.
 */
export const EVERY_FIELD_LIMITS = { GRAPHQL_MAX_COST: '5000000' }
