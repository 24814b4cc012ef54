import type { Deps } from './context.js'

/**
 * Everything the modules provide, by name: the services REST, GraphQL and jobs call, and the narrow
 * ports one module offers another. Empty here: each module's manifest adds its own entries by
 * declaration merging (`declare module '../../lib/ports.js' { interface Services { … } }`), so the
 * names are declared once, beside what builds them, and src/lib stays below the modules.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the module manifests
export interface Services {}

export type PortName = keyof Services

/** One piece of wiring: builds what it `provides` from what it `needs` (and the plain dependencies). */
export interface Provider {
  provides: readonly PortName[]
  needs: readonly PortName[]
  build(ports: Deps & Services): Partial<Services>
}

/**
 * Declares a provider; `build` sees only the ports it names in `needs`, so a dependency cannot be
 * used without being declared (and ordered by the wiring).
 */
export function provide<const P extends PortName, const N extends PortName = never>(
  provides: readonly P[],
  needs: readonly N[],
  build: (ports: Deps & Pick<Services, N>) => Pick<Services, P>
): Provider {
  return { provides, needs, build }
}

export class WiringError extends Error {
  override name = 'WiringError'
}

/**
 * Builds every provider once, each after the ones it needs. Fails before anything is built when a
 * port is provided twice, needed but provided by no one, or when needs form a cycle (named in order).
 */
export function wire(deps: Deps, providers: readonly { owner: string; provider: Provider }[]): Services {
  const byPort = new Map<PortName, { owner: string; provider: Provider }>()
  for (const entry of providers) {
    for (const port of entry.provider.provides) {
      const other = byPort.get(port)
      if (other) throw new WiringError(`port "${port}" is provided by both ${other.owner} and ${entry.owner}`)
      byPort.set(port, entry)
    }
  }
  for (const { owner, provider } of providers) {
    for (const need of provider.needs) {
      if (!byPort.has(need)) throw new WiringError(`${owner} needs port "${need}", which no module provides`)
    }
  }

  const order: Provider[] = []
  const state = new Map<Provider, 'visiting' | 'done'>()
  const stack: { provider: Provider; port: PortName }[] = []
  const visit = (provider: Provider, port: PortName) => {
    const seen = state.get(provider)
    if (seen === 'done') return
    if (seen === 'visiting') {
      const cycle = stack.slice(stack.findIndex(s => s.provider === provider)).map(s => s.port)
      throw new WiringError(`ports form a cycle: ${[...cycle, port].join(' → ')}`)
    }
    state.set(provider, 'visiting')
    stack.push({ provider, port })
    for (const need of provider.needs) visit(byPort.get(need)!.provider, need)
    stack.pop()
    state.set(provider, 'done')
    order.push(provider)
  }
  for (const { provider } of providers) if (provider.provides[0]) visit(provider, provider.provides[0])

  // Every provider runs after the ones it needs, so what it reads from `built` is there; the registry
  // type is the merge of every manifest's declaration, which the list of manifests builds in full
  const built: Partial<Services> = {}
  for (const provider of order) Object.assign(built, provider.build({ ...deps, ...built } as Deps & Services))
  return built as Services
}
