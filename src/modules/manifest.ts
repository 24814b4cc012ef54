import type { FastifyInstance } from 'fastify'
import type { Loaders, Resolvers } from '../graphql/types.js'
import type { Job } from '../jobs/job.js'
import type { Deps } from '../lib/context.js'
import type { Provider, Services } from '../lib/ports.js'
import type { TicketKind } from './kinds/kinds.js'
import type { KindHooks } from './tickets/tickets.ports.js'
import type { TicketSubscriber } from './tickets/tickets.writer.js'

/** What a module adds to the ticket core once every service is built. */
export interface TicketPlugs {
  /** The kind hooks this module contributes (one module per kind). */
  kinds?: Partial<Record<TicketKind, KindHooks>>
  /** Subscribers of the ticket writer: they see every change, in its transaction, in list order. */
  subscribers?: TicketSubscriber[]
}

/**
 * A module declares itself here, and src/modules/index.ts lists the manifests: the service assembly
 * (src/services.ts), the app (REST routes), the GraphQL plugin and the job list iterate over them, so
 * adding a module is writing its manifest and adding one line to that list.
 */
export interface ModuleManifest {
  /** The folder name under src/modules. */
  name: string
  /** Services and ports, each built from the ports it needs (src/lib/ports.ts orders and checks them). */
  provides?: readonly Provider[]
  /** REST route plugins, registered under /api/v1 in list order (the order openapi.yaml lists them). */
  routes?: readonly ((app: FastifyInstance) => Promise<void>)[]
  /** The schema part is the module's `*.graphql` files beside its resolvers (src/graphql/assemble.ts). */
  graphql?: {
    /** Merged type by type and field with every other module's (a field defined twice fails at start). */
    resolvers?: readonly (() => Resolvers)[]
    loaders?: readonly (() => Loaders)[]
  }
  /** Jobs the scheduler runs (periodic or queue jobs), as data. */
  jobs?: readonly Job[]
  /** Kind hooks and writer subscribers, built from the finished services. */
  tickets?: (services: Deps & Services) => TicketPlugs
}
