import { normaliseHost, normaliseModel, usefulIp } from '../../../lib/ci-identity.js'
import { badRequest, type FieldError } from '../../../lib/errors.js'
import type { ImportItemInput } from '../import.schemas.js'

/** An inventory in the GLPI JSON shape (the XML protocol is converted to it first): hostile input. */
export type Inventory = { deviceid: string; partial: boolean; content: Record<string, unknown> }

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | null => {
  if (typeof v === 'number') return String(v)
  if (typeof v !== 'string') return null
  const s = v.trim()
  return s ? s.slice(0, 4000) : null
}
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,15}$/.test(v.trim()) ? Number(v) : Number.NaN
  return Number.isFinite(n) ? n : null
}
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : [])
const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 'true'

export const MAX_SOFTWARE = 10_000

/**
 * Section checks the JSON schema makes and that the mapping relies on, naming the path on failure
 * (`content.softwares.3.name`): a wrong protocol or a broken agent is a 400, not a half-mapped CI.
 */
export function checkInventory(body: Obj, protocol: 'json' | 'xml'): Inventory {
  const errors: FieldError[] = []
  const p = (s: string) => (protocol === 'xml' ? `REQUEST/${s.toUpperCase().replaceAll('.', '/')}` : s)
  const deviceid = str(body.deviceid)
  if (!deviceid) errors.push({ field: p('deviceid'), message: 'required' })
  const content = body.content
  if (!isObj(content)) errors.push({ field: p('content'), message: 'required (an object)' })
  else {
    if (protocol === 'json' && !str(content.versionclient))
      errors.push({ field: 'content.versionclient', message: 'required' })
    if (content.hardware !== undefined && !isObj(content.hardware))
      errors.push({ field: p('content.hardware'), message: 'an object' })
    const memory = isObj(content.hardware) ? content.hardware.memory : undefined
    if (memory !== undefined && num(memory) === null)
      errors.push({ field: p('content.hardware.memory'), message: 'an integer (MB)' })
    const softwares = list(content.softwares)
    if (softwares.length > MAX_SOFTWARE)
      errors.push({ field: p('content.softwares'), message: `at most ${MAX_SOFTWARE} entries` })
    softwares.forEach((s, i) => {
      if (!str(s.name)) errors.push({ field: p(`content.softwares.${i}.name`), message: 'required' })
    })
    list(content.networks).forEach((n, i) => {
      if (protocol === 'json' && !str(n.description))
        errors.push({ field: `content.networks.${i}.description`, message: 'required' })
    })
  }
  const itemtype = body.itemtype ?? 'Computer'
  if (itemtype !== 'Computer') errors.push({ field: p('itemtype'), message: 'only Computer inventories are taken' })
  if (errors.length) throw badRequest(errors.map(e => `${e.field}: ${e.message}`).join('; '), errors)
  return { deviceid: deviceid!, partial: truthy(body.partial), content: content as Obj }
}

/** `srv-app01-2026-03-02-08-15-00` names `srv-app01`: what a partial inventory without hardware is called. */
const nameOfDevice = (deviceid: string) => deviceid.replace(/-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/, '')

const softwareKey = (name: string, version: string | null) => `software:${name.toLowerCase()}@${version ?? ''}`

/**
 * One computer CI (identifiers and the attributes of the sections present) and one software CI per
 * product and version, `installed on` the computer. A partial inventory replaces only the sections
 * it carries: absent sections leave their fields, attributes and relationships alone.
 */
export function inventoryItems(inv: Inventory): ImportItemInput[] {
  const c = inv.content
  const has = (section: string) => c[section] !== undefined
  const hw = isObj(c.hardware) ? c.hardware : {}
  const bios = isObj(c.bios) ? c.bios : {}
  const os = isObj(c.operatingsystem) ? c.operatingsystem : {}
  const identifiers: NonNullable<ImportItemInput['identifiers']> = {}
  const attributes: Record<string, unknown> = {}
  const set = (name: string, v: unknown) => {
    attributes[name] = v === undefined ? null : v
  }
  if (has('bios')) {
    identifiers.serial = str(bios.ssn)
    identifiers.assetTag = str(bios.assettag)?.slice(0, 100) ?? null
    set('manufacturer', normaliseModel(str(bios.smanufacturer)))
    set('model', normaliseModel(str(bios.smodel)))
  }
  if (has('hardware')) {
    identifiers.systemUuid = str(hw.uuid)?.slice(0, 64) ?? null
    set('memory_mb', num(hw.memory))
  }
  if (has('operatingsystem') || has('hardware')) {
    set('os_name', str(os.full_name) ?? str(os.name) ?? str(hw.osname))
    set('os_version', str(os.version) ?? str(hw.osversion))
    set('os_kernel', str(os.kernel_version))
    const fqdn = normaliseHost(str(os.fqdn))
    identifiers.fqdn = fqdn?.includes('.') ? fqdn.slice(0, 254) : null
    identifiers.hostname = normaliseHost(str(hw.name) ?? fqdn?.split('.')[0])?.slice(0, 253) ?? null
  }
  if (has('cpus')) {
    const cpus = list(c.cpus)
    set('cpu', str(cpus[0]?.name))
    const cores = cpus.reduce((n, cpu) => n + (num(cpu.core) ?? 0), 0)
    set('cpu_cores', cores || null)
  }
  if (has('networks')) {
    const networks = list(c.networks)
    const physical = networks.filter(n => !truthy(n.virtualdev))
    identifiers.macAddresses = [
      ...new Set(physical.flatMap(n => str(n.mac) ?? str(n.macaddr) ?? []).map(m => m.slice(0, 32)))
    ].sort()
    const ips = new Set<string>()
    for (const n of networks) {
      for (const ip of [str(n.ipaddress), str(n.ipaddress6)]) {
        const u = usefulIp(ip)
        if (u) ips.add(u)
      }
    }
    set('ip_addresses', ips.size ? [...ips].sort().join(', ').slice(0, 4000) : null)
  }
  const name = (str(hw.name) ?? nameOfDevice(inv.deviceid)).slice(0, 200)
  const computer: ImportItemInput = {
    key: `device:${inv.deviceid.slice(0, 290)}`,
    class: 'computer',
    name,
    identifiers,
    attributes: Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null || inv.partial))
  }
  if (!inv.partial) {
    // A full inventory states every attribute it maps: one it no longer reports is cleared
    for (const k of [
      'manufacturer',
      'model',
      'memory_mb',
      'os_name',
      'os_version',
      'os_kernel',
      'cpu',
      'cpu_cores',
      'ip_addresses'
    ])
      computer.attributes![k] = attributes[k] ?? null
  }
  if (!has('softwares')) return [computer]
  const software = new Map<string, ImportItemInput>()
  for (const s of list(c.softwares)) {
    const product = str(s.name)!.slice(0, 180)
    const version = str(s.version)?.slice(0, 100) ?? null
    const key = softwareKey(product, version)
    if (software.has(key)) continue
    software.set(key, {
      key,
      class: 'software',
      name: version ? `${product} ${version}` : product,
      attributes: {
        product,
        version,
        publisher: str(s.publisher)?.slice(0, 200) ?? null,
        package_type: str(s.from)?.slice(0, 50) ?? null
      }
    })
  }
  computer.relationships = [...software.keys()].map(key => ({ type: 'installed_on', source: key }))
  computer.replaceRelationships = ['installed_on']
  return [...software.values(), computer]
}
