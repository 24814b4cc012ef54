import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { driver } from './helpers/db.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const spectralCli = createRequire(import.meta.url).resolve('@stoplight/spectral-cli/dist/index.js')

interface Finding {
  code: string
  message: string
  path: string[]
  severity: number
  range: { start: { line: number } }
}
const SEVERITY = ['error', 'warning', 'info', 'hint']

/** Spectral as a developer runs it (`npx spectral lint openapi.yaml`), with the ruleset in .spectral.yaml. */
function lint(): Promise<Finding[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [spectralCli, 'lint', 'openapi.yaml', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet'],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCARF_ANALYTICS: 'false' } },
      (err, stdout, stderr) => {
        // exit 1 only says there were findings; anything unparseable is a real failure
        try {
          resolve(stdout.trim() ? (JSON.parse(stdout) as Finding[]) : [])
        } catch {
          reject(new Error(`spectral failed: ${err?.message ?? ''}\n${stderr}\n${stdout.slice(0, 2000)}`))
        }
      }
    )
  })
}

// The document is a file: one run is enough, whichever database the project runs on
describe.skipIf(driver !== 'pglite')('openapi.yaml under Spectral (spectral:oas)', () => {
  it('has no error and no warning', async () => {
    const findings = (await lint()).filter(f => f.severity <= 1)
    const report = findings.map(
      f => `${SEVERITY[f.severity]} ${f.code} at ${f.path.join('.')} (line ${f.range.start.line + 1}): ${f.message}`
    )
    expect(report, report.join('\n')).toEqual([])
  }, 120_000)
})
