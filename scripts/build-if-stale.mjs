// `npm start` runs this first: compile only when a source or build setting is newer than the last
// build, so an unchanged checkout starts in seconds. tsc itself is incremental (dist/.tsbuildinfo).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const stamp = 'dist/.build-stamp'
const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']

function newest(path) {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let max = st.mtimeMs
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)))
  return max
}

const built = existsSync(stamp) && existsSync('dist/server.js') ? statSync(stamp).mtimeMs : 0
const changed = Math.max(newest('src'), ...inputs.filter(f => existsSync(f)).map(newest))
if (built > 0 && changed <= built) {
  process.stdout.write('build is up to date (dist/)\n')
} else {
  process.stdout.write(built ? 'sources changed: rebuilding dist/\n' : 'first start: building dist/ (tsc)\n')
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit'
  })
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
  writeFileSync(stamp, `${new Date().toISOString()}\n`)
}
