/**
 * Exact example payloads of /work/shared/reference/peers.md §1–3 (copied, not rewritten), so the
 * receivers are tested against formats nobody on the team wrote. Variants are derived in the tests.
 */

/** Alertmanager v4, firing group of two alerts (peers.md §1) */
export const alertmanagerFiring = {
  version: '4',
  groupKey: '{}/{team="infra"}:{alertname="NodeFilesystemAlmostFull", instance="srv-app01.corp.example.com:9100"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'itsm-webhook',
  groupLabels: {
    alertname: 'NodeFilesystemAlmostFull',
    instance: 'srv-app01.corp.example.com:9100'
  },
  commonLabels: {
    alertname: 'NodeFilesystemAlmostFull',
    instance: 'srv-app01.corp.example.com:9100',
    job: 'node',
    severity: 'critical',
    team: 'infra'
  },
  commonAnnotations: {
    runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull'
  },
  externalURL: 'http://alertmanager-0.monitoring.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'NodeFilesystemAlmostFull',
        device: '/dev/mapper/vg0-root',
        fstype: 'ext4',
        instance: 'srv-app01.corp.example.com:9100',
        job: 'node',
        mountpoint: '/',
        severity: 'critical',
        team: 'infra'
      },
      annotations: {
        summary: 'Filesystem / on srv-app01 has 3.9% space left',
        description:
          'Filesystem on /dev/mapper/vg0-root at srv-app01.corp.example.com:9100 has only 3.9% available space left.',
        runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull'
      },
      startsAt: '2026-11-23T13:52:41.517Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL:
        'http://prometheus-0.monitoring.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bfstype%21%3D%22%22%7D+%2F+node_filesystem_size_bytes+%2A+100+%3C+5&g0.tab=1',
      fingerprint: '936a01dd5b4ca62b'
    },
    {
      status: 'firing',
      labels: {
        alertname: 'NodeFilesystemAlmostFull',
        device: '/dev/mapper/vg0-var',
        fstype: 'xfs',
        instance: 'srv-app01.corp.example.com:9100',
        job: 'node',
        mountpoint: '/var',
        severity: 'critical',
        team: 'infra'
      },
      annotations: {
        summary: 'Filesystem /var on srv-app01 has 4.6% space left',
        description:
          'Filesystem on /dev/mapper/vg0-var at srv-app01.corp.example.com:9100 has only 4.6% available space left.',
        runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull'
      },
      startsAt: '2026-11-23T13:55:11.517Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL:
        'http://prometheus-0.monitoring.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bfstype%21%3D%22%22%7D+%2F+node_filesystem_size_bytes+%2A+100+%3C+5&g0.tab=1',
      fingerprint: '9a2dea556e1c8dbb'
    }
  ]
}

/** Alertmanager v4, partial resolve from replica 1 (peers.md §1) */
export const alertmanagerPartialResolve = {
  version: '4',
  groupKey: '{}/{team="infra"}:{alertname="NodeFilesystemAlmostFull", instance="srv-app01.corp.example.com:9100"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'itsm-webhook',
  groupLabels: { alertname: 'NodeFilesystemAlmostFull', instance: 'srv-app01.corp.example.com:9100' },
  commonLabels: {
    alertname: 'NodeFilesystemAlmostFull',
    instance: 'srv-app01.corp.example.com:9100',
    job: 'node',
    severity: 'critical',
    team: 'infra'
  },
  commonAnnotations: { runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull' },
  externalURL: 'http://alertmanager-1.monitoring.example.com:9093',
  alerts: [
    {
      status: 'resolved',
      labels: {
        alertname: 'NodeFilesystemAlmostFull',
        device: '/dev/mapper/vg0-root',
        fstype: 'ext4',
        instance: 'srv-app01.corp.example.com:9100',
        job: 'node',
        mountpoint: '/',
        severity: 'critical',
        team: 'infra'
      },
      annotations: {
        summary: 'Filesystem / on srv-app01 has 3.9% space left',
        description:
          'Filesystem on /dev/mapper/vg0-root at srv-app01.corp.example.com:9100 has only 3.9% available space left.',
        runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull'
      },
      startsAt: '2026-11-23T13:52:41.517Z',
      endsAt: '2026-11-23T14:31:56.517Z',
      generatorURL:
        'http://prometheus-0.monitoring.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bfstype%21%3D%22%22%7D+%2F+node_filesystem_size_bytes+%2A+100+%3C+5&g0.tab=1',
      fingerprint: '936a01dd5b4ca62b'
    },
    {
      status: 'firing',
      labels: {
        alertname: 'NodeFilesystemAlmostFull',
        device: '/dev/mapper/vg0-var',
        fstype: 'xfs',
        instance: 'srv-app01.corp.example.com:9100',
        job: 'node',
        mountpoint: '/var',
        severity: 'critical',
        team: 'infra'
      },
      annotations: {
        summary: 'Filesystem /var on srv-app01 has 4.6% space left',
        description:
          'Filesystem on /dev/mapper/vg0-var at srv-app01.corp.example.com:9100 has only 4.6% available space left.',
        runbook_url: 'https://runbooks.example.com/node/NodeFilesystemAlmostFull'
      },
      startsAt: '2026-11-23T13:55:11.517Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL:
        'http://prometheus-0.monitoring.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bfstype%21%3D%22%22%7D+%2F+node_filesystem_size_bytes+%2A+100+%3C+5&g0.tab=1',
      fingerprint: '9a2dea556e1c8dbb'
    }
  ]
}

/** Grafana unified alerting webhook, version "1" (peers.md §2) */
export const grafanaFiring = {
  receiver: 'itsm',
  status: 'firing',
  orgId: 1,
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'HighErrorRate',
        env: 'prod',
        grafana_folder: 'Platform',
        service: 'api',
        severity: 'critical'
      },
      annotations: {
        summary: 'api 5xx ratio is 8.3% (threshold 5%)',
        description: 'More than 5% of requests to the public API failed over the last 10 minutes.',
        runbook_url: 'https://runbooks.example.com/api/high-error-rate'
      },
      startsAt: '2026-11-23T14:12:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'https://grafana.example.com/alerting/grafana/ee4b9a1c-7d1f-4c2a-9a43-0b8f7d6c5e21/view?orgId=1',
      fingerprint: '5c1a7e9b04d2f318',
      silenceURL:
        'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dee4b9a1c-7d1f-4c2a-9a43-0b8f7d6c5e21&matcher=env%3Dprod&matcher=service%3Dapi&matcher=severity%3Dcritical&orgId=1',
      dashboardURL: 'https://grafana.example.com/d/api-overview?from=1795435920000&orgId=1&to=1795443125000',
      panelURL: 'https://grafana.example.com/d/api-overview?from=1795435920000&orgId=1&to=1795443125000&viewPanel=12',
      values: { A: 0.083, C: 1 },
      valueString:
        "[ var='A' labels={service=api, env=prod} value=0.083 ], [ var='C' labels={service=api, env=prod} value=1 ]"
    }
  ],
  groupLabels: { alertname: 'HighErrorRate', grafana_folder: 'Platform' },
  commonLabels: {
    alertname: 'HighErrorRate',
    env: 'prod',
    grafana_folder: 'Platform',
    service: 'api',
    severity: 'critical'
  },
  commonAnnotations: {
    summary: 'api 5xx ratio is 8.3% (threshold 5%)',
    description: 'More than 5% of requests to the public API failed over the last 10 minutes.',
    runbook_url: 'https://runbooks.example.com/api/high-error-rate'
  },
  externalURL: 'https://grafana.example.com/',
  version: '1',
  groupKey:
    '{}/{__grafana_autogenerated__="true"}/{__grafana_receiver__="itsm"}:{alertname="HighErrorRate", grafana_folder="Platform"}',
  truncatedAlerts: 0,
  title: '[FIRING:1] HighErrorRate Platform (prod critical api)',
  state: 'alerting',
  message:
    '**Firing**\n\nValue: A=0.083, C=1\nLabels:\n - alertname = HighErrorRate\n - env = prod\n - grafana_folder = Platform\n - service = api\n - severity = critical\nAnnotations:\n - description = More than 5% of requests to the public API failed over the last 10 minutes.\n - runbook_url = https://runbooks.example.com/api/high-error-rate\n - summary = api 5xx ratio is 8.3% (threshold 5%)\nSource: https://grafana.example.com/alerting/grafana/ee4b9a1c-7d1f-4c2a-9a43-0b8f7d6c5e21/view?orgId=1\nSilence: https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dee4b9a1c-7d1f-4c2a-9a43-0b8f7d6c5e21&orgId=1\n'
}

/** Zabbix: exact body of the stock Event-Driven Ansible media type (peers.md §3a, example A) */
export const zabbixAnsible = {
  acknowledged: 'No',
  endpoint: '/api/v1/events/zabbix/zbx-prod',
  event_date: '2026.11.23',
  event_id: 41277915,
  event_name: 'High CPU utilization (over 90% for 5m)',
  event_nseverity: 3,
  event_object: 0,
  event_severity: 'Average',
  event_source: 0,
  event_tags: { class: ['os'], component: ['cpu'], scope: ['performance'], target: ['linux'] },
  event_time: '15:07:42',
  event_value: 1,
  host_groups: ['Linux servers', 'Paris DC1'],
  host_host: 'srv-app01',
  host_id: 10584,
  host_ip: '10.20.30.41',
  host_port: '10050',
  HTTPProxy: '',
  monitoring_source: 'Zabbix sever',
  operation_data: 'Current utilization: 96.3 %',
  send_to: 'https://itsm.example.com',
  subject: 'Event ID: 41277915, Host: srv-app01, Problem: High CPU utilization (over 90% for 5m)',
  trigger_description: 'CPU utilization is too high. The system might be slow to respond.',
  trigger_id: 28413,
  trigger_name: 'High CPU utilization (over {$CPU.UTIL.CRIT}% for 5m)',
  event_datetime_timestamp: 1795446462
}

/** Zabbix: native "ITSM" media type, problem message (peers.md §3a, example B) */
export const zabbixItsmProblem = {
  event_id: '41277915',
  event_value: '1',
  event_update_status: '0',
  event_source: '0',
  event_nseverity: '3',
  event_severity: 'Average',
  event_name: 'High CPU utilization (over 90% for 5m)',
  event_date: '2026.11.23',
  event_time: '15:07:42',
  event_tags: '[{"tag":"class","value":"os"},{"tag":"component","value":"cpu"},{"tag":"scope","value":"performance"}]',
  event_opdata: 'Current utilization: 96.3 %',
  trigger_id: '28413',
  host_host: 'srv-app01',
  host_name: 'srv-app01 (Paris DC1)',
  host_ip: '10.20.30.41',
  alert_subject: 'Problem: High CPU utilization (over 90% for 5m)',
  alert_message:
    'Problem started at 15:07:42 on 2026.11.23\nProblem name: High CPU utilization (over 90% for 5m)\nHost: srv-app01 (Paris DC1)\nSeverity: Average\nOperational data: Current utilization: 96.3 %\nOriginal problem ID: 41277915\n',
  zabbix_url: 'https://zabbix.example.com'
}

/** Nagios / Icinga notify-itsm script, service PROBLEM (peers.md §3b; Icinga 2: no problem id) */
export const notifyItsmProblem = {
  source: 'icinga2-master1.example.com',
  notification_type: 'PROBLEM',
  object_type: 'service',
  host_name: 'srv-app01',
  host_display_name: 'srv-app01.corp.example.com',
  host_address: '10.20.30.41',
  service_name: 'http-api',
  service_display_name: 'HTTPS API /healthz',
  state: 'CRITICAL',
  state_id: 2,
  state_type: 'HARD',
  check_attempt: 3,
  last_state_change: 1795446101,
  output: 'HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 312 bytes in 0.044 second response time',
  long_output: '',
  perfdata: 'time=0.044252s;;;0.000000;10.000000 size=312B;;;0',
  author: '',
  comment: '',
  long_date_time: '2026-11-23 15:01:41 +0000',
  problem_id: null,
  last_problem_id: null
}

/** PagerDuty Events API v2 trigger (peers.md §3c) */
export const pagerdutyTrigger = {
  routing_key: 'R0ut1ngKeyOfThe32CharactersLong0',
  event_action: 'trigger',
  dedup_key: 'srv-app01/disk-root',
  payload: {
    summary: 'Disk / on srv-app01 is 96% full',
    source: 'srv-app01.corp.example.com',
    severity: 'critical',
    timestamp: '2026-11-23T14:02:11.000+0000',
    component: 'filesystem',
    group: 'paris-dc1',
    class: 'disk usage',
    custom_details: { mountpoint: '/', used_percent: 96.1 }
  },
  client: 'Backup monitoring',
  client_url: 'https://monitor.example.com/hosts/srv-app01',
  links: [{ href: 'https://runbooks.example.com/disk-full', text: 'Runbook' }]
}
