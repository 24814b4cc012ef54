import {
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  GraphQLIncludeDirective,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  isListType,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
  visit
} from 'graphql'

/**
 * Query shape limits of our own where the packaged ones fall short: depth that leaves introspection
 * out (the standard introspection query is 15 deep), and a cost computed from the argument values the
 * resolvers will really see (variables included) rather than the literals in the text.
 */

/** A request refused before anything ran: the formatter answers each error, with this status. */
export class GraphqlRefused extends Error {
  readonly statusCode: number
  constructor(
    readonly errors: GraphQLError[],
    statusCode = 400,
    readonly code = 'GRAPHQL_VALIDATION_FAILED'
  ) {
    super(errors.map(e => e.message).join('; '))
    this.statusCode = statusCode
  }
}

const isIntrospection = (name: string) => name === '__schema' || name === '__type'

/**
 * Depth per operation, named fragments counted as if written inline; `__schema` and `__type` are left
 * out (their depth is the schema's, and introspection is switched on or off as a whole).
 */
export function maxDepthRule(limit: number) {
  return (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      const fragments = new Map<string, FragmentDefinitionNode>()
      for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
      const memo = new Map<string, number>()
      const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
        let max = 0
        for (const s of set?.selections ?? []) {
          if (s.kind === Kind.FIELD) {
            if (isIntrospection(s.name.value)) continue
            max = Math.max(max, 1 + depthOf(s.selectionSet, seen))
          } else if (s.kind === Kind.INLINE_FRAGMENT) {
            max = Math.max(max, 1 + depthOf(s.selectionSet, seen))
          } else {
            const name = s.name.value
            if (seen.has(name)) continue // a cycle: another rule reports it
            let d = memo.get(name)
            if (d === undefined) {
              d = depthOf(fragments.get(name)?.selectionSet, new Set([...seen, name]))
              memo.set(name, d)
            }
            max = Math.max(max, d)
          }
        }
        return max
      }
      for (const d of document.definitions) {
        if (d.kind !== Kind.OPERATION_DEFINITION) continue
        const depth = depthOf(d.selectionSet, new Set())
        if (depth > limit) {
          const name = d.name?.value ?? 'unnamedQuery'
          context.reportError(
            new GraphQLError(`${name} query depth (${depth}) exceeds the query depth limit of ${limit}`, { nodes: d })
          )
        }
      }
      return false
    }
  })
}

/** Page sizes the resolvers apply (DESIGN: limit default 50, max 500). */
export const DEFAULT_PAGE = 50
export const MAX_PAGE = 500
/** A list field without paging arguments (links, approvals, team layers): assumed this long. */
export const UNPAGED_LIST = 10

/**
 * The cost of the operation a request will run: every object a resolver produces counts 1 (scalars
 * and enums 0), multiplied by the length of each list it sits in. A list's length is its page size:
 * `first` (or `limit`) as resolved, variables included, capped at 500, default 50; a connection's
 * page size applies to its `edges`/`nodes`. Other lists count 10. Introspection fields cost nothing.
 * Answers 0 when the operation or its variables are wrong (execution reports those).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  rawVariables: Record<string, unknown> | undefined
): number {
  const operation = getOperationAST(document, operationName)
  if (!operation) return 0
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {})
  if (coerced.errors) return 0
  const variables = coerced.coerced
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const root = schema.getRootType(operation.operation)
  if (!root) return 0

  const included = (node: FieldNode | { directives?: FieldNode['directives'] }) => {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, variables)
    if (skip?.if === true) return false
    const include = getDirectiveValues(GraphQLIncludeDirective, node, variables)
    return include?.if !== false
  }

  const pageSize = (args: Record<string, unknown>, defined: Set<string>): number | null => {
    for (const name of ['first', 'limit']) {
      if (!defined.has(name)) continue
      const v = args[name]
      const n = typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : DEFAULT_PAGE
      return Math.max(0, Math.min(n, MAX_PAGE))
    }
    return null
  }

  const costOf = (
    typeName: string,
    set: SelectionSetNode | undefined,
    inheritedPage: number | null,
    seen: Set<string>
  ): number => {
    const type = schema.getType(typeName)
    if (!set || !type || !isCompositeType(type)) return 0
    let total = 0
    for (const s of set.selections) {
      if (!included(s)) continue
      if (s.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(s.typeCondition?.name.value ?? typeName, s.selectionSet, inheritedPage, seen)
        continue
      }
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value)
        if (!f || seen.has(s.name.value)) continue
        total += costOf(f.typeCondition.name.value, f.selectionSet, inheritedPage, new Set([...seen, s.name.value]))
        continue
      }
      const name = s.name.value
      if (name.startsWith('__')) continue // __typename, and introspection (bounded by the schema)
      const def = 'getFields' in type ? type.getFields()[name] : undefined // a union has only __typename
      if (!def) continue
      let args: Record<string, unknown> = {}
      try {
        args = getArgumentValues(def, s, variables)
      } catch {
        // a bad argument fails its field at execution
      }
      const own = pageSize(args, new Set(def.args.map(a => a.name)))
      const named = getNamedType(def.type)
      const list = isListType(getNullableType(def.type))
      const times = list ? (own ?? inheritedPage ?? UNPAGED_LIST) : 1
      const self = isCompositeType(named) ? 1 : 0
      const children = costOf(named.name, s.selectionSet, list ? null : own, seen)
      total += times * (self + children)
    }
    return total
  }
  return costOf(root.name, operation.selectionSet, null, new Set())
}

/** How many operations a document holds. */
export const operationCount = (document: DocumentNode) =>
  document.definitions.reduce((n, d) => n + (d.kind === Kind.OPERATION_DEFINITION ? 1 : 0), 0)

const PAGE_ARGUMENTS = new Set(['first', 'limit'])
const CONDITION_DIRECTIVES = new Set(['skip', 'include'])

/** Whether a variable decides the cost: one in a page size argument or in @skip/@include. */
function costTakesVariables(document: DocumentNode): boolean {
  let found = false
  visit(document, {
    Argument(node) {
      if (PAGE_ARGUMENTS.has(node.name.value) && hasVariable(node.value)) found = true
    },
    Directive(node) {
      if (CONDITION_DIRECTIVES.has(node.name.value) && node.arguments?.some(a => hasVariable(a.value))) found = true
    }
  })
  return found
}

function hasVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true
  if (value.kind === Kind.LIST) return value.values.some(hasVariable)
  if (value.kind === Kind.OBJECT) return value.fields.some(f => hasVariable(f.value))
  return false
}

/**
 * `operationCost` remembered per parsed document (mercurius keeps one per query text) and operation,
 * when no variable decides it: the same query with other ids costs the same. A remembered cost is only
 * answered when under the limit, where it and a fresh one (0 for bad variables) are both let through.
 */
export function costCache(schema: GraphQLSchema, limit: number) {
  const known = new WeakMap<DocumentNode, Map<string, number> | null>()
  return (
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown> | undefined
  ) => {
    let costs = known.get(document)
    if (costs === undefined) {
      costs = costTakesVariables(document) ? null : new Map()
      known.set(document, costs)
    }
    const key = operationName ?? ''
    const remembered = costs?.get(key)
    if (remembered !== undefined) return remembered
    const cost = operationCost(schema, document, operationName, variables)
    // Only a cost computed from valid variables (a bad one answers 0) is worth keeping
    if (costs && cost > 0 && cost <= limit) costs.set(key, cost)
    return cost
  }
}
