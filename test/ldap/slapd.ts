import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Attribute, Change, Client } from 'ldapts'
import { waitFor } from '../helpers/wait.js'
import type { DirectoryServer } from './directory-server.js'

/**
 * The real OpenLDAP slapd from the shared fixture (shared/ldap/ci-slapd.sh beside the repository):
 * one throwaway server per test file, on a free loopback port with its own work folder, killed after.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE_DIR = process.env.LDAP_FIXTURE_DIR ?? resolve(repoRoot, '../shared/ldap')
const SCRIPT = join(FIXTURE_DIR, 'ci-slapd.sh')
const SLAPD = process.env.SLAPD ?? '/usr/sbin/slapd'
const ROOT_PASSWORD = 'test-admin-secret'

/** Whether an executable of this name is on PATH. */
export const onPath = (name: string) =>
  (process.env.PATH ?? '').split(delimiter).some(dir => {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {
      return false
    }
  })

/** Why the slapd tests cannot run here, or null when they can. */
export function slapdMissing(): string | null {
  if (!existsSync(SCRIPT)) return `the LDAP fixture ${SCRIPT} is absent`
  if (!existsSync(SLAPD))
    return `slapd is not installed at ${SLAPD} (.ci/run installs it: apt-get install slapd ldap-utils)`
  if (!onPath('ldapadd') || !onPath('ldapsearch')) return 'ldap-utils (ldapadd, ldapsearch) is not installed'
  return null
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => ok(port))
    })
  })
}

const run = (env: NodeJS.ProcessEnv) =>
  new Promise<void>((ok, fail) =>
    execFile('bash', [SCRIPT], { env, timeout: 60_000 }, (err, _stdout, stderr) =>
      err ? fail(new Error(`ci-slapd.sh failed: ${err.message}\n${stderr}`)) : ok()
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

export async function startSlapd(): Promise<DirectoryServer> {
  let lastError: unknown
  // A port found free may be taken before slapd binds it: try a few
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const workdir = mkdtempSync(join(tmpdir(), 'slapd-test-'))
    try {
      await run({ ...process.env, LDAP_PORT: String(port), LDAP_WORKDIR: workdir, LDAP_ROOTPW: ROOT_PASSWORD })
      const pid = Number(readFileSync(join(workdir, 'slapd.pid'), 'utf8').trim())
      const stopOnExit = () => kill(pid, 'SIGKILL')
      process.once('exit', stopOnExit)
      return server(`ldap://127.0.0.1:${port}`, async () => {
        process.removeListener('exit', stopOnExit)
        kill(pid)
        await waitFor('slapd to exit', () => !kill(pid, 0), { timeoutMs: 5000 }).catch(() => kill(pid, 'SIGKILL'))
        rmSync(workdir, { recursive: true, force: true })
      })
    } catch (err) {
      lastError = err
      const pidFile = join(workdir, 'slapd.pid')
      if (existsSync(pidFile)) kill(Number(readFileSync(pidFile, 'utf8').trim()))
      rmSync(workdir, { recursive: true, force: true })
    }
  }
  throw lastError
}

function server(url: string, stop: () => Promise<void>): DirectoryServer {
  /** Changes go in as the root DN of the tree the entry lives in, like ldapmodify -D would. */
  async function modify(dn: string, change: Change | null) {
    const client = new Client({ url, timeout: 5000, connectTimeout: 5000 })
    const suffix = /dc=corp,dc=example,dc=com$/i.test(dn) ? 'dc=corp,dc=example,dc=com' : 'dc=example,dc=org'
    try {
      await client.bind(`cn=admin,${suffix}`, ROOT_PASSWORD)
      if (change) await client.modify(dn, change)
      else await client.del(dn)
    } finally {
      await client.unbind()
    }
  }
  const change = (operation: 'add' | 'delete' | 'replace', type: string, values: string[]) =>
    new Change({ operation, modification: new Attribute({ type, values }) })
  return {
    kind: 'slapd',
    url,
    binds: () => null,
    addMember: (group, member) => modify(group, change('add', 'member', [member])),
    removeMember: (group, member) => modify(group, change('delete', 'member', [member])),
    replace: (dn, attribute, values) => modify(dn, change('replace', attribute, values)),
    remove: dn => modify(dn, null),
    stop
  }
}
