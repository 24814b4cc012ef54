import type { WorkerJob } from '../../jobs/job.js'
import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { templateResolvers } from './notification-templates.resolvers.js'
import templateRoutes from './notification-templates.routes.js'
import { createTemplateService, type TemplateService } from './notification-templates.service.js'
import { notificationResolvers } from './notifications.resolvers.js'
import notificationRoutes from './notifications.routes.js'
import { createNotificationService, type NotificationService } from './notifications.service.js'
import { organisationContactResolvers } from './organisation-contacts.resolvers.js'
import organisationContactRoutes from './organisation-contacts.routes.js'
import { createOrganisationContactService, type OrganisationContactService } from './organisation-contacts.service.js'
import { outboxSubscriber } from './outbox.js'
import { preferenceResolvers } from './preferences.resolvers.js'
import preferenceRoutes from './preferences.routes.js'
import { createPreferenceService, type PreferenceService } from './preferences.service.js'
import { ruleResolvers } from './rules.resolvers.js'
import ruleRoutes from './rules.routes.js'
import { createRuleService, type RuleService } from './rules.service.js'
import { smsBlockResolvers } from './sms-blocks.resolvers.js'
import smsBlockRoutes from './sms-blocks.routes.js'
import { createSmsBlockService, type SmsBlockService } from './sms-blocks.service.js'
import { watcherResolvers } from './watchers.resolvers.js'
import watcherRoutes from './watchers.routes.js'
import { createWatcherService, type WatcherService } from './watchers.service.js'
import { createWebhookService, type WebhookService } from './webhook-subscriptions.service.js'
import { webhookResolvers } from './webhooks.resolvers.js'
import webhookRoutes from './webhooks.routes.js'

declare module '../../lib/ports.js' {
  interface Services {
    notifications: NotificationService
    webhooks: WebhookService
    notificationRules: RuleService
    watchers: WatcherService
    notificationPreferences: PreferenceService
    notificationTemplates: TemplateService
    organisationContacts: OrganisationContactService
    smsBlocks: SmsBlockService
  }
}

/** The outbox dispatcher: its own batched claims, in the scheduler (and in-process when embedded). */
const dispatcher: WorkerJob = {
  name: 'notifications.dispatch',
  worker: true,
  start: deps => deps.services.notifications.startDispatcher()
}

/**
 * Notifications: the transactional outbox (a ticket-writer subscriber, in the create statement
 * itself for creates), the dispatcher, mail and SMS-gateway notifiers, and the admin door.
 */
export const notificationsManifest: ModuleManifest = {
  name: 'notifications',
  provides: [
    provide(['notifications'], ['ciLinkPort'], deps => ({
      notifications: createNotificationService(deps, { ciLinks: deps.ciLinkPort })
    })),
    provide(['webhooks'], [], deps => ({ webhooks: createWebhookService(deps) })),
    provide(['notificationRules'], [], deps => ({ notificationRules: createRuleService(deps) })),
    provide(['watchers'], ['tickets'], deps => ({ watchers: createWatcherService(deps) })),
    provide(['notificationPreferences'], [], deps => ({ notificationPreferences: createPreferenceService(deps) })),
    provide(['notificationTemplates'], [], deps => ({ notificationTemplates: createTemplateService(deps) })),
    provide(['organisationContacts'], [], () => ({ organisationContacts: createOrganisationContactService() })),
    provide(['smsBlocks'], [], deps => ({ smsBlocks: createSmsBlockService(deps) }))
  ],
  routes: [
    notificationRoutes,
    ruleRoutes,
    webhookRoutes,
    watcherRoutes,
    preferenceRoutes,
    templateRoutes,
    organisationContactRoutes,
    smsBlockRoutes
  ],
  graphql: {
    resolvers: [
      notificationResolvers,
      ruleResolvers,
      webhookResolvers,
      watcherResolvers,
      preferenceResolvers,
      templateResolvers,
      organisationContactResolvers,
      smsBlockResolvers
    ]
  },
  jobs: [dispatcher],
  tickets: ({ config }) => ({ subscribers: [outboxSubscriber(config.NOTIFY_MAX_ATTEMPTS)] })
}
