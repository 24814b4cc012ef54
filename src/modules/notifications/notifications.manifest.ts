import type { WorkerJob } from '../../jobs/job.js'
import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { notificationResolvers } from './notifications.resolvers.js'
import notificationRoutes from './notifications.routes.js'
import { createNotificationService, type NotificationService } from './notifications.service.js'
import { outboxSubscriber } from './outbox.js'

declare module '../../lib/ports.js' {
  interface Services {
    notifications: NotificationService
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
  provides: [provide(['notifications'], [], deps => ({ notifications: createNotificationService(deps) }))],
  routes: [notificationRoutes],
  graphql: { resolvers: [notificationResolvers] },
  jobs: [dispatcher],
  tickets: ({ config }) => ({ subscribers: [outboxSubscriber(config.NOTIFY_MAX_ATTEMPTS)] })
}
