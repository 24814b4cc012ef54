import type { ModuleManifest } from '../manifest.js'
import { incidentLoaders, incidentResolvers } from './incidents.resolvers.js'
import incidentRoutes from './incidents.routes.js'

/** Incidents: the ticket core as it is (their problem link comes from the problems module). */
export const incidentsManifest: ModuleManifest = {
  name: 'incidents',
  routes: [incidentRoutes],
  graphql: { resolvers: [incidentResolvers], loaders: [incidentLoaders] }
}
