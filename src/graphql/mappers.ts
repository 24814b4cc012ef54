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
