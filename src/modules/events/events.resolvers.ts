import type { Loaders, Resolvers } from '../../graphql/types.js'
import { toConnection } from '../../lib/connection.js'
import { type Args, defined, type GqlCtx, Id, nullsKept, pageArgs, paged } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, adminSettingsResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import { ticketsBy } from '../tickets/tickets.resolvers.js'
import {
  type AlertListInput,
  AlertListQuery,
  type EventListInput,
  EventListQuery,
  EventSettingsBody,
  type EventSettingsInput,
  RoutingRuleBody,
  RoutingRulePatch,
  RuleListQuery
} from './events.schemas.js'
import { routingRuleKeyset } from './routing-rules.service.js'

const id = (v: unknown, field = 'id') => check<string>(Id, v, field)

/** Nested input objects lose the nulls GraphQL sends for omitted optionals, like the top level. */
const nested = (input: Args, ...fields: string[]) => {
  const out = { ...input }
  for (const f of fields) {
    const v = out[f]
    if (v && typeof v === 'object' && !Array.isArray(v)) out[f] = defined(v as Args)
  }
  return out
}

/** One generic event as REST receives it: omitted optionals absent, not null (the service checks the rest). */
const eventItem = (item: unknown) => nested(defined(item as Args), 'ci')

/** Event settings: the keyed-settings door (a singleton); null clears defaultTeamId, nested nulls are "not given". */
const settingsResolvers = adminSettingsResolvers({
  service: services => ({
    get: ctx => services.eventSettings.get(ctx),
    set: (ctx, _key, input: EventSettingsInput, version) => services.eventSettings.set(ctx, input, version)
  }),
  names: { get: 'eventSettings', set: 'setEventSettings' },
  body: EventSettingsBody,
  input: input => nested(nullsKept(input, ['defaultTeamId']), 'severityPriority')
})

/** Routing rules: the admin-resource door; `match` loses its nulls as the top level does. */
const routingRuleResolvers = adminResolvers({
  service: services => services.eventRoutingRules,
  names: {
    get: 'eventRoutingRule',
    list: 'eventRoutingRules',
    create: 'createEventRoutingRule',
    update: 'updateEventRoutingRule',
    remove: 'deleteEventRoutingRule'
  },
  listQuery: RuleListQuery,
  create: RoutingRuleBody,
  patch: RoutingRulePatch,
  clearable: ['teamId', 'impact', 'urgency'],
  cursorOf: routingRuleKeyset.cursorOf,
  shape: input => nested(input, 'match')
})

/** GraphQL door to monitoring events: the same schemas and service functions as REST. */
export function eventResolvers(): Resolvers {
  return mergeResolvers(routingRuleResolvers, settingsResolvers, {
    Query: {
      events: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<EventListInput>(EventListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.events.list(ctx, query), services.events.eventCursor)
      }),
      event: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.events.get(ctx, id(args.id)),
      alerts: paged(async (_: unknown, args: Args, { ctx, services }: GqlCtx) => {
        const { first, after, ...rest } = args
        const query = check<AlertListInput>(AlertListQuery, defined({ ...rest, ...pageArgs({ first, after }) }))
        return toConnection(await services.events.alerts(ctx, query), services.events.alertCursor)
      }),
      alert: async (_: unknown, args: Args, { ctx, services }: GqlCtx) => services.events.alert(ctx, id(args.id))
    },
    Mutation: {
      postEvents: async (_: unknown, args: Args, { ctx, services, idempotencyKey }: GqlCtx) => {
        const key = (args.idempotencyKey as string | null | undefined) ?? idempotencyKey
        const events = (args.events as unknown[]).map(eventItem)
        const result = await services.events.post(ctx, events, key ?? undefined)
        return { ...result.body, replayed: result.replayed }
      }
    }
  })
}

export function eventLoaders(): Loaders {
  return {
    Alert: { incident: ticketsBy('incidentId') }
  }
}
