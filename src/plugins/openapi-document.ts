import { type TSchema, Type } from 'typebox'
import { IF_MATCH_PATTERN } from '../lib/http.js'
import { IDEMPOTENCY_KEY_PATTERN } from '../lib/idempotency.js'

/**
 * The finishing pass over the generated OpenAPI document, in one place so every route gets it without
 * declaring it: operation ids, top-level tags, descriptions, the header rules the server enforces, and
 * the /graphql door (whose routes mercurius registers). `test/contract-openapi.test.ts` and Spectral
 * (`test/contract-spectral.test.ts`) fail, naming the route, when something here does not cover a route.
 */

/** Every tag an operation may carry, with what it groups. A tag missing here fails the contract tests. */
export const TAGS: Record<string, string> = {
  operations: 'Liveness and readiness probes (no authentication)',
  auth: 'Sign in and out, who you are, and the authentication audit',
  users: 'People: agents, customers, integration users; directory sync',
  organisations: 'Customer organisations; a user and their tickets belong to one',
  teams: 'Teams with ordered escalation layers and their members',
  'api-tokens': 'Scoped, long-lived bearer tokens for integrations, with rotation',
  tickets: 'Every ticket kind at once: search, lookup by number, bulk updates',
  incidents: 'Incidents: create, list, read, update, assign, move through the workflow, notes, history, links',
  requests: 'Service requests, with fulfilment tasks and approvals',
  problems: 'Problems and known errors, and the incidents they cause',
  changes: 'Changes with approvals, the change calendar, freezes and approval policies',
  approvals: 'Approval rounds of changes and requests, and your own approval queue',
  releases: 'Releases bundling changes, and their deployments',
  workflows: 'The workflow (statuses and transitions) of each ticket kind, held as data',
  cmdb: 'Configuration items and their relationships',
  'custom-fields': 'Custom-field definitions per ticket kind',
  categories: 'Ticket categories per kind, as a tree',
  templates: 'Ticket templates: preset values for a new ticket',
  services:
    'Service level management: the services of the catalog (owners, hours of cover, subscribers), SLAs and OLAs',
  catalog: 'The service catalog: offerings customers can request',
  calendars: 'Business calendars: working hours, holidays and exceptions, deadlines in business time',
  events: 'Monitoring events and alerts, webhook receivers, event routing and problem detection rules',
  reports: 'Reports computed on read: SLA/OLA compliance and breaches (JSON or CSV)',
  finance:
    'IT financial management: cost centres and budgets, CI costs and exchange rates, cost model, chargeback and reports',
  notifications: 'The notification outbox: deliveries, dead letters, replay and backlog (admin)',
  graphql: 'The GraphQL door: the same capabilities as REST, under the same names'
}

/**
 * Ids the naming convention below does not give: the GraphQL field's name where REST and GraphQL differ
 * in shape, or a verb where the path has none. Keys are `METHOD path` as in the document.
 */
const OPERATION_IDS: Record<string, string> = {
  'POST /api/v1/auth/login': 'login',
  'POST /api/v1/auth/logout': 'logout',
  'POST /api/v1/auth/password': 'changePassword',
  'GET /api/v1/auth/me': 'me',
  'DELETE /api/v1/api-tokens/{id}': 'revokeApiToken',
  'POST /api/v1/tickets/bulk': 'bulkUpdateTickets',
  'DELETE /api/v1/workflows/{kind}': 'resetWorkflow',
  'GET /api/v1/approvals': 'myApprovals',
  'POST /api/v1/changes/{id}/approvals': 'decideChangeApproval',
  'POST /api/v1/requests/{id}/approvals': 'decideRequestApproval',
  'POST /api/v1/problems/{id}/incidents': 'linkIncidentsToProblem',
  'DELETE /api/v1/problems/{id}/incidents/{incidentId}': 'unlinkIncidentFromProblem',
  'POST /api/v1/incidents/{id}/problem': 'createProblemFromIncident',
  'POST /api/v1/problems/{id}/changes': 'createChangeFromProblem',
  'POST /api/v1/cis/{id}/relationships': 'relateCis',
  'DELETE /api/v1/cis/{id}/relationships/{relationshipId}': 'unrelateCis',
  'POST /api/v1/events': 'postEvents',
  'GET /api/v1/custom-fields': 'customFieldDefinitions',
  'POST /api/v1/custom-fields': 'createCustomFieldDefinition',
  'GET /api/v1/custom-fields/{id}': 'customFieldDefinition',
  'PATCH /api/v1/custom-fields/{id}': 'updateCustomFieldDefinition',
  'GET /api/v1/ci-classes/{id}': 'ciClass',
  'POST /api/v1/ci-classes': 'createCiClass',
  'PATCH /api/v1/ci-classes/{id}': 'updateCiClass',
  'DELETE /api/v1/ci-classes/{id}': 'deleteCiClass',
  'POST /api/v1/cis/import': 'importCis',
  'POST /api/v1/slas/simulate': 'simulateSla',
  'GET /api/v1/users/{id}/notification-preferences': 'notificationPreferences',
  'PUT /api/v1/users/{id}/notification-preferences': 'setNotificationPreferences',
  'GET /api/v1/organisations/{id}/notification-contacts': 'organisationNotificationContacts',
  'PUT /api/v1/organisations/{id}/notification-contacts': 'setOrganisationNotificationContacts',
  'POST /api/v1/notification-templates/preview': 'previewNotificationTemplate',
  'GET /api/v1/users/{id}/sms-blocks': 'smsBlocks',
  'DELETE /api/v1/users/{id}/sms-blocks/{phone}': 'clearSmsBlock',
  'GET /graphql': 'graphqlQuery',
  'POST /graphql': 'graphql'
}

/** A last path segment that is an action on what the path names rather than a sub-collection. */
const ACTIONS = new Set(['reclassify', 'replay', 'rotate', 'run', 'sync'])

const isParam = (s: string) => s.startsWith('{')
const camel = (s: string) => s.replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase())
const pascal = (s: string) => {
  const c = camel(s)
  return c.charAt(0).toUpperCase() + c.slice(1)
}
const singular = (s: string) => (s.endsWith('ies') ? `${s.slice(0, -3)}y` : s.endsWith('s') ? s.slice(0, -1) : s)
/** Words ending in s that name one thing (a tool), not a collection. */
const NOT_PLURAL = new Set(['nagios'])
const plural = (s: string) => s.endsWith('s') && !s.endsWith('ss') && !NOT_PLURAL.has(s)
/** The verb for one addressed thing: `{id}` or `/items/{itemId}`. */
const ITEM_VERB: Record<string, string> = { get: '', patch: 'update', put: 'set', delete: 'delete', post: 'post' }
const name = (verb: string, phrase: string) => (verb ? `${verb}${pascal(phrase)}` : camel(phrase))

/**
 * The operation id of `method path` by convention, so a new route is named without declaring anything.
 * The convention is GraphQL's naming: `GET /incidents` → incidents, `GET /incidents/{id}` → incident,
 * `POST /incidents` → createIncident, `PATCH /incidents/{id}` → updateIncident, `PUT /x/{id}` → setX,
 * `DELETE /x/{id}` → deleteX; sub-resources: `GET /incidents/{id}/notes` → incidentNotes, `POST` → addIncidentNote,
 * `POST …/transitions` → transitionIncident, `PUT …/assignment` → assignIncident, `PATCH|DELETE
 * /requests/{id}/tasks/{taskId}` → updateRequestTask|removeRequestTask, actions `POST /api-tokens/{id}/rotate`
 * → rotateApiToken; other static segments `POST /events/zabbix/{source}` → postZabbixEventsBySource.
 * OPERATION_IDS holds the exceptions; a route may also declare `schema.operationId` itself.
 */
export function operationIdFor(method: string, path: string): string {
  const m = method.toLowerCase()
  const declared = OPERATION_IDS[`${method.toUpperCase()} ${path}`]
  if (declared) return declared
  const segs = path
    .replace(/^\/api\/v1/, '')
    .split('/')
    .filter(Boolean)
  const shape = segs.map(s => (isParam(s) ? 'P' : 'S')).join('')
  const [a = '', b = '', c = ''] = segs.map(s => (isParam(s) ? pascal(s.slice(1, -1)) : s))
  switch (shape) {
    case 'S':
      if (m === 'get') return camel(a)
      if (m === 'post') return name('create', singular(a))
      return name(m === 'put' ? 'set' : m === 'patch' ? 'update' : m, a)
    case 'SP':
      return name(ITEM_VERB[m] ?? m, singular(a))
    case 'SS':
      if (m === 'get') return camel(singular(a) + pascal(b))
      if (m === 'post' && ACTIONS.has(b)) return name(b, a)
      if (m === 'post' && plural(b)) return name('create', singular(a) + pascal(singular(b)))
      return name(m, b + pascal(a))
    case 'SSP':
      if (plural(b)) return name(ITEM_VERB[m] ?? m, singular(a) + pascal(singular(b)))
      return name(m, `${b}${pascal(a)}By${c}`)
    case 'SPS': {
      const owner = singular(a)
      if (m === 'get') return camel(owner + pascal(c))
      if (m === 'post' && c === 'transitions') return name('transition', owner)
      if (m === 'put' && c === 'assignment') return name('assign', owner)
      if (m === 'post' && ACTIONS.has(c)) return name(c, owner)
      if (m === 'post' && plural(c)) return name('add', owner + pascal(singular(c)))
      return name({ put: 'set', patch: 'update', delete: 'remove' }[m] ?? m, owner + pascal(c))
    }
    case 'SPSP': {
      const verb = m === 'delete' ? 'remove' : (ITEM_VERB[m] ?? m)
      return name(verb, singular(a) + pascal(singular(segs[2] ?? '')))
    }
    default:
      return name(m, segs.map(s => (isParam(s) ? `By${pascal(s.slice(1, -1))}` : pascal(s))).join(''))
  }
}

const HEADERS: Record<string, Required<Pick<Parameter, 'name' | 'description' | 'schema'>>> = {
  'idempotency-key': {
    name: 'Idempotency-Key',
    description:
      'Makes the request retry-safe: the same key with the same body answers the first result (with `Idempotent-Replayed: true`); with another body 422; while the first is still running 409. 1 to 255 visible ASCII characters, kept at least 24 hours per caller.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN.source }
  },
  'if-match': {
    name: 'If-Match',
    description:
      'The ETag of the version you edit, as answered (`"3"`, weak `W/"3"`; a bare `3` is taken too); a stale one answers 412. Alternative to `version` in the body.',
    schema: { type: 'string', pattern: IF_MATCH_PATTERN.source }
  }
}

const PRECONDITION_REQUIRED = 'Neither If-Match nor `version` was sent: send the ETag (or version) of what you edited'

interface Parameter {
  in: string
  name: string
  description?: string
  schema?: Record<string, unknown>
  required?: boolean
}
interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  parameters?: Parameter[]
  responses?: Record<string, { description?: string }>
}
interface Document {
  tags?: { name: string; description?: string }[]
  paths?: Record<string, Record<string, Operation>>
  [key: string]: unknown
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** `transformObject` of @fastify/swagger: names, tags, descriptions and header rules on every operation. */
export function finishDocument<T extends object>(input: T): T {
  const doc = input as Document
  const used = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue
      op.operationId ??= operationIdFor(method, path)
      if (!op.description && op.summary) op.description = op.summary.endsWith('.') ? op.summary : `${op.summary}.`
      for (const tag of op.tags ?? []) used.add(tag)
      for (const p of op.parameters ?? []) {
        const rule = p.in === 'header' ? HEADERS[p.name.toLowerCase()] : undefined
        if (!rule) continue
        p.name = rule.name
        p.description = rule.description
        p.schema = { ...rule.schema }
      }
      const required = op.responses?.['428']
      if (required) {
        required.description = PRECONDITION_REQUIRED
        if (!op.parameters?.some(p => p.in === 'header' && p.name === 'If-Match')) {
          op.parameters = [
            ...(op.parameters ?? []),
            { ...(HEADERS['if-match'] as Omit<Parameter, 'in'>), in: 'header', required: false }
          ]
        }
      }
    }
  }
  // a tag without a description here is listed bare: Spectral's tag-description names it
  doc.tags = [...used].sort().map(name => (TAGS[name] ? { name, description: TAGS[name] } : { name }))
  return input
}

const GraphqlRequest = Type.Object(
  {
    query: Type.String({ description: 'The GraphQL document (see schema.graphql)' }),
    operationName: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: 'Which operation of the document to run' })
    ),
    variables: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true }))
  },
  { description: 'A GraphQL-over-HTTP request' }
)

const GraphqlError = Type.Object({
  message: Type.String(),
  locations: Type.Optional(Type.Array(Type.Object({ line: Type.Integer(), column: Type.Integer() }))),
  path: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Integer()]))),
  extensions: Type.Optional(
    Type.Object(
      {
        code: Type.String({ description: 'The same codes as the REST problem details (NOT_FOUND, FORBIDDEN, …)' }),
        status: Type.Optional(Type.Integer())
      },
      { additionalProperties: true }
    )
  )
})

const GraphqlResponse = Type.Object(
  {
    data: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])),
    errors: Type.Optional(Type.Array(GraphqlError)),
    extensions: Type.Optional(Type.Object({}, { additionalProperties: true }))
  },
  { description: 'A GraphQL response: data, and errors with extensions.code' }
)

const graphqlAnswer = (description: string, schema: TSchema) => ({
  description,
  content: { 'application/json': { schema } }
})
/** Answered before GraphQL runs: a GraphQL body, or problem details from the HTTP layer (auth, batch length). */
const graphqlOrProblem = (description: string) => ({
  description,
  content: {
    'application/json': { schema: GraphqlResponse },
    'application/problem+json': { schema: Type.Unsafe({ $ref: 'Problem#' }) }
  }
})

/**
 * The schema documenting /graphql (mercurius's own route schema has no answers), for `transform`: the
 * route keeps validating with mercurius's schema; this one only goes into the document.
 */
export function graphqlRouteDoc(method: string, maxBatch: number): Record<string, unknown> {
  const common = {
    tags: ['graphql'],
    operationId: OPERATION_IDS[`${method} /graphql`],
    response: {
      200: graphqlAnswer(
        'Executed: data, and per-field errors with extensions.code (a batch answers one result per operation)',
        method === 'POST' ? Type.Union([GraphqlResponse, Type.Array(GraphqlResponse)]) : GraphqlResponse
      ),
      400: graphqlOrProblem(
        'Refused before anything ran: not valid GraphQL, over a limit (depth, aliases, directives, tokens, cost) or a batch too long'
      ),
      401: graphqlOrProblem('No valid bearer token'),
      413: graphqlAnswer('The body is larger than GRAPHQL_BODY_LIMIT_BYTES', GraphqlResponse)
    }
  }
  if (method === 'GET') {
    return {
      ...common,
      summary: 'Run a GraphQL query (queries only: a mutation over GET answers 405)',
      description:
        'The GraphQL door over GET, for queries only; `operationName` chooses the operation of a document holding several.',
      querystring: Type.Object({
        query: Type.String({ description: 'The GraphQL document' }),
        operationName: Type.Optional(Type.String()),
        variables: Type.Optional(Type.String({ description: 'JSON object of the variables' })),
        extensions: Type.Optional(Type.String({ description: 'JSON object' }))
      }),
      response: {
        ...common.response,
        405: graphqlAnswer('A mutation over GET (use POST)', GraphqlResponse)
      }
    }
  }
  return {
    ...common,
    summary: 'Run a GraphQL query or mutation, or a batch of them',
    description: `The GraphQL door (schema.graphql): one operation, or an array of up to ${maxBatch} run in order. \`operationName\` chooses the operation of a document holding several. Mutations are retry-safe with Idempotency-Key.`,
    headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
    body: Type.Union([GraphqlRequest, Type.Array(GraphqlRequest, { minItems: 1, maxItems: maxBatch })])
  }
}
