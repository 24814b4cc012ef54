import { defineConfig } from 'vitest/config'

// The same suites run on the embedded PGlite always, and on PostgreSQL when TEST_DATABASE_URL is set.
const drivers = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['pg'] : [])]

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: drivers.map(driver => ({
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
