import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import { WebhookBody, WebhookListQuery, WebhookPatch, WebhookView } from './webhooks.schemas.js'

const tags = ['notifications']

/** REST door to outbound webhook subscriptions (admins). */
export default async function webhookRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  adminRoutes(base, {
    path: '/webhook-subscriptions',
    tags,
    view: WebhookView,
    listQuery: WebhookListQuery,
    create: WebhookBody,
    patch: WebhookPatch,
    summary: {
      list: 'List webhook subscriptions, by name (admin)',
      create: 'Subscribe a URL to events (admin); the answer carries the signing secret, shown once',
      get: 'Get a webhook subscription (admin; never the secret)',
      update: 'Update a webhook subscription (admin); enabling it again restarts its failure clock',
      remove: 'Delete a webhook subscription (admin)'
    },
    description: {
      create:
        'Deliveries follow Standard Webhooks: headers webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body> keyed with the base64 part of the secret). Private, loopback and link-local targets are refused; redirects are not followed. A subscription failing for a day is disabled and its owner told.'
    },
    service: app => app.services.webhooks
  })

  app.post(
    '/webhook-subscriptions/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Give the subscription a new signing secret, shown once (admin)',
        params: IdParams,
        response: { 200: WebhookView, ...errorResponses(403, 404) }
      }
    },
    async request => app.services.webhooks.rotate(request.ctx(), request.params.id)
  )
}
