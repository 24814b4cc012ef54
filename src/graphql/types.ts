import type { Args, GqlCtx } from '../lib/graphql.js'
import type { Resolvers as Generated } from './generated.js'

/**
 * mercurius takes an interface's type resolver as `resolveType` and an object's as `isTypeOf`
 * (graphql-codegen calls them __resolveType and __isTypeOf); we use no isTypeOf.
 */
type MercuriusType<R> = R extends { __resolveType: infer F }
  ? Omit<R, '__resolveType'> & { resolveType: F }
  : Omit<R, '__isTypeOf'>

/** Resolvers by type and field as schema.graphql declares them, parents and answers mapped to our rows. */
export type Resolvers = { [T in keyof Generated]?: MercuriusType<NonNullable<Generated[T]>> }

type FieldResolver<R> = Extract<R, (...args: never[]) => unknown>

/**
 * A mercurius loader for one field: the batch of parents (and each one's arguments) in, one answer per
 * parent out, in order; an Error in the answer fails that field only. Parent and answer are the types
 * the generated resolver of the same field takes and returns.
 */
export type LoaderOf<R> =
  FieldResolver<R> extends (parent: infer P, args: infer A, ...rest: never[]) => infer Out
    ? (queries: { obj: P; params: A & Args }[], context: GqlCtx) => Promise<(Awaited<Out> | Error)[]>
    : never

/** Loaders by object type and field, checked against schema.graphql like the resolvers. */
export type Loaders = {
  [T in Exclude<keyof Resolvers, 'Query' | 'Mutation'>]?: {
    [F in keyof NonNullable<Resolvers[T]>]?: LoaderOf<NonNullable<Resolvers[T]>[F]>
  }
}
