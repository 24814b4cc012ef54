import type { Resolvers } from '../../graphql/types.js'
import { type Args, defined, type GqlCtx } from '../../lib/graphql.js'
import { check } from '../../lib/validate.js'
import { adminResolvers } from '../admin/admin-resolvers.js'
import { PreviewBody, TemplateBody, TemplateListQuery, TemplatePatch } from './notification-templates.schemas.js'
import { templateKeyset } from './notification-templates.service.js'

/** GraphQL door to notification template overrides and their preview: same schemas, same service as REST. */
export function templateResolvers(): Resolvers {
  const admin = adminResolvers({
    service: services => services.notificationTemplates,
    names: {
      get: 'notificationTemplate',
      list: 'notificationTemplates',
      create: 'createNotificationTemplate',
      update: 'updateNotificationTemplate',
      remove: 'deleteNotificationTemplate'
    },
    listQuery: TemplateListQuery,
    create: TemplateBody,
    patch: TemplatePatch,
    clearable: ['html'],
    cursorOf: templateKeyset.cursorOf
  })
  return {
    ...admin,
    Query: {
      ...(admin.Query as Record<string, unknown>),
      previewNotificationTemplate: async (_: unknown, args: Args, { ctx, services }: GqlCtx) =>
        services.notificationTemplates.preview(ctx, check<never>(PreviewBody, defined(args.input as Args), 'input'))
    }
  }
}
