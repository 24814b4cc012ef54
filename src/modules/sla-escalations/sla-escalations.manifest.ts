import { provide } from '../../lib/ports.js'
import type { ModuleManifest } from '../manifest.js'
import { escalationJob } from './escalation.job.js'
import { createEscalationService, type EscalationService } from './escalations.service.js'

declare module '../../lib/ports.js' {
  interface Services {
    slaEscalations: EscalationService
  }
}

/** SLA escalations: thresholds reached on a clock run, applied once each (the SLAs configure them). */
export const slaEscalationsManifest: ModuleManifest = {
  name: 'sla-escalations',
  provides: [
    provide(['slaEscalations'], ['tickets', 'slas'], deps => {
      const slaEscalations = createEscalationService(deps)
      // New thresholds on an SLA: its running clocks re-armed in the edit's transaction
      deps.slas.onThresholdsChanged(async (tx, slaId) => {
        await slaEscalations.rearmSla(tx, slaId)
      })
      return { slaEscalations }
    })
  ],
  jobs: [escalationJob]
}
