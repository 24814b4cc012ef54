import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { finishDocument, graphqlRouteDoc } from './openapi-document.js'

export const openapiInfo = {
  title: 'Servicedesk API',
  version: '1.0.0',
  contact: { name: 'Servicedesk API maintainers' },
  description:
    'Headless ITSM server. All times are UTC ISO-8601; ids are UUIDs; lists page with `limit` and `cursor`; errors are RFC 9457 problem+json.'
}

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json with interactive docs at /docs. */
export default fp(
  async function docsPlugin(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: openapiInfo,
        servers: [{ url: '/' }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Session token or API token' } }
        },
        security: [{ bearer: [] }]
      },
      // mercurius's /graphql routes carry no answers: document them from our own schema
      transform: ({ schema, url, route }) =>
        url === '/graphql'
          ? { schema: { ...schema, ...graphqlRouteDoc(String(route.method), app.config.GRAPHQL_MAX_BATCH) }, url }
          : { schema, url },
      transformObject: doc => ('openapiObject' in doc ? finishDocument(doc.openapiObject) : doc.swaggerObject),
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) }
    })
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
    if (app.config.PUBLIC_DOCS) await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'docs', dependencies: ['services'] }
)
