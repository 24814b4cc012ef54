import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { incidentProblemHooks, problemModule } from './problems.hooks.js'
import { problemLoaders, problemResolvers } from './problems.resolvers.js'
import problemRoutes from './problems.routes.js'
import { createProblemService, type ProblemService } from './problems.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    problems: ProblemService
  }
}

/**
 * Problems: root cause, workaround, known errors, and the incidents they cause. Incidents show the
 * problem they are caused by (one indexed query per page), so this module gives the incident hooks too.
 */
export const problemsManifest: ModuleManifest = {
  name: 'problems',
  provides: [provide(['problems'], ['tickets', 'links'], deps => ({ problems: createProblemService(deps) }))],
  routes: [problemRoutes],
  graphql: { resolvers: [problemResolvers], loaders: [problemLoaders] },
  tickets: ({ db, tickets, workflows }) => {
    const problem = problemModule({ db, tickets, workflows })
    return {
      kinds: { problem: problem.hooks, incident: incidentProblemHooks(db) },
      subscribers: [problem.subscriber]
    }
  }
}
