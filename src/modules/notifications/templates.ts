/**
 * Notification templates as data: the English set ships here, admins override any (event, locale,
 * channel) in `notification_templates`. Placeholders are `{{name}}`; the text part and the subject take
 * values as they are (the subject with every control character turned into a space), the HTML part
 * takes them HTML-escaped. Nothing in a value can add markup, a header or a line to a subject.
 */

export type Channel = 'mail' | 'sms'

export interface Template {
  subject: string
  text: string
  html?: string | null
}

export type TemplateValues = Record<string, string | number | null | undefined>

/** The placeholders the dispatcher fills; a template naming any other is refused (422 naming the part). */
export const PLACEHOLDERS = [
  'number',
  'title',
  'status',
  'recipient',
  'actor',
  'note',
  'assignment',
  'resolution',
  'name',
  'plannedStart',
  'plannedEnd',
  'conflicts',
  'version'
] as const

const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS)

/**
 * What is wrong with one part of a template: a placeholder nobody fills, or braces that open a
 * placeholder without closing it (a typo would otherwise reach every recipient verbatim). Null: fine.
 */
export function placeholderError(part: string): string | null {
  for (const m of part.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
    const name = m[1] ?? ''
    if (!KNOWN.has(name)) return `unknown placeholder {{${name}}}; known: ${PLACEHOLDERS.join(', ')}`
  }
  const rest = part.replace(/\{\{\s*[a-zA-Z]+\s*\}\}/g, '')
  if (rest.includes('{{') || rest.includes('}}')) return 'unbalanced {{ or }}: placeholders are {{name}}'
  return null
}

/** Values to preview a template with: every placeholder, with a sample. */
export const SAMPLE_VALUES: TemplateValues = {
  number: 'INC-000123',
  title: 'Mail server <mx1> not answering',
  status: 'in_progress',
  recipient: 'Ada Lovelace',
  actor: 'Grace Hopper',
  note: 'Restarted the service & watching it.',
  assignment: 'Messaging, 2nd line',
  resolution: 'Disk cleaned up',
  name: 'CRM sync',
  plannedStart: '2026-12-05T22:00:00.000Z',
  plannedEnd: '2026-12-05T23:00:00.000Z',
  conflicts: 'CHG-000042',
  version: '2.4.0'
}

const mail = (subject: string, lines: string[]): Template => ({
  subject,
  text: `${lines.join('\n\n')}\n\n{{number}}: {{title}}\nStatus: {{status}}\n`,
  html: `${lines.map(l => `<p>${l.replace(/\n/g, '<br>')}</p>`).join('\n')}\n<p><b>{{number}}</b>: {{title}}<br>Status: {{status}}</p>\n`
})

/** The shipped English set (locale `en`), per event and channel. */
export const DEFAULT_TEMPLATES: Record<string, Partial<Record<Channel, Template>>> = {
  'ticket.created': {
    mail: mail('{{title}}', ['Hello {{recipient}},', 'we have received your ticket {{number}} and will be in touch.'])
  },
  'ticket.assigned': {
    mail: mail('Assigned: {{title}}', ['Hello {{recipient}},', '{{number}} was assigned to {{assignment}}.']),
    sms: { subject: '', text: '{{number}} assigned to you: {{title}}' }
  },
  'ticket.public_reply': {
    mail: mail('{{title}}', ['Hello {{recipient}},', '{{actor}} wrote:', '{{note}}'])
  },
  'ticket.internal_note': {
    mail: mail('Internal note: {{title}}', ['{{actor}} added an internal note:', '{{note}}'])
  },
  'ticket.status_changed': {
    mail: mail('{{status}}: {{title}}', ['Hello {{recipient}},', '{{number}} is now {{status}}.'])
  },
  'ticket.resolved': {
    mail: mail('Resolved: {{title}}', ['Hello {{recipient}},', '{{number}} was resolved.', '{{resolution}}'])
  },
  'ticket.closed': {
    mail: mail('Closed: {{title}}', ['Hello {{recipient}},', '{{number}} was closed.'])
  },
  'approval.requested': {
    mail: mail('Approval requested: {{title}}', ['Hello {{recipient}},', 'your approval of {{number}} is requested.'])
  },
  'approval.decided': {
    mail: mail('Approval decided: {{title}}', ['Hello {{recipient}},', 'the approval of {{number}} was decided.'])
  },
  'sla.warning': { mail: mail('SLA warning: {{title}}', ['{{number}} is close to its service-level target.']) },
  'sla.breach': {
    mail: mail('SLA breached: {{title}}', ['{{number}} breached its service-level target.']),
    sms: { subject: '', text: '{{number}} SLA breached: {{title}}' }
  },
  'sla.escalation': { mail: mail('Escalated: {{title}}', ['{{number}} was escalated to {{assignment}}.']) },
  'change.scheduled': {
    mail: mail('Scheduled: {{title}}', ['{{number}} was scheduled from {{plannedStart}} to {{plannedEnd}}.'])
  },
  'change.conflict': {
    mail: mail('Schedule conflict: {{title}}', [
      '{{number}} ({{plannedStart}} to {{plannedEnd}}) conflicts with the change calendar: {{conflicts}}.'
    ])
  },
  'release.ready': { mail: mail('Release ready: {{title}}', ['{{number}} is ready.']) },
  'webhook.disabled': {
    mail: mail('Webhook disabled: {{name}}', [
      'Hello {{recipient}},',
      'the webhook subscription "{{name}}" failed for a day and was disabled. Enable it again once its receiver answers.'
    ])
  }
}

/** A generic fallback, so an event without a template still says something. */
const FALLBACK: Record<Channel, Template> = {
  mail: mail('{{title}}', ['{{number}} changed.']),
  sms: { subject: '', text: '{{number}}: {{title}}' }
}

export function shippedTemplate(event: string, channel: Channel): Template {
  return DEFAULT_TEMPLATES[event]?.[channel] ?? FALLBACK[channel]
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, c => HTML_ESCAPES[c]!)

/** Every control character (CR, LF, TAB, NUL, …) and the Unicode line separators become one space. */
export const oneLine = (s: string) =>
  s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim()

function fill(template: string, values: TemplateValues, encode: (s: string) => string): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, name: string) => encode(String(values[name] ?? '')))
}

export interface Rendered {
  subject: string
  text: string
  html: string | null
}

/** Renders a template with these values: escaped for HTML, one line for the subject. */
export function render(t: Template, values: TemplateValues): Rendered {
  return {
    subject: oneLine(fill(t.subject, values, oneLine)),
    text: fill(t.text, values, s => s),
    html: t.html ? fill(t.html, values, s => escapeHtml(s).replace(/\r?\n/g, '<br>')) : null
  }
}
