import { authorize } from '../../../auth/policy.js'
import { discoverySources } from '../../../db/schema/index.js'
import { type Ctx, type Deps, withTx } from '../../../lib/context.js'
import { badRequest } from '../../../lib/errors.js'
import { uuidv7 } from '../../../lib/ids.js'
import type { Services } from '../../../lib/ports.js'
import { check } from '../../../lib/validate.js'
import { ImportBody, type ImportInput } from '../import.schemas.js'
import { checkInventory, inventoryItems } from './inventory-map.js'
import {
  decodeBody,
  type Encoding,
  encodeReply,
  inventoryReply,
  parseXmlRequest,
  prologReply,
  REPLY_TYPE
} from './inventory-protocol.js'

/** The discovery source agents' inventories land as, made on first use (admins tune its precedence). */
export const INVENTORY_SOURCE = 'inventory'

export interface InventoryReply {
  contentType: string
  body: Buffer | string
}

/**
 * What GLPI Agent (JSON protocol: contact, inventory) and FusionInventory / OCS agents (XML: PROLOG,
 * INVENTORY) post to `/api/v1/inventory`, answered as each expects. Inventories become a discovery
 * import (computer + software CIs), so identification, precedence and history are the import's.
 */
export function createInventoryService({ config }: Deps, { ciImport }: Pick<Services, 'ciImport'>) {
  const limit = config.INVENTORY_BODY_LIMIT_BYTES

  async function ensureSource(ctx: Ctx) {
    await withTx(ctx, tx =>
      tx
        .insert(discoverySources)
        .values({ id: uuidv7(), name: INVENTORY_SOURCE, description: 'Inventory agents (GLPI Agent, FusionInventory)' })
        .onConflictDoNothing()
    )
  }

  async function runImport(ctx: Ctx, body: Record<string, unknown>, protocol: 'json' | 'xml') {
    const inventory = checkInventory(body, protocol)
    const input = check<ImportInput>(ImportBody, {
      source: INVENTORY_SOURCE,
      mode: 'atomic',
      items: inventoryItems(inventory)
    })
    await ensureSource(ctx)
    return ciImport.importCis(ctx, input)
  }

  return {
    async receive(ctx: Ctx, contentType: string | undefined, raw: Buffer): Promise<InventoryReply> {
      authorize(ctx.actor, 'ci.manage')
      const { text, encoding } = decodeBody(contentType, raw, limit)
      const first = text.trimStart()[0]
      if (first === '<') return xml(ctx, text, encoding)
      if (first !== '{') throw badRequest('the body is neither a GLPI Agent JSON request nor an OCS XML <REQUEST>')
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        throw badRequest('the body is not valid JSON')
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('a JSON request is an object')
      const request = body as Record<string, unknown>
      const action = request.action ?? 'inventory'
      if (action === 'contact') {
        if (typeof request.deviceid !== 'string' || !request.deviceid)
          throw badRequest('deviceid: required', [{ field: 'deviceid', message: 'required' }])
        return json({ status: 'ok', expiration: 24, tasks: { inventory: { server: 'servicedesk', version: '1.0' } } })
      }
      if (action !== 'inventory') {
        throw badRequest(`action ${String(action).slice(0, 40)} is not taken (contact, inventory)`, [
          { field: 'action', message: 'contact or inventory' }
        ])
      }
      await runImport(ctx, request, 'json')
      return json({ status: 'ok', expiration: 24 })
    }
  }

  async function xml(ctx: Ctx, text: string, encoding: Encoding): Promise<InventoryReply> {
    const { query, body } = parseXmlRequest(text)
    const reply = (t: string) => ({ contentType: REPLY_TYPE[encoding], body: encodeReply(t, encoding) })
    if (query === 'PROLOG') {
      if (typeof body.deviceid !== 'string' || !body.deviceid)
        throw badRequest('REQUEST/DEVICEID: required', [{ field: 'REQUEST/DEVICEID', message: 'required' }])
      return reply(prologReply())
    }
    if (query !== 'INVENTORY') {
      throw badRequest(`QUERY ${query.slice(0, 40)} is not taken (PROLOG, INVENTORY)`, [
        { field: 'REQUEST/QUERY', message: 'PROLOG or INVENTORY' }
      ])
    }
    await runImport(ctx, body, 'xml')
    return reply(inventoryReply())
  }
}

const json = (v: unknown): InventoryReply => ({ contentType: 'application/json', body: JSON.stringify(v) })

export type InventoryService = ReturnType<typeof createInventoryService>
