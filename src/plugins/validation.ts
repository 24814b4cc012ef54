import type { AnySchema } from 'ajv'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { makeAjv } from '../lib/validate.js'

/**
 * Bodies are validated strictly: no type coercion, no silent removal of unknown fields (they fail).
 * Query strings and params arrive as text, so those coerce ("limit=20" is a number).
 */
export default fp(
  async function validationPlugin(app: FastifyInstance) {
    const body = makeAjv(false)
    const text = makeAjv(true)
    app.setValidatorCompiler(({ schema, httpPart }) =>
      httpPart === 'body' ? body.compile(schema as AnySchema) : text.compile(schema as AnySchema)
    )
  },
  { name: 'validation' }
)
