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
  provides: [provide(['slaEscalations'], ['tickets'], deps => ({ slaEscalations: createEscalationService(deps) }))],
  jobs: [escalationJob]
}
