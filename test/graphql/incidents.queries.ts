/** GraphQL documents shared by the incident tests. */
export const CREATE = `mutation($input: CreateIncidentInput!, $key: String) {
  createIncident(input: $input, idempotencyKey: $key) { id number title status version } }`
export const NODE = 'id number title status priority category version teamId layer assigneeId'
export const LIST = `query($status: [String!], $priority: [Int!], $q: String, $category: String, $sort: String,
  $first: Int, $after: String) {
  incidents(status: $status, priority: $priority, q: $q, category: $category, sort: $sort, first: $first, after: $after) {
    edges { cursor node { ${NODE} } } pageInfo { hasNextPage endCursor } } }`
export const ASSIGN = `mutation($id: ID!, $input: AssignTicketInput!, $version: Int) {
  assignIncident(id: $id, input: $input, version: $version) { ${NODE} } }`
export const TRANSITION = `mutation($id: ID!, $input: TransitionTicketInput!) {
  transitionIncident(id: $id, input: $input) { ${NODE} resolution resolvedAt } }`
export const NOTE = `mutation($id: ID!, $body: String!, $internal: Boolean) {
  addIncidentNote(id: $id, input: { body: $body, internal: $internal }) { id internal body authorId } }`
export const READ = `query($id: ID!) { incident(id: $id) { ${NODE} allowedTransitions
  notes { edges { node { body internal } } } history { edges { node { action actor changes { field new } } } } } }`
