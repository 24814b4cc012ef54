import type { Deps } from './lib/context.js'
import { type Services, WiringError, wire } from './lib/ports.js'
import { modules as allModules } from './modules/index.js'
import type { ModuleManifest } from './modules/manifest.js'
import type { TicketKind } from './modules/tickets/kinds.js'
import type { KindHooks } from './modules/tickets/tickets.ports.js'

export type { Services } from './lib/ports.js'

/**
 * Every service, built from plain dependencies and the module manifests: the API and the scheduler
 * build the same set. Each provider runs after the ports it needs (a missing or cyclic port fails
 * here, at start); then the modules' kind hooks and ticket subscribers plug into the ticket core.
 */
export function createServices(deps: Deps, modules: readonly ModuleManifest[] = allModules): Services {
  const services = wire(
    deps,
    modules.flatMap(m => (m.provides ?? []).map(provider => ({ owner: `module ${m.name}`, provider })))
  )
  const kindOwners = new Map<TicketKind, string>()
  for (const m of modules) {
    if (!m.tickets) continue
    const plugs = m.tickets({ ...deps, ...services })
    for (const [kind, hooks] of Object.entries(plugs.kinds ?? {}) as [TicketKind, KindHooks][]) {
      const other = kindOwners.get(kind)
      if (other) throw new WiringError(`kind "${kind}" has hooks from both ${other} and module ${m.name}`)
      kindOwners.set(kind, `module ${m.name}`)
      services.tickets.register(kind, hooks)
    }
    for (const subscriber of plugs.subscribers ?? []) services.tickets.subscribe(subscriber)
  }
  return services
}
