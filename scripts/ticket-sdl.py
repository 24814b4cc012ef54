"""Development aid: prints the GraphQL SDL of one ticket kind (shared fields + its own), so the five
ticket types in schema.graphql stay in step. Usage: python3 scripts/ticket-sdl.py Incident incident incidents"""
import sys

COMMON = '''  id: ID!
  kind: TicketKind!
  "Human number, e.g. INC-000123"
  number: String!
  title: String!
  description: String!
  "A status of this kind's workflow (see workflow(kind))"
  status: String!
  "1 high, 2 medium, 3 low"
  impact: Int!
  urgency: Int!
  "1 (critical) to 5 (planning), from impact x urgency"
  priority: Int!
  category: String
  categoryId: ID
  requesterId: ID!
  requester: User
  organisationId: ID
  organisation: Organisation
  teamId: ID
  team: Team
  layer: Int
  assigneeId: ID
  assignee: User
  createdById: ID!
  createdBy: User
  resolutionCode: String
  resolution: String
  "Admin-defined fields of this kind, by key"
  customFields: JSON!
  version: Int!
  createdAt: DateTime!
  updatedAt: DateTime!
  resolvedAt: DateTime
  closedAt: DateTime
  "Statuses you may move this ticket to"
  allowedTransitions: [String!]!
  notes(first: Int, after: String): NoteConnection!
  history(first: Int, after: String): HistoryConnection!
  "Links to other tickets, read from this end (caused_by, causes, related_to, duplicate_of, duplicated_by, child_of, parent_of)"
  links: [TicketLink!]!
'''

LIST_ARGS = '''    "RSQL/FIQL over built-in and custom fields, e.g. status=in=(new,assigned);priority=le=2;customFields.site==Leeds"
    filter: String
    "Adds totalCount: the exact number of matches"
    includeTotal: Boolean
    status: [String!]
    priority: [Int!]
    impact: Int
    urgency: Int
    category: String
    categoryId: ID
    teamId: ID
    layer: Int
    assigneeId: ID
    requesterId: ID
    organisationId: ID
    createdFrom: DateTime
    createdTo: DateTime
    updatedFrom: DateTime
    updatedTo: DateTime
    "Full text over title, description and notes"
    q: String
    "createdAt, updatedAt, priority, number or customFields.<key>; a leading - sorts descending (default -createdAt)"
    sort: String
    first: Int
    after: String'''

def kind(type_name, field, plural, extra_fields='', create_extra='', update_extra=''):
    stem = field[0].upper() + field[1:]
    return f'''type {type_name} implements Ticket {{
{COMMON}{extra_fields}}}

type {type_name}Edge {{
  node: {type_name}!
  cursor: String!
}}

type {type_name}Connection {{
  edges: [{type_name}Edge!]!
  pageInfo: PageInfo!
  "Present when includeTotal: true"
  totalCount: Int
}}

input Create{stem}Input {{
  title: String!
  description: String
  impact: Int
  urgency: Int
  category: String
  categoryId: ID
  requesterId: ID
  teamId: ID
  layer: Int
  assigneeId: ID
  customFields: JSON
  "A template of this kind that prefills what you leave out"
  templateId: ID
{create_extra}}}

input Update{stem}Input {{
  title: String
  description: String
  impact: Int
  urgency: Int
  "null clears"
  category: String
  "null clears"
  categoryId: ID
  requesterId: ID
  "Keys to set; a null value clears a field that is not required"
  customFields: JSON
{update_extra}}}

extend type Query {{
  {field}(id: ID!): {type_name}
  {plural}(
{LIST_ARGS}
  ): {type_name}Connection!
}}

extend type Mutation {{
  "Idempotency-Key header or argument: a retry answers the first result"
  create{stem}(input: Create{stem}Input!, idempotencyKey: String): {type_name}!
  "version is the one you read (optimistic locking)"
  update{stem}(id: ID!, version: Int!, input: Update{stem}Input!): {type_name}!
  assign{stem}(id: ID!, input: AssignTicketInput!, version: Int): {type_name}!
  transition{stem}(id: ID!, input: TransitionTicketInput!, version: Int): {type_name}!
  add{stem}Note(id: ID!, input: NoteInput!): Note!
}}
'''

if __name__ == '__main__':
    print(kind(*sys.argv[1:4]))
