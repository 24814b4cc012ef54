import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

const children = new Set<ChildProcess>()

/** Whether `taskset` can pin processes here (missing on macOS and some containers). */
export const canPin = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0

/** Pins this process (every thread) to one CPU; false when it could not. */
export function pinSelf(cpu: string): boolean {
  if (!canPin) return false
  return spawnSync('taskset', ['-a', '-cp', cpu, String(process.pid)], { stdio: 'ignore' }).status === 0
}

export interface Server {
  name: string
  url: string
  /** CPU seconds the server has used so far (user + system), or null where /proc is missing. */
  cpuSeconds(): number | null
  stop(): Promise<void>
}

/** utime + stime of a process from /proc (Linux), in seconds; USER_HZ is 100 on every Linux that matters. */
function cpuSecondsOf(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

/**
 * Starts `command args` pinned to `cpu` (when taskset exists) and waits until GET /health answers.
 * The child gets only the environment given (plus PATH), so a shell's settings do not leak in.
 */
export async function startServer(
  name: string,
  command: string[],
  opts: { cpu: string; port: number; cwd: string; env: Record<string, string>; timeoutMs?: number }
): Promise<Server> {
  const [cmd, ...args] = canPin ? ['taskset', '-c', opts.cpu, ...command] : command
  const child = spawn(cmd!, args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  children.add(child)
  let exited: string | null = null
  child.once('exit', (code, signal) => {
    children.delete(child)
    exited = `${name} exited (${signal ?? code})`
  })
  const url = `http://127.0.0.1:${opts.port}`
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  for (;;) {
    if (exited) throw new Error(exited)
    if (Date.now() > deadline) {
      killAll()
      throw new Error(`${name} did not answer ${url}/health in time`)
    }
    const ok = await fetch(`${url}/health`).then(
      r => r.ok,
      () => false
    )
    if (ok) break
    await sleep(200)
  }
  return { name, url, cpuSeconds: () => cpuSecondsOf(child.pid), stop: () => stopChild(child) }
}

/** SIGTERM, then SIGKILL if it has not gone within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await gone
  clearTimeout(timer)
}

/** Kills every child still running, at once (safe from an 'exit' handler). */
export function killAll(): void {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
}

/** Runs a command to completion (inheriting output); throws when it fails. */
export function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.signal ?? result.status})`)
}

process.once('exit', killAll)
