import { type SQL, sql } from 'drizzle-orm'
import { boolean, integer, jsonb, pgTable, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/db/client.js'
import { tickets } from '../../src/db/schema/tickets.js'
import { AppError } from '../../src/lib/errors.js'
import {
  type CustomFilter,
  compileFilter,
  customSortCast,
  customSortExpression,
  customSortValue,
  type FilterField
} from '../../src/lib/rsql.js'
import type { CustomFieldSpec } from '../../src/modules/custom-fields/custom-fields.types.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'

const items = pgTable('rsql_items', {
  id: uuid('id').primaryKey(),
  label: text('label').notNull(),
  title: text('title').notNull(),
  note: text('note'),
  status: text('status').notNull(),
  priority: smallint('priority').notNull(),
  layer: integer('layer'),
  ownerId: uuid('owner_id'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date', precision: 3 }),
  urgent: boolean('urgent').notNull(),
  custom: jsonb('custom').notNull()
})

const fields: Record<string, FilterField> = {
  title: { sql: items.title, type: 'text' },
  lowerTitle: { sql: sql`lower(${items.title})`, type: 'text' },
  note: { sql: items.note, type: 'text', nullable: true },
  status: { sql: items.status, type: 'enum', values: ['open', 'pending', 'closed'] },
  priority: { sql: items.priority, type: 'integer' },
  layer: { sql: items.layer, type: 'integer', nullable: true },
  ownerId: { sql: items.ownerId, type: 'uuid', nullable: true },
  createdAt: { sql: items.createdAt, type: 'datetime' },
  closedAt: { sql: items.closedAt, type: 'datetime', nullable: true },
  urgent: { sql: items.urgent, type: 'boolean' }
}

const spec = (key: string, type: CustomFieldSpec['type'], options?: string[]): CustomFieldSpec =>
  options ? { key, type, options } : { key, type }
const specs: CustomFieldSpec[] = [
  spec('site', 'text'),
  spec('seats', 'number'),
  spec('opened', 'date'),
  spec('vip', 'boolean'),
  spec('colour', 'choice', ['red', 'blue', 'green']),
  spec('tags', 'multichoice', ['a', 'b', 'c']),
  spec('owner', 'user'),
  spec('asset', 'ci')
]
const custom: CustomFilter = { column: items.custom, specs: new Map(specs.map(s => [s.key, s])) }

const U1 = '0190a5a0-0000-7000-8000-000000000001'
const U2 = '0190a5a0-0000-7000-8000-000000000002'
const CI = '0190a5a0-0000-7000-8000-0000000000c1'
const HOSTILE = "'; drop table rsql_items; --"

const rows = [
  {
    label: 'A',
    title: 'Printer on fire',
    note: 'has 100% coverage',
    status: 'open',
    priority: 1,
    layer: 1,
    ownerId: U1,
    createdAt: '2024-01-01T00:00:00.000Z',
    closedAt: null,
    urgent: true,
    custom: { site: 'Leeds', seats: 4, opened: '2024-03-01', vip: true, colour: 'red', tags: ['a', 'b'], owner: U1 }
  },
  {
    label: 'B',
    title: 'Network down',
    note: null,
    status: 'open',
    priority: 2,
    layer: null,
    ownerId: null,
    createdAt: '2024-02-01T12:00:00.000Z',
    closedAt: '2024-02-02T00:00:00.000Z',
    urgent: false,
    custom: { site: 'York', seats: 10.5, opened: '2024-01-15', vip: false, colour: 'blue', tags: ['b'], asset: CI }
  },
  {
    label: 'C',
    title: HOSTILE,
    note: 'under_score',
    status: 'closed',
    priority: 3,
    layer: 2,
    ownerId: U2,
    createdAt: '2024-03-01T00:00:00.000Z',
    closedAt: '2024-03-05T00:00:00.000Z',
    urgent: false,
    custom: { site: HOSTILE, seats: -2, opened: '2023-12-31', tags: [], owner: U2 }
  },
  {
    label: 'D',
    title: 'back\\slash',
    note: 'plain',
    status: 'pending',
    priority: 4,
    layer: 1,
    ownerId: U1,
    createdAt: '2024-04-01T00:00:00.000Z',
    closedAt: null,
    urgent: true,
    custom: {}
  },
  {
    label: 'E',
    title: '100% sure',
    note: '%',
    status: 'open',
    priority: 2,
    layer: 3,
    ownerId: U2,
    createdAt: '2024-05-01T00:00:00.000Z',
    closedAt: null,
    urgent: false,
    custom: { site: null, seats: null, colour: 'red', tags: ['c'] }
  },
  {
    label: 'F',
    title: 'a_b',
    note: '_',
    status: 'closed',
    priority: 3,
    layer: null,
    ownerId: null,
    createdAt: '2024-06-01T00:00:00.000Z',
    closedAt: '2024-06-02T00:00:00.000Z',
    urgent: false,
    custom: { site: 'Percent%', seats: 4.0, opened: '2024-03-01', vip: false, colour: 'green', tags: ['a', 'c'] }
  }
]

let t: TestDatabase
let db: Db

beforeAll(async () => {
  t = await createTestDatabase()
  db = t.database.db
  await db.execute(sql`CREATE TABLE rsql_items (
    id uuid PRIMARY KEY, label text NOT NULL, title text NOT NULL, note text, status text NOT NULL,
    priority smallint NOT NULL, layer integer, owner_id uuid, created_at timestamptz(3) NOT NULL,
    closed_at timestamptz(3), urgent boolean NOT NULL, custom jsonb NOT NULL DEFAULT '{}'::jsonb)`)
  await db.insert(items).values(
    rows.map((r, i) => ({
      ...r,
      id: `0190a5a0-0000-7000-8000-00000000010${i}`,
      createdAt: new Date(r.createdAt),
      closedAt: r.closedAt ? new Date(r.closedAt) : null
    }))
  )
})

afterAll(async () => {
  await t?.drop()
})

async function labels(expression: string): Promise<string> {
  const found = await db
    .select({ label: items.label })
    .from(items)
    .where(compileFilter(expression, fields, custom))
    .orderBy(items.label)
  return found.map(r => r.label).join('')
}

function failure(expression: string, param?: string): AppError {
  try {
    compileFilter(expression, fields, custom, param)
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    const err = e as AppError
    expect(err.status).toBe(400)
    expect(err.errors).toHaveLength(1)
    expect(err.errors?.[0]?.field).toBe(param ?? 'filter')
    return err
  }
  throw new Error(`expected ${expression} to be rejected`)
}
const message = (expression: string, param?: string) => failure(expression, param).errors?.[0]?.message

describe('compileFilter on columns', () => {
  it.each([
    ['status==open', 'ABE'],
    ['status!=open', 'CDF'],
    ['status=in=(pending,closed)', 'CDF'],
    ['status=out=(open,closed)', 'D'],
    ['priority==2', 'BE'],
    ['priority!=2', 'ACDF'],
    ['priority<2', 'A'],
    ['priority=lt=3', 'ABE'],
    ['priority<=2', 'ABE'],
    ['priority=le=2', 'ABE'],
    ['priority>3', 'D'],
    ['priority=gt=3', 'D'],
    ['priority>=3', 'CDF'],
    ['priority=ge=3', 'CDF'],
    ['priority=in=(1,4)', 'AD'],
    ['priority=in=4', 'D'],
    ['priority=out=(1,4)', 'BCEF'],
    ['priority>99999', ''],
    ['layer==1', 'AD'],
    ['layer!=1', 'BCEF'],
    ['layer=out=(1,2)', 'BEF'],
    ['layer=in=(1,2)', 'ACD'],
    ['layer=isnull=true', 'BF'],
    ['layer=isnull=false', 'ACDE'],
    [`ownerId==${U1}`, 'AD'],
    [`ownerId==${U1.toUpperCase()}`, 'AD'],
    [`ownerId!=${U1}`, 'BCEF'],
    [`ownerId=in=(${U1},${U2})`, 'ACDE'],
    [`ownerId=out=(${U1})`, 'BCEF'],
    ['ownerId=isnull=true', 'BF'],
    ['createdAt>2024-03-01T00:00:00Z', 'DEF'],
    ['createdAt>=2024-03-01T00:00:00.000Z', 'CDEF'],
    ['createdAt>=2024-03-01', 'CDEF'],
    ['createdAt<2024-02-01T13:00:00+01:00', 'A'],
    ['createdAt<2024-02-01T13:00:00', 'AB'],
    ['createdAt==2024-02-01T12:00:00.000Z', 'B'],
    ['closedAt!=2024-02-02T00:00:00Z', 'ACDEF'],
    ['closedAt=isnull=true', 'ADE'],
    ['closedAt<2024-03-01', 'B'],
    ['urgent==true', 'AD'],
    ['urgent!=true', 'BCEF'],
    ['title=="Network down"', 'B'],
    ['title==network*', 'B'],
    ['title==*FIRE', 'A'],
    ['title!=*o*', 'DEF'],
    ['title=like=n', 'AB'],
    ['title=like=p*fire', 'A'],
    ['title=in=("Network down",a_b)', 'BF'],
    ['title=out=("Network down",a_b)', 'ACDE'],
    ['lowerTitle=="network down"', 'B'],
    ['note==*e*', 'AC'],
    ['note!=*e*', 'BDEF'],
    ['note!=plain', 'ABCEF'],
    ['note=isnull=true', 'B'],
    ['status==open;priority==2', 'BE'],
    ['status==open and priority==2', 'BE'],
    ['status==pending,priority==1', 'AD'],
    ['status==pending or priority==1', 'AD'],
    ['(status==open,status==closed);priority=ge=3', 'CF'],
    ['status==open,status==closed;priority=ge=3', 'ABCEF']
  ])('%s → %s', async (expression, expected) => {
    expect(await labels(expression)).toBe(expected)
  })
})

describe('compileFilter on custom fields', () => {
  it.each([
    ['customFields.site==Leeds', 'A'],
    ['customFields.site==leeds', ''],
    ['customFields.site==LEE*', 'A'],
    ['customFields.site!=Leeds', 'BCDEF'],
    ['customFields.site!=*e*', 'BDE'],
    ['customFields.site=in=(Leeds,York)', 'AB'],
    ['customFields.site=out=(Leeds,York)', 'CDEF'],
    ['customFields.site=like=or', 'B'],
    ['customFields.site=isnull=true', 'DE'],
    ['customFields.site=isnull=false', 'ABCF'],
    ['customFields.seats==4', 'AF'],
    ['customFields.seats==4.0', 'AF'],
    ['customFields.seats==10.5', 'B'],
    ['customFields.seats!=4', 'BCDE'],
    ['customFields.seats>4', 'B'],
    ['customFields.seats>=4', 'ABF'],
    ['customFields.seats<0', 'C'],
    ['customFields.seats=le=-2', 'C'],
    ['customFields.seats=in=(-2,10.5)', 'BC'],
    ['customFields.seats=isnull=true', 'DE'],
    ['customFields.opened==2024-03-01', 'AF'],
    ['customFields.opened<2024-03-01', 'BC'],
    ['customFields.opened>=2024-01-15', 'ABF'],
    ['customFields.opened=gt=2023-12-31', 'ABF'],
    ['customFields.vip==true', 'A'],
    ['customFields.vip==false', 'BF'],
    ['customFields.vip!=true', 'BCDEF'],
    ['customFields.vip=isnull=true', 'CDE'],
    ['customFields.colour==red', 'AE'],
    ['customFields.colour=in=(blue,green)', 'BF'],
    ['customFields.colour=out=(red)', 'BCDF'],
    ['customFields.tags==a', 'AF'],
    ['customFields.tags!=a', 'BCDE'],
    ['customFields.tags=in=(b,c)', 'ABEF'],
    ['customFields.tags=out=(a,b)', 'CDE'],
    ['customFields.tags=isnull=true', 'CD'],
    ['customFields.tags=isnull=false', 'ABEF'],
    [`customFields.owner==${U2}`, 'C'],
    [`customFields.owner=in=(${U1},${U2.toUpperCase()})`, 'AC'],
    ['customFields.owner=isnull=true', 'BDEF'],
    [`customFields.asset==${CI}`, 'B'],
    [`customFields.asset!=${CI}`, 'ACDEF'],
    ['status==open;customFields.colour==red', 'AE'],
    ['customFields.tags==c,customFields.vip==true', 'AEF']
  ])('%s → %s', async (expression, expected) => {
    expect(await labels(expression)).toBe(expected)
  })

  it('answers custom equality with jsonb containment of a bound JSON parameter', () => {
    const query = db
      .select()
      .from(items)
      .where(compileFilter('customFields.seats==4;customFields.tags=in=(a,b)', fields, custom))
      .toSQL()
    expect(query.sql).toContain('@> $')
    expect(query.sql).not.toContain('seats')
    expect(query.params).toEqual(expect.arrayContaining(['{"seats":4}', '{"tags":["a"]}', '{"tags":["b"]}']))
  })

  it('lets the GIN jsonb_path_ops index on tickets.custom_fields answer equality and =in=', async () => {
    const cond = compileFilter(
      'customFields.site==Leeds;customFields.tags=in=(a,b)',
      {},
      {
        column: tickets.customFields,
        specs: custom.specs
      }
    )
    const plan = await db.transaction(async tx => {
      await tx.execute(sql`set local enable_seqscan = off`)
      const result = await tx.execute(sql`explain select ${tickets.id} from ${tickets} where ${cond}`)
      return (result as unknown as { rows: Record<string, string>[] }).rows.map(r => Object.values(r)[0]).join('\n')
    })
    expect(plan).toContain('tickets_custom_fields_idx')
  })
})

describe('hostile values', () => {
  it.each([
    [`title=="${HOSTILE}"`, 'C'],
    [`title!="${HOSTILE}"`, 'ABDEF'],
    [`title=in=("${HOSTILE}",x)`, 'C'],
    [`title=like="${HOSTILE}"`, 'C'],
    [`title=like="drop table"`, 'C'],
    [`customFields.site=="${HOSTILE}"`, 'C'],
    [`customFields.site=like="'; drop"`, 'C'],
    ['customFields.site=="x\\"}"', ''],
    ['note=like=%', 'AE'],
    ['note==%', 'E'],
    ['note=like=_', 'CF'],
    ['note==_', 'F'],
    ['title=like=_', 'CF'],
    ['title==*%*', 'E'],
    ['title=like="\\\\"', 'D'],
    ['title=="back\\\\slash"', 'D'],
    ['title==back\\*', 'D'],
    ['customFields.site=like=%', 'F'],
    ['customFields.site==*%', 'F']
  ])('%s → %s', async (expression, expected) => {
    expect(await labels(expression)).toBe(expected)
  })

  it('keeps every value out of the SQL text and the table intact', async () => {
    const query = db
      .select()
      .from(items)
      .where(compileFilter(`title=="${HOSTILE}",note=like="%_\\\\"`, fields, custom))
      .toSQL()
    expect(query.sql).not.toContain('drop')
    expect(query.sql).not.toContain('%')
    expect(query.params).toEqual(expect.arrayContaining([HOSTILE, '%\\%\\_\\\\%']))
    const all = await db.select({ id: items.id }).from(items)
    expect(all).toHaveLength(rows.length)
  })
})

describe('errors are 400 naming the parameter', () => {
  it.each([
    ['nope==1', 'unknown field "nope"; known: title, lowerTitle, note, status'],
    ['customFields.nope==1', 'unknown field "customFields.nope"'],
    ['constructor==1', 'unknown field "constructor"'],
    ['customFields==1', 'unknown field "customFields"'],
    ['priority==x', 'priority: "x" is not an integer'],
    ['priority==1.5', 'priority: "1.5" is not an integer'],
    ['priority==99999999999999999', 'priority: "99999999999999999" is not an integer'],
    ['priority=in=(1,x)', 'priority: "x" is not an integer'],
    ['ownerId==123', 'ownerId: "123" is not a UUID'],
    ['createdAt>yesterday', 'createdAt: "yesterday" is not an ISO-8601 date-time'],
    ['createdAt>2024-02-30', 'createdAt: "2024-02-30" is not an ISO-8601 date-time'],
    ['createdAt>2024-02-01T25:00:00Z', 'is not an ISO-8601 date-time'],
    ['urgent==yes', 'urgent: "yes" is not a boolean'],
    ['status==gone', 'status: "gone" is not one of open, pending, closed'],
    ['layer=isnull=maybe', 'layer: =isnull= takes true or false'],
    ['urgent=lt=true', 'urgent: operator =lt= is not valid for boolean fields'],
    [`ownerId>${U1}`, 'ownerId: operator > is not valid for uuid fields'],
    ['priority=like=1', 'priority: operator =like= is not valid for integer fields'],
    ['status=like=op', 'status: operator =like= is not valid'],
    ['title<x', 'title: operator < is not valid for text fields'],
    ['priority=foo=1', 'priority: unknown operator "=foo="'],
    ['priority==(1,2)', 'priority: == takes a single value'],
    ['customFields.seats==many', 'customFields.seats: "many" is not a number'],
    ['customFields.seats>1e999', 'customFields.seats: "1e999" is not a number'],
    ['customFields.opened<2024-13-01', 'customFields.opened: "2024-13-01" is not a date (YYYY-MM-DD)'],
    ['customFields.opened<2024-01-01T00:00:00Z', 'is not a date (YYYY-MM-DD)'],
    ['customFields.colour==purple', 'customFields.colour: "purple" is not one of red, blue, green'],
    ['customFields.tags=in=(a,z)', 'customFields.tags: "z" is not one of a, b, c'],
    ['customFields.owner==me', 'customFields.owner: "me" is not a UUID'],
    ['customFields.vip==1', 'customFields.vip: "1" is not a boolean'],
    ['customFields.vip>true', 'operator > is not valid for boolean fields'],
    ['customFields.site>a', 'operator > is not valid for text fields'],
    ['customFields.tags=like=a', 'operator =like= is not valid for multichoice fields'],
    ['status==', 'syntax error: Unexpected end'],
    ['status==open;;', "syntax error: Unexpected character ';' at position"],
    ['(status==open', 'syntax error'],
    ['', 'empty filter expression'],
    ['   ', 'empty filter expression']
  ])('%s → %s', (expression, expected) => {
    expect(message(expression)).toContain(expected)
  })

  it('uses the given parameter name and a detail', () => {
    const err = failure('priority==x', 'q')
    expect(err.message).toBe('q: priority: "x" is not an integer')
    expect(err.code).toBe('VALIDATION_FAILED')
  })

  it('refuses unknown custom fields when no custom filter is given', () => {
    expect(() => compileFilter('customFields.site==x', fields)).toThrow(/unknown field "customFields.site"/)
    expect(() => compileFilter('customFields.site==x', fields, null)).toThrow(AppError)
  })

  it('limits length, comparisons and list sizes', () => {
    const longest = `title=="${'x'.repeat(1991)}"`
    expect(longest).toHaveLength(2000)
    expect(() => compileFilter(longest, fields)).not.toThrow()
    expect(message(`${longest} `)).toBe('longer than 2000 characters')
    expect(message('('.repeat(1001) + 'a==1' + ')'.repeat(1001))).toBe('longer than 2000 characters')
    const fifty = Array.from({ length: 50 }, (_, i) => `priority==${i}`).join(',')
    expect(() => compileFilter(fifty, fields)).not.toThrow()
    expect(message(`${fifty},priority==51`)).toBe('more than 50 comparisons')
    const hundred = Array.from({ length: 100 }, (_, i) => i).join(',')
    expect(() => compileFilter(`priority=in=(${hundred})`, fields)).not.toThrow()
    expect(message(`priority=out=(${hundred},100)`)).toBe('priority: more than 100 values in =out=')
  })

  it('never lets a deeply nested expression escape as a 500', async () => {
    const deep = '('.repeat(900) + 'priority==1' + ')'.repeat(900)
    expect(await labels(deep)).toBe('A')
  })
})

describe('custom sort helpers', () => {
  const specOf = (key: string) => custom.specs.get(key)!

  async function ordered(key: string): Promise<{ labels: string; values: (string | null)[] }> {
    const expr = customSortExpression(items.custom, specOf(key))
    const found = await db.select({ label: items.label, v: expr }).from(items).orderBy(expr, items.id)
    return { labels: found.map(r => r.label).join(''), values: found.map(r => r.v as string | null) }
  }

  /** Walk the rows two at a time with a keyset cursor cast back as customSortCast says. */
  async function paged(key: string, descending = false): Promise<string> {
    const s = specOf(key)
    const expr = customSortExpression(items.custom, s)
    const cast = customSortCast(s) === 'numeric' ? sql`numeric` : sql`text`
    let cursor: { v: string | number; id: string } | null = null
    let seen = ''
    for (let i = 0; i < 10; i++) {
      let after: SQL | undefined
      if (cursor) {
        const v: SQL = sql`cast(${cursor.v} as ${cast})`
        after = descending
          ? sql`(${expr}, ${items.id}) < (${v}, ${cursor.id}::uuid)`
          : sql`(${expr}, ${items.id}) > (${v}, ${cursor.id}::uuid)`
      }
      const page: { id: string; label: string; custom: unknown }[] = await db
        .select({ id: items.id, label: items.label, custom: items.custom })
        .from(items)
        .where(after)
        .orderBy(...(descending ? [sql`${expr} desc`, sql`${items.id} desc`] : [expr, items.id]))
        .limit(2)
      if (page.length === 0) break
      seen += page.map(r => r.label).join('')
      const last = page[page.length - 1]!
      // the cursor value comes from the row's data, as a list service makes it
      cursor = { v: customSortValue(s, (last.custom as Record<string, unknown>)[key]), id: last.id }
    }
    return seen
  }

  it('reproduces every sort value in JS with customSortValue', async () => {
    for (const s of specs) {
      const expr = customSortExpression(items.custom, s)
      const found = await db.select({ custom: items.custom, v: expr }).from(items)
      for (const r of found) {
        const js = customSortValue(s, (r.custom as Record<string, unknown>)[s.key])
        if (customSortCast(s) === 'numeric') expect(Number(js), s.key).toBe(Number(r.v))
        else expect(js, s.key).toBe(r.v)
      }
    }
    expect(customSortValue(specOf('seats'), null)).toBe('-Infinity')
    expect(JSON.parse(JSON.stringify({ v: customSortValue(specOf('seats'), undefined) })).v).toBe('-Infinity')
    expect(customSortValue(specOf('tags'), ['a', 'b'])).toBe('["a", "b"]')
    expect(customSortValue(specOf('vip'), false)).toBe('false')
  })

  it('pages through multichoice and boolean sorts without losing or repeating rows', async () => {
    for (const key of ['tags', 'vip', 'colour', 'owner']) {
      const { labels: order } = await ordered(key)
      expect(order.split('').sort().join('')).toBe('ABCDEF')
      expect(await paged(key)).toBe(order)
      expect(await paged(key, true)).toBe([...order].reverse().join(''))
    }
  })

  it('says how to cast a cursor value back', () => {
    expect(customSortCast(specOf('seats'))).toBe('numeric')
    for (const key of ['site', 'opened', 'vip', 'colour', 'tags', 'owner', 'asset']) {
      expect(customSortCast(specOf(key))).toBe('text')
    }
  })

  it('sorts numbers numerically with absent and null values first, never null', async () => {
    const { labels: order, values } = await ordered('seats')
    expect(order).toBe('DECAFB')
    expect(values.every(v => v !== null)).toBe(true)
    expect(values[0]).toBe('-Infinity')
    expect(await paged('seats')).toBe('DECAFB')
    expect(await paged('seats', true)).toBe('BFACED')
  })

  it('sorts dates and text with absent and null values first, never null', async () => {
    const dates = await ordered('opened')
    expect(dates.labels).toBe('DECBAF')
    expect(dates.values.slice(0, 2)).toEqual(['', ''])
    expect(await paged('opened')).toBe('DECBAF')
    expect(await paged('opened', true)).toBe('FABCED')
    const sites = await ordered('site')
    expect(sites.values.every(v => v !== null)).toBe(true)
    expect(sites.labels.slice(0, 2)).toBe('DE')
    expect(await paged('site')).toBe(sites.labels)
    expect(await paged('site', true)).toBe([...sites.labels].reverse().join(''))
  })
})
