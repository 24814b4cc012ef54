import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Database } from '../db/client.js'
import { createServices, type Services } from '../services.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
    services: Services
  }
}

export default fp(
  async function servicesPlugin(app: FastifyInstance, opts: { config: Config; database: Database }) {
    app.decorate('config', opts.config)
    app.decorate('database', opts.database)
    app.decorate('services', createServices({ db: opts.database.db, config: opts.config, log: app.log }))
  },
  { name: 'services' }
)
