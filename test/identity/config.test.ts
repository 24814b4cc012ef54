import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The ConfigError loadConfig throws for this environment (fails the test if it throws nothing). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      DB_POOL_SIZE: 10,
      MIGRATE_ON_START: true,
      LOG_LEVEL: 'info',
      ADMIN_USERNAME: 'admin',
      SESSION_TTL_MINUTES: 480,
      AUTH_CACHE_TTL_MS: 5000,
      LOGIN_RATE_LIMIT_PER_MINUTE: 10,
      BODY_LIMIT_BYTES: 1048576
    })
    expect(config.DATABASE_URL).toBeUndefined()
    expect(config.ADMIN_PASSWORD).toBeUndefined()
  })

  it('reads and converts values, and treats an empty value as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      MIGRATE_ON_START: 'false',
      DATABASE_URL: 'postgresql://u:p@db:5432/sd',
      ADMIN_PASSWORD: 'twelve-chars',
      HOST: '',
      UNRELATED: 'ignored'
    })
    expect(config.PORT).toBe(8080)
    expect(config.MIGRATE_ON_START).toBe(false)
    expect(config.DATABASE_URL).toBe('postgresql://u:p@db:5432/sd')
    expect(config.ADMIN_PASSWORD).toBe('twelve-chars')
    expect(config.HOST).toBe('127.0.0.1')
    expect(config).not.toHaveProperty('UNRELATED')
  })

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['ADMIN_PASSWORD', { ADMIN_PASSWORD: 'short' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['SESSION_TTL_MINUTES', { SESSION_TTL_MINUTES: '0' }],
    ['BODY_LIMIT_BYTES', { BODY_LIMIT_BYTES: '10' }]
  ])('names %s when it is invalid, in one line', (name, env) => {
    const err = configError(env)
    expect(err.message).toContain(name)
    expect(err.message).not.toContain('\n')
    expect(err.message).not.toContain('env/')
  })

  it('does not name variables that are fine', () => {
    const err = configError({ PORT: 'abc', HOST: 'example.org' })
    expect(err.message).not.toContain('HOST')
  })
})

describe('server entry', () => {
  it('exits with code 1 and one stderr line naming PORT when PORT is not a number', async () => {
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TEST_')) env[k] = v
    Object.assign(env, { PORT: 'abc', npm_config_loglevel: 'error', LOG_LEVEL: 'silent' })
    delete env.DATABASE_URL

    const child = spawn('npx', ['tsx', 'src/server.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => {
      stdout += d
    })
    child.stderr.on('data', d => {
      stderr += d
    })
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`server did not exit; stderr: ${stderr}`))
      }, 50_000)
      // 'close' waits for the output streams too, so stderr is complete
      child.on('close', c => {
        clearTimeout(timer)
        resolve(c)
      })
    })
    expect(code).toBe(1)
    const lines = stderr.split('\n').filter(l => l.trim() !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('PORT')
    expect(stdout).not.toContain('ready')
  }, 60_000)
})
