import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Database } from '../db/client.js'
import { createServices, type Services } from '../services.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
    /** Where reports read: the read replica's pool, or `database` itself when there is none. */
    readDatabase: Database
    services: Services
  }
}

export default fp(
  async function servicesPlugin(
    app: FastifyInstance,
    opts: { config: Config; database: Database; readDatabase?: Database | undefined }
  ) {
    const readDatabase = opts.readDatabase ?? opts.database
    app.decorate('config', opts.config)
    app.decorate('database', opts.database)
    app.decorate('readDatabase', readDatabase)
    app.decorate(
      'services',
      createServices({ db: opts.database.db, readDb: readDatabase.db, config: opts.config, log: app.log })
    )
  },
  { name: 'services' }
)
