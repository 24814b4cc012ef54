import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

// The same suites run on the embedded PGlite always, and on PostgreSQL when TEST_DATABASE_URL is set.
const drivers = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['pg'] : [])]

// Node resolves `graphql` to its CommonJS build for our ESM code and for mercurius alike; Vite would
// pick the .mjs build, giving two graphql instances whose types and errors do not recognise each other.
const graphqlAlias = [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }]

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Migrates one template database per driver for the whole run (test/helpers/db.ts copies it)
    globalSetup: ['./test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: drivers.map(driver => ({
      resolve: { alias: graphqlAlias },
      test: {
        name: driver,
        include: ['test/**/*.test.ts'],
        env: { TEST_DB_DRIVER: driver },
        testTimeout: 30_000,
        hookTimeout: 120_000
      }
    }))
  }
})
