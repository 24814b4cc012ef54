import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { openDatabase } from './db/client.js'

/** The REST contract as YAML, generated from the route schemas of a fully built app. */
export async function generateOpenapi(): Promise<string> {
  const database = await openDatabase({ memory: true })
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent' }), database, logger: false })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
    await database.close()
  }
}
