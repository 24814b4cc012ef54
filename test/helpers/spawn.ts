import { type ChildProcess, spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'

/** A child process of ours (the server or the scheduler entry under tsx) with its output collected. */
export interface Spawned {
  child: ChildProcess
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>
  /** Waits until its output contains `text`; throws with the output if it exits or `ms` pass first. */
  until(text: string, ms?: number): Promise<void>
}

/** Starts `entry` (e.g. src/server.ts) under tsx with `env` over this process's environment. */
export function spawnEntry(entry: string, env: Record<string, string>, preload: string[] = []): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap(p => ['--import', p]), entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', d => {
    output += String(d)
  })
  child.stderr?.on('data', d => {
    output += String(d)
  })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  return {
    child,
    output: () => output,
    exited,
    async until(text, ms = 180_000) {
      const deadline = Date.now() + ms
      while (!output.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`${entry} never wrote "${text}":\n${output}`)
        await new Promise(r => setTimeout(r, 200))
      }
    }
  }
}

export const randomPort = () => 30_000 + Math.floor(Math.random() * 20_000)

/** A plain GET on a fresh connection (no keep-alive to hold a closing server open). */
export const httpGet = (port: number, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, res => {
      let body = ''
      res.on('data', d => {
        body += String(d)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
