import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { expectProblem } from '../helpers/problem.js'
import { waitFor } from '../helpers/wait.js'
import { openLdapEnv } from './directory.cases.js'
import { startFakeDirectory } from './fake-directory.js'
import { freePort, onPath, slapdMissing } from './slapd.js'

/**
 * LDAPS and StartTLS through real logins: the server's certificate comes from a throwaway CA made
 * with the openssl CLI at run time. Trusting that CA (LDAP_CA_FILE) lets a directory user in; trusting
 * another CA fails closed with 503 DIRECTORY_UNAVAILABLE, never a 200 or a 500.
 */

const noOpenssl = !onPath('openssl')
if (noOpenssl) process.stderr.write('test/ldap/tls.test.ts skipped: the openssl CLI is not on PATH\n')

interface Pki {
  dir: string
  /** The CA that signed the server certificate. */
  ca: string
  /** A CA that signed nothing here. */
  otherCa: string
  cert: string
  key: string
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-subj',
    `/CN=${name} throwaway test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign'
  ])
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ldap-tls-'))
  makeCa(dir, 'ca')
  makeCa(dir, 'other-ca')
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost'
  ])
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n'
  )
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'server.ext'
  ])
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key')
  }
}

const login = (t: TestApp) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'jdoe', password: 'jdoe-pass' } })

async function expectSignedIn(t: TestApp) {
  const res = await login(t)
  expect(res.statusCode, res.body).toBe(200)
  expect(res.json().user.username).toBe('jdoe')
}

async function expectFailedClosed(t: TestApp) {
  expectProblem(await login(t), 503, 'DIRECTORY_UNAVAILABLE')
}

/** Apps built during a describe, closed after it. */
function apps() {
  const built: TestApp[] = []
  return {
    async build(env: Record<string, string>) {
      const t = await buildTestApp({ ...env, LDAP_TIMEOUT_MS: '2000' })
      built.push(t)
      return t
    },
    async close() {
      await Promise.all(built.splice(0).map(t => t.close()))
    }
  }
}

describe.skipIf(noOpenssl)(`LDAP over TLS${noOpenssl ? ' (SKIPPED: openssl is not on PATH)' : ''}`, () => {
  let pki: Pki
  beforeAll(() => {
    pki = makePki()
  })
  afterAll(() => {
    if (pki) rmSync(pki.dir, { recursive: true, force: true })
  })

  describe('LDAPS against the in-process directory', () => {
    let dir: Awaited<ReturnType<typeof startFakeDirectory>>
    const built = apps()
    beforeAll(async () => {
      dir = await startFakeDirectory({
        certificate: readFileSync(pki.cert, 'utf8'),
        key: readFileSync(pki.key, 'utf8')
      })
    })
    afterAll(async () => {
      await built.close()
      await dir?.stop()
    })

    it('with LDAP_CA_FILE naming the CA that signed the server, a directory user signs in', async () => {
      expect(dir.url).toMatch(/^ldaps:\/\/127\.0\.0\.1:\d+$/)
      await expectSignedIn(await built.build({ ...openLdapEnv(dir.url), LDAP_CA_FILE: pki.ca }))
    })

    it('with LDAP_CA_FILE naming another CA, the login fails closed with 503', async () => {
      const binds = dir.binds()
      await expectFailedClosed(await built.build({ ...openLdapEnv(dir.url), LDAP_CA_FILE: pki.otherCa }))
      // The handshake failed before any credentials were sent
      expect(dir.binds()).toBe(binds)
    })

    it('without LDAP_CA_FILE the system CAs do not trust the throwaway CA: 503', async () => {
      await expectFailedClosed(await built.build(openLdapEnv(dir.url)))
    })
  })

  describe('StartTLS against a plain server that cannot do it', () => {
    let dir: Awaited<ReturnType<typeof startFakeDirectory>>
    const built = apps()
    beforeAll(async () => {
      dir = await startFakeDirectory()
    })
    afterAll(async () => {
      await built.close()
      await dir?.stop()
    })

    it('LDAP_STARTTLS=true fails closed with 503; no credentials go out in clear text', async () => {
      const binds = dir.binds()
      await expectFailedClosed(
        await built.build({ ...openLdapEnv(dir.url), LDAP_STARTTLS: 'true', LDAP_CA_FILE: pki.ca })
      )
      expect(dir.binds()).toBe(binds)
    })
  })

  const missing = slapdMissing()
  if (missing) process.stderr.write(`test/ldap/tls.test.ts: StartTLS against slapd skipped: ${missing}\n`)
  describe.skipIf(missing !== null)(`StartTLS against slapd${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
    let slapd: TlsSlapd
    const built = apps()
    beforeAll(async () => {
      slapd = await startTlsSlapd(pki)
    })
    afterAll(async () => {
      await built.close()
      await slapd?.stop()
    })

    it('with LDAP_CA_FILE naming the CA that signed slapd, a directory user signs in', async () => {
      await expectSignedIn(
        await built.build({ ...openLdapEnv(slapd.url), LDAP_STARTTLS: 'true', LDAP_CA_FILE: pki.ca })
      )
    })

    it('with LDAP_CA_FILE naming another CA, the login fails closed with 503', async () => {
      await expectFailedClosed(
        await built.build({ ...openLdapEnv(slapd.url), LDAP_STARTTLS: 'true', LDAP_CA_FILE: pki.otherCa })
      )
    })
  })
})

interface TlsSlapd {
  url: string
  stop(): Promise<void>
}

const SLAPD = process.env.SLAPD ?? '/usr/sbin/slapd'
const FIXTURE_SCRIPT = join(
  process.env.LDAP_FIXTURE_DIR ?? join(import.meta.dirname, '../../../shared/ldap'),
  'ci-slapd.sh'
)

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<void>((ok, fail) =>
    execFile(file, args, { env, timeout: 60_000 }, (err, _stdout, stderr) =>
      err ? fail(new Error(`${file} failed: ${err.message}\n${stderr}`)) : ok()
    )
  )

function kill(pid: number, signal: NodeJS.Signals | 0 = 'SIGTERM'): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

async function stopPid(pidFile: string) {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  kill(pid)
  await waitFor('slapd to exit', () => !kill(pid, 0), { timeoutMs: 5000 }).catch(() => kill(pid, 'SIGKILL'))
}

/**
 * The shared fixture loads the trees without TLS; then slapd is restarted on the same data with the
 * throwaway server certificate, so clients can StartTLS on the plain port.
 */
async function startTlsSlapd(pki: Pki): Promise<TlsSlapd> {
  const port = await freePort()
  const workdir = mkdtempSync(join(tmpdir(), 'slapd-tls-'))
  const pidFile = join(workdir, 'slapd.pid')
  let stopOnExit: (() => void) | undefined
  try {
    await run('bash', [FIXTURE_SCRIPT], { ...process.env, LDAP_PORT: String(port), LDAP_WORKDIR: workdir })
    await stopPid(pidFile)
    const conf = join(workdir, 'slapd.conf')
    writeFileSync(
      conf,
      `TLSCACertificateFile ${pki.ca}\nTLSCertificateFile ${pki.cert}\nTLSCertificateKeyFile ${pki.key}\n${readFileSync(conf, 'utf8')}`
    )
    await run(SLAPD, ['-h', `ldap://127.0.0.1:${port}/`, '-f', conf, '-s', '0'])
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    stopOnExit = () => kill(pid, 'SIGKILL')
    process.once('exit', stopOnExit)
    // Ready when it answers a StartTLS root DSE read that trusts our CA (by IP: libldap would
    // canonicalise localhost to the machine name and refuse the certificate)
    let lastError: unknown
    await waitFor(
      'slapd to answer StartTLS',
      async () => {
        try {
          await run(
            'ldapsearch',
            ['-x', '-ZZ', '-H', `ldap://127.0.0.1:${port}`, '-b', '', '-s', 'base', 'namingContexts'],
            { ...process.env, LDAPTLS_CACERT: pki.ca }
          )
          return true
        } catch (err) {
          lastError = err
          return false
        }
      },
      { timeoutMs: 10_000, everyMs: 100 }
    ).catch(err => {
      throw lastError ?? err
    })
  } catch (err) {
    if (stopOnExit) process.removeListener('exit', stopOnExit)
    await stopPid(pidFile)
    rmSync(workdir, { recursive: true, force: true })
    throw err
  }
  return {
    url: `ldap://127.0.0.1:${port}`,
    async stop() {
      if (stopOnExit) process.removeListener('exit', stopOnExit)
      await stopPid(pidFile)
      rmSync(workdir, { recursive: true, force: true })
    }
  }
}
