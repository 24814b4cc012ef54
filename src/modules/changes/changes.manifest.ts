import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { changeEventsSubscriber } from './changes.events.js'
import { changeHooks } from './changes.hooks.js'
import { changeLoaders, changeResolvers } from './changes.resolvers.js'
import changeRoutes from './changes.routes.js'
import { type ChangeService, createChangeService } from './changes.service.js'
import { freezeLoaders, freezeResolvers } from './freezes.resolvers.js'
import freezeRoutes from './freezes.routes.js'
import { createFreezeService, type FreezeService } from './freezes.service.js'
import changeFromProblemRoutes from './from-problem.routes.js'
import { policyLoaders, policyResolvers } from './policies.resolvers.js'
import policyRoutes from './policies.routes.js'
import { createPolicyService, type PolicyService } from './policies.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    changes: ChangeService
    changeFreezes: FreezeService
    changePolicies: PolicyService
  }
}

/** Changes: types, approval policies, freeze windows, the calendar, a change raised from a problem. */
export const changesManifest: ModuleManifest = {
  name: 'changes',
  provides: [
    provide(['changes'], ['tickets', 'links', 'workflows'], deps => ({ changes: createChangeService(deps) })),
    provide(['changeFreezes', 'changePolicies'], [], deps => ({
      changeFreezes: createFreezeService(deps),
      changePolicies: createPolicyService(deps)
    }))
  ],
  routes: [changeRoutes, changeFromProblemRoutes, freezeRoutes, policyRoutes],
  graphql: {
    resolvers: [changeResolvers, freezeResolvers, policyResolvers],
    loaders: [changeLoaders, freezeLoaders, policyLoaders]
  },
  tickets: ({ config }) => ({
    kinds: { change: changeHooks() },
    subscribers: [changeEventsSubscriber(config.NOTIFY_MAX_ATTEMPTS)]
  })
}
