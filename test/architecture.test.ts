import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'
import { describe, expect, it } from 'vitest'

/**
 * The module graph's rules (.dependency-cruiser.cjs, also `npm run depcruise`): no import cycles, no
 * cycles between modules, src/lib (and auth, db) importing no module, modules importing no plugin or
 * entry. Checked on src, and on a fixture seeded with one breach of each, so a rule that stopped
 * matching would show.
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as {
  forbidden: NonNullable<ICruiseOptions['ruleSet']>['forbidden']
}

async function violations(baseDir: string): Promise<IViolation[]> {
  const options: ICruiseOptions = {
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' }
  }
  const tsConfig = extractTSConfig(`${root}tsconfig.json`)
  const { output } = await cruise(['src'], options, undefined, { tsConfig })
  if (typeof output === 'string') throw new Error('expected a cruise result, got a report')
  return output.summary.violations
}

const describeViolation = (v: IViolation) =>
  `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map(c => c.name).join(' → ')})` : ''}`

describe('module graph', () => {
  it('src has no import cycle, no cycle between modules and no upward import', async () => {
    expect((await violations(root)).map(describeViolation)).toEqual([])
  }, 120_000)

  it('the rules catch a seeded cycle, a cycle between modules and upward imports', async () => {
    const found = await violations(`${root}test/fixtures/architecture`)
    const byRule = (name: string) => found.filter(v => v.rule.name === name)
    expect(byRule('no-circular').map(describeViolation)).toEqual([
      'no-circular: src/lib/ping.ts → src/lib/pong.ts (cycle src/lib/pong.ts → src/lib/ping.ts)'
    ])
    expect(byRule('no-circular-modules').map(v => [v.from, v.to].sort())).toContainEqual([
      'src/modules/alpha',
      'src/modules/beta'
    ])
    expect(byRule('lib-stays-below').map(describeViolation)).toEqual([
      'lib-stays-below: src/lib/helper.ts → src/modules/alpha/alpha.types.ts'
    ])
    expect(byRule('modules-stay-below-adapters').map(describeViolation)).toEqual([
      'modules-stay-below-adapters: src/modules/alpha/alpha.types.ts → src/plugins/plugin.ts'
    ])
  }, 120_000)
})
