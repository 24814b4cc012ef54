import { alertmanager } from './alertmanager.js'
import type { Receiver } from './receiver.js'

/** Every native receiver: each becomes POST /api/v1/events/{tool} and /api/v1/events/{tool}/{source}. */
export const RECEIVERS: Receiver[] = [alertmanager]
