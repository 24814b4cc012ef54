import type { Resolvers } from '../../graphql/types.js'
import { type Args, type GqlCtx, Id } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers, mergeResolvers } from '../admin/admin-resolvers.js'
import { type WebhookView, webhookCursor } from './webhook-subscriptions.service.js'
import { WebhookBody, WebhookListQuery, WebhookPatch } from './webhooks.schemas.js'

/** GraphQL door to webhook subscriptions: same schemas, same service as REST. */
export function webhookResolvers(): Resolvers {
  return mergeResolvers(
    adminResolvers({
      service: services => services.webhooks,
      names: {
        get: 'webhookSubscription',
        list: 'webhookSubscriptions',
        create: 'createWebhookSubscription',
        update: 'updateWebhookSubscription',
        remove: 'deleteWebhookSubscription'
      },
      listQuery: WebhookListQuery,
      create: WebhookBody,
      patch: WebhookPatch,
      clearable: ['filter'],
      cursorOf: (row: WebhookView) => webhookCursor(row)
    }),
    {
      Mutation: {
        rotateWebhookSubscription: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
          services.webhooks.rotate(ctx, check<string>(Id, args.id, 'id'))
      }
    }
  )
}
