import type { SQL } from 'drizzle-orm'
import { configurationItems } from '../../db/schema/index.js'
import type { Queryable } from '../../lib/context.js'
import { compileFilter, type FilterField } from '../../lib/rsql.js'
import { attributeSpecs, loadCatalogue } from './attributes.js'
import { CI_STATUSES } from './cmdb.schemas.js'

const ci = configurationItems

/** Built-in fields of the CI filter language (`attributes.<name>` come from the class catalogue). */
const FILTER_FIELDS: Record<string, FilterField> = {
  id: { sql: ci.id, type: 'uuid' },
  name: { sql: ci.name, type: 'text' },
  class: { sql: ci.ciClass, type: 'text' },
  status: { sql: ci.status, type: 'enum', values: CI_STATUSES },
  hostname: { sql: ci.hostname, type: 'text', nullable: true },
  fqdn: { sql: ci.fqdn, type: 'text', nullable: true },
  serial: { sql: ci.serial, type: 'text', nullable: true },
  macAddress: { sql: ci.macAddress, type: 'text', nullable: true },
  systemUuid: { sql: ci.systemUuid, type: 'text', nullable: true },
  assetTag: { sql: ci.assetTag, type: 'text', nullable: true },
  location: { sql: ci.location, type: 'text', nullable: true },
  supportTeamId: { sql: ci.supportTeamId, type: 'uuid', nullable: true },
  ownerTeamId: { sql: ci.ownerTeamId, type: 'uuid', nullable: true },
  organisationId: { sql: ci.organisationId, type: 'uuid', nullable: true },
  costCentreId: { sql: ci.costCentreId, type: 'uuid', nullable: true },
  missingSince: { sql: ci.missingSince, type: 'datetime', nullable: true },
  createdAt: { sql: ci.createdAt, type: 'datetime' },
  updatedAt: { sql: ci.updatedAt, type: 'datetime' }
}

/** The condition of an RSQL filter over CIs (400 naming `param` when it does not compile). */
export async function ciFilter(q: Queryable, filter: string, param = 'filter'): Promise<SQL> {
  const specs = attributeSpecs(await loadCatalogue(q))
  return compileFilter(filter, FILTER_FIELDS, { column: ci.attributes, specs, prefix: 'attributes.' }, param)
}
