import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../lib/schemas.js'
import { ImportBody, ImportReport } from './import.schemas.js'

/** REST door to the discovery import. */
export default async function importRoutes(base: FastifyInstance) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  app.post(
    '/cis/import',
    {
      bodyLimit: app.config.CMDB_IMPORT_BODY_LIMIT_BYTES,
      schema: {
        tags: ['cmdb'],
        summary:
          'Import discovered CIs (admin or a cmdb:import token): created, updated, unchanged or conflict per item',
        description:
          'Items are identified by the source key, then serial + UUID, serial, UUID, MAC, FQDN, name + class; placeholder ' +
          'values never identify. mode=atomic (default) answers 422 naming items.<index>.<field> and writes nothing when ' +
          'any item fails; mode=partial writes the good items. dryRun=true answers the same report and writes nothing.',
        body: ImportBody,
        response: { 200: ImportReport, ...errorResponses(403, 413, 422) }
      }
    },
    async request => app.services.ciImport.importCis(request.ctx(), request.body)
  )
}
