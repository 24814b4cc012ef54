import { alertmanager } from './alertmanager.js'
import { grafana } from './grafana.js'
import { icinga, nagios } from './nagios.js'
import { pagerduty } from './pagerduty.js'
import type { Receiver } from './receiver.js'
import { zabbix } from './zabbix.js'

/** Every native receiver: each becomes POST /api/v1/events/{tool} and /api/v1/events/{tool}/{source}. */
export const RECEIVERS: Receiver[] = [alertmanager, grafana, zabbix, nagios, icinga, pagerduty]
