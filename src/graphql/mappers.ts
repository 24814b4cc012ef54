/**
 * The service rows some GraphQL object types stand for, where a resolver or loader reads a row's own
 * columns (codegen.ts maps those types here). Modules register their rows in their manifests, as they
 * register their services:
 *   declare module '../../graphql/mappers.js' { interface GraphqlRows { Team: TeamView } }
 * so the generated types name no module and src/graphql stays below the modules.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the modules' declarations
export interface GraphqlRows {}

type RowOf<K extends string> = K extends keyof GraphqlRows ? GraphqlRows[K] : never

export type TeamRow = RowOf<'Team'>
export type TeamLayerRow = RowOf<'TeamLayer'>
export type CategoryRow = RowOf<'Category'>
export type TicketTemplateRow = RowOf<'TicketTemplate'>
export type ConfigurationItemRow = RowOf<'ConfigurationItem'>
export type CiRelationshipRow = RowOf<'CiRelationship'>
/**
 * A ticket of any kind as the ticket core hands it out: its view (REST's embedded `{ id, displayName }`
 * summaries included, which GraphQL's loaders replace), plus the kind's own detail columns that the
 * kind's hooks merge in (a release's managerId, a change's risk): those are typed by the kind's loaders.
 */
// biome-ignore lint/suspicious/noExplicitAny: kind detail columns vary by kind; each kind's loaders type them
export type TicketRow = Partial<RowOf<'Ticket'>> & Partial<TicketDetailColumns> & Record<string, any>

/** Detail columns a kind merges into its tickets that its loaders read by name (registered by the kind). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the kinds' declarations
export interface TicketDetailColumns {}
