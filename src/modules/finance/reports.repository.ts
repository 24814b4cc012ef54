import { type SQL, sql } from 'drizzle-orm'
import type { Queryable } from '../../lib/context.js'

/** A report's months: the first day of the first and of the last month, both included. */
export interface MonthRange {
  from: string
  to: string
}

const monthCount = (range: MonthRange) =>
  (Number(range.to.slice(0, 4)) - Number(range.from.slice(0, 4))) * 12 +
  Number(range.to.slice(5, 7)) -
  Number(range.from.slice(5, 7)) +
  1

/**
 * Each CI's own cost per month of the range, in the reporting currency, as `ci_cost(ci_id, month,
 * amount)`: capital costs depreciate straight-line, (amount - residual) / months, in each month from
 * the purchase month for depreciation_months months; recurring costs give amount per month (a quarter
 * a third, a year a twelfth) times the share of the month's days they run. A foreign amount converts
 * at the rate in force on the month's first day (none in force: counted as 0 and listed by the caller).
 */
function ciCostCte(range: MonthRange, base: string, extraMonths = 0, only?: SQL): SQL {
  // An integer series of known length: the planner then counts the months right (a date series it
  // guesses at 1000 rows, and plans every join on the costs for that)
  const count = monthCount(range) + extraMonths
  // Each month with its last day and its number of days worked out once, not per cost and month
  return sql`
    months(m, last, days) as (
      select m, (m + interval '1 month' - interval '1 day')::date, (m + interval '1 month')::date - m
      from (select (${range.from}::date + make_interval(months => i))::date as m
            from generate_series(0, ${count - 1}::int) i) g
    ),
    rate(currency, m, rate) as (
      select x.currency, mo.m, coalesce((
        select y.rate from exchange_rates y where y.currency = x.currency and y.valid_from <= mo.m
        order by y.valid_from desc limit 1
      ), 0)
      from (select distinct currency from exchange_rates where currency <> ${base}) x cross join months mo
    ),
    raw_cost(ci_id, month, currency, kind, amount) as (
      select c.ci_id, mo.m, c.currency, c.kind,
        case when c.kind = 'capital' then
          case when mo.m >= date_trunc('month', c.start_date)::date
                and mo.m < (date_trunc('month', c.start_date) + make_interval(months => c.depreciation_months))::date
               then (c.amount - coalesce(c.residual_value, 0)) / c.depreciation_months else 0 end
        else
          c.amount / (case c.period when 'quarter' then 3 when 'year' then 12 else 1 end)
          * greatest(0, (least(coalesce(c.end_date, 'infinity'::date), mo.last) - greatest(c.start_date, mo.m) + 1))::numeric
          / mo.days
        end
      from ${only ? sql`(${only}) o join ci_costs c on c.ci_id = o.id` : sql`ci_costs c`} cross join months mo
    )${
      // The service reports sum raw_cost per CI over the range (ci_total) and need no monthly rows;
      // left out, raw_cost has one reader and PostgreSQL inlines it rather than materialising it
      only
        ? sql``
        : sql`,
    ci_cost(ci_id, month, amount) as (
      select r.ci_id, r.month, sum(r.amount * case when r.currency = ${base} then 1 else coalesce(x.rate, 0) end)
      from raw_cost r left join rate x on x.currency = r.currency and x.m = r.month
      where r.amount <> 0 group by r.ci_id, r.month
    )`
    }`
}

/** The service reports cost only what a service walk reaches (a later CTE: WITH RECURSIVE allows it). */
const REACHED = sql`select distinct id from walk`

export interface AllocationOptions {
  /**
   * How a CI reached by several services splits over them. even: 1 each; usage: by each service CI's
   * numeric attribute `usageAttribute`; weights: by the explicit (service, CI) weights
   * (service_cost_weights). Whenever no service reaching a CI has a weight above 0, it splits evenly.
   */
  split: 'even' | 'usage' | 'weights'
  usageAttribute?: string
  /** The classes whose CIs are services (with their subclasses). */
  serviceClass: string
  depth: number
}

/**
 * The CTEs (after \`ci_cost\`) that give \`service_total(root, own, shared, cis)\`: each service CI walks
 * downstream (source → target: what it runs on, depends on) up to \`depth\` hops. The walk keeps no
 * paths: it is a set of (service, CI, hops) rows (UNION drops repeats, so cycles end at the depth and
 * converging paths never multiply), reduced to one (service, CI) row each: every CI beneath a service
 * counts once for it, however many paths lead there. A CI's cost then splits over the services that
 * reach it (share(service, CI) = weight / the weights of every service reaching it; evenly when those
 * are all 0). A service's own CI costs are its own.
 */
function serviceTotalsCte(opts: AllocationOptions, classes: string[], base: string): SQL {
  const weight =
    opts.split === 'usage'
      ? sql`coalesce(case when jsonb_typeof(s.attributes -> ${opts.usageAttribute ?? ''}) = 'number'
              then (s.attributes ->> ${opts.usageAttribute ?? ''})::numeric end, 0)`
      : opts.split === 'weights'
        ? sql`coalesce(sw.weight, 0)`
        : sql`1::numeric`
  const weights =
    opts.split === 'weights'
      ? sql`left join service_cost_weights sw on sw.service_id = r.root and sw.ci_id = r.id`
      : sql``
  // The classes are literals, not a subquery: the planner then estimates the service CIs from the
  // class statistics (500) rather than guessing a share of every CI, and plans the walk for that
  const classList = classes.length
    ? sql.join(
        classes.map(c => sql`${c}`),
        sql`, `
      )
    : sql`null`
  return sql`
    service_ci(id, name, class, cost_centre_id, attributes) as (
      select ci.id, ci.name, ci.class, ci.cost_centre_id, ci.attributes
      from configuration_items ci where ci.class in (${classList})
    ),
    walk(root, id, depth) as (
      select id, id, 0 from service_ci
      union
      select w.root, r.target_id, w.depth + 1
      -- Each step looks its sources up in the (source_id, target_id, type) index: the planner would
      -- hash all the relationships for every report although the walk touches a few thousand
      from walk w cross join lateral (
        select target_id from ci_relationships r where r.source_id = w.id offset 0
      ) r
      where w.depth < ${opts.depth}
    ),
    reach(root, id) as (select distinct root, id from walk where id <> root),
    reach_w(root, id, w) as (
      select r.root, r.id, ${weight} from reach r join service_ci s on s.id = r.root ${weights}
    ),
    share(root, id, share) as (
      select root, id,
        case when sum(w) over (partition by id) = 0 then 1::numeric / count(*) over (partition by id)
             else w / sum(w) over (partition by id) end
      from reach_w
    ),
    -- No "amount <> 0" filter: raw_cost is inlined, so a filter computed each amount twice; zeros add
    -- nothing. A cost in the reporting currency is not multiplied by 1 (the same numeric, one step less)
    ci_total(ci_id, amount) as (
      select r.ci_id, sum(case when r.currency = ${base} then r.amount else r.amount * coalesce(x.rate, 0) end)
      from raw_cost r left join rate x on x.currency = r.currency and x.m = r.month
      group by r.ci_id
    ),
    shared_total(root, amount) as (
      select sh.root, sum(t.amount * sh.share) from share sh join ci_total t on t.ci_id = sh.id group by sh.root
    ),
    reach_count(root, n) as (select root, count(*) from reach group by root),
    service_total(root, name, class, cost_centre_id, attributes, own, shared, cis) as (
      select s.id, s.name, s.class, s.cost_centre_id, s.attributes,
        coalesce(o.amount, 0), coalesce(st.amount, 0), coalesce(rc.n, 0)
      from service_ci s
      left join ci_total o on o.ci_id = s.id
      left join shared_total st on st.root = s.id
      left join reach_count rc on rc.root = s.id
    )`
}

/** The class \`root\` and its subclasses: the classes whose CIs are services. One small query per report. */
async function serviceClasses(q: Queryable, root: string): Promise<string[]> {
  const result = await q.execute(sql`
    with recursive sc(name, id, n) as (
      select name, id, 0 from ci_classes where name = ${root}
      union
      select c.name, c.id, sc.n + 1 from ci_classes c join sc on c.parent_id = sc.id where sc.n < 20
    )
    select distinct name from sc order by name`)
  return (result as { rows: { name: string }[] }).rows.map(r => r.name)
}

export interface ServiceCostRow {
  serviceId: string
  name: string
  ciClass: string
  costCentreId: string | null
  ownCost: string
  sharedCost: string
  cost: string
  ciCount: number
}

/** The cost of every service CI over the range, in one recursive query (serviceTotalsCte). */
export async function serviceCosts(
  q: Queryable,
  range: MonthRange,
  base: string,
  opts: AllocationOptions
): Promise<ServiceCostRow[]> {
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base, 0, REACHED)},
    ${serviceTotalsCte(opts, await serviceClasses(q, opts.serviceClass), base)}
    select s.id as service_id, s.name, s.class, s.cost_centre_id,
      round(t.own, 4)::text as own, round(t.shared, 4)::text as shared, round(t.own + t.shared, 4)::text as cost,
      t.cis
    from service_total t join service_ci s on s.id = t.root
    order by lower(s.name), s.id
  `)
  const rows = (result as { rows: Record<string, unknown>[] }).rows
  return rows.map(r => ({
    serviceId: r.service_id as string,
    name: r.name as string,
    ciClass: r.class as string,
    costCentreId: (r.cost_centre_id as string | null) ?? null,
    ownCost: r.own as string,
    sharedCost: r.shared as string,
    cost: r.cost as string,
    ciCount: Number(r.cis)
  }))
}

export interface ServiceMarginRow {
  serviceId: string
  name: string
  basis: string | null
  quantity: string | null
  cost: string
  revenue: string
  margin: string
  marginPercent: string | null
}

/** The rate converting \`currency\` into the reporting currency on \`day\` (0 when none is in force). */
const rateOn = (currency: SQL, day: SQL, base: string) => sql`(case when ${currency} = ${base} then 1 else coalesce((
  select x.rate from exchange_rates x where x.currency = ${currency} and x.valid_from <= ${day}
  order by x.valid_from desc limit 1), 0) end)`

/**
 * (After ciCostCte and serviceTotalsCte.) \`price_month(service_id, price_id, basis, quantity_attribute,
 * valid_from, amount)\`: each price of a service CI in each month of the range it is in force in, its
 * amount in the reporting currency (at the rate on the month's first day) times the share of the
 * month's days it is in force (validFrom to validTo, inclusive; null: unbounded). A price changing on
 * the 15th of a 30-day month counts the old one 14/30 and the new one 16/30; days without a price
 * earn nothing. Per unit of quantity: the callers multiply by theirs (1 for flat).
 */
function priceMonthCte(base: string): SQL {
  return sql`
    price_month(service_id, price_id, basis, quantity_attribute, valid_from, amount) as (
      select p.service_id, p.id, p.basis, p.quantity_attribute, p.valid_from,
        p.amount * case when p.currency = ${base} then 1 else coalesce(x.rate, 0) end
        * (least(coalesce(p.valid_to, 'infinity'::date), mo.last)
           - greatest(coalesce(p.valid_from, '-infinity'::date), mo.m) + 1)::numeric
        / mo.days
      from service_prices p join service_ci s on s.id = p.service_id cross join months mo
      left join rate x on x.currency = p.currency and x.m = mo.m
      where coalesce(p.valid_from, '-infinity'::date) <= mo.last
        and coalesce(p.valid_to, 'infinity'::date) >= mo.m
    )`
}

/** The quantity a price multiplies for a service CI \`s\`: 1 flat, else its numeric attribute (0 when missing). */
const serviceQuantity = (basis: SQL, attribute: SQL) => sql`(case when ${basis} = 'flat' then 1::numeric
  when jsonb_typeof(s.attributes -> ${attribute}) = 'number' then (s.attributes ->> ${attribute})::numeric
  else 0::numeric end)`

/**
 * Each service CI's cost (serviceTotalsCte) against its revenue over the range: a price is per month,
 * flat (the amount) or per user / per unit (the amount times the service CI's numeric attribute
 * quantity_attribute, 0 when missing), each month at the prices in force in it (priceMonthCte),
 * converted at the rate on each month's first day. basis and quantity are those of the latest price
 * in force in the range. margin = revenue - cost; marginPercent = margin / revenue * 100 (null
 * without revenue).
 */
export async function serviceMargins(
  q: Queryable,
  range: MonthRange,
  base: string,
  opts: AllocationOptions
): Promise<ServiceMarginRow[]> {
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base, 0, REACHED)},
    ${serviceTotalsCte(opts, await serviceClasses(q, opts.serviceClass), base)},
    ${priceMonthCte(base)},
    priced(service_id, revenue) as (
      select pm.service_id, sum(pm.amount * ${serviceQuantity(sql`pm.basis`, sql`pm.quantity_attribute`)})
      from price_month pm join service_ci s on s.id = pm.service_id group by pm.service_id
    ),
    latest(service_id, basis, quantity) as (
      select distinct on (pm.service_id) pm.service_id, pm.basis,
        ${serviceQuantity(sql`pm.basis`, sql`pm.quantity_attribute`)}
      from price_month pm join service_ci s on s.id = pm.service_id
      order by pm.service_id, coalesce(pm.valid_from, '-infinity'::date) desc
    ),
    m as (
      select t.root, t.name, t.own + t.shared as cost, coalesce(p.revenue, 0) as revenue, l.basis, l.quantity
      from service_total t left join priced p on p.service_id = t.root left join latest l on l.service_id = t.root
    )
    select m.root as id, m.name, m.basis, m.quantity::text as quantity,
      round(m.cost, 4)::text as cost, round(m.revenue, 4)::text as revenue,
      round(m.revenue - m.cost, 4)::text as margin,
      case when m.revenue = 0 then null else round((m.revenue - m.cost) * 100 / m.revenue, 2)::text end as pct
    from m
    order by lower(m.name), m.root
  `)
  return (result as { rows: Record<string, unknown>[] }).rows.map(r => ({
    serviceId: r.id as string,
    name: r.name as string,
    basis: (r.basis as string | null) ?? null,
    quantity: (r.quantity as string | null) ?? null,
    cost: r.cost as string,
    revenue: r.revenue as string,
    margin: r.margin as string,
    marginPercent: (r.pct as string | null) ?? null
  }))
}

export interface ChargebackLine {
  organisationId: string
  organisation: string
  costCentreId: string | null
  serviceId: string
  service: string
  share: string
  charge: string
  /** The line's share of the service's cost (by the \`by\` rule): equal to charge at basis=cost. */
  cost: string
}

/**
 * Chargeback per consuming organisation (service_consumers). The cost of each line: each service
 * CI's full cost over the range (serviceTotalsCte) split over its consumers, evenly
 * (by=subscription) or by their units (by=usage). The charge: that cost (basis=cost, chargeback
 * recovers cost) or the service's price (basis=price): each month at the prices in force in it
 * (priceMonthCte, prorated by days), flat once per consumer, per user / per unit times the
 * consumer's units. An organisation's cost centre is its own cost_centre_id, else the cost centre
 * that is the organisation unit. Also answers the cost nobody consumes (unallocated).
 */
export async function chargeback(
  q: Queryable,
  range: MonthRange,
  base: string,
  opts: AllocationOptions & { by: 'subscription' | 'usage'; basis: 'cost' | 'price'; organisationId?: string }
): Promise<{ lines: ChargebackLine[]; unallocated: string }> {
  const units = opts.by === 'usage' ? sql`c.units` : sql`1::numeric`
  const atPrice = opts.basis === 'price'
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base, 0, REACHED)},
    ${serviceTotalsCte(opts, await serviceClasses(q, opts.serviceClass), base)},
    ${
      atPrice
        ? sql`${priceMonthCte(base)},
    priced(service_id, organisation_id, charge) as (
      select c.service_id, c.organisation_id, sum(pm.amount * case when pm.basis = 'flat' then 1 else c.units end)
      from service_consumers c join price_month pm on pm.service_id = c.service_id
      group by c.service_id, c.organisation_id
    ),`
        : sql``
    }
    consumer(service_id, organisation_id, share) as (
      select c.service_id, c.organisation_id, ${units} / sum(${units}) over (partition by c.service_id)
      from service_consumers c
    ),
    line as (
      select c.organisation_id, c.service_id, c.share, (t.own + t.shared) * c.share as cost,
        ${atPrice ? sql`coalesce(p.charge, 0)` : sql`(t.own + t.shared) * c.share`} as charge
      from consumer c join service_total t on t.root = c.service_id
      ${atPrice ? sql`left join priced p on p.service_id = c.service_id and p.organisation_id = c.organisation_id` : sql``}
    )
    select 'line' as kind, o.id as organisation_id, o.name as organisation,
      coalesce(o.cost_centre_id, (select cc.id from cost_centres cc where cc.organisation_id = o.id)) as cost_centre_id,
      s.id as service_id, s.name as service, round(l.share, 6)::text as share, round(l.charge, 4)::text as charge,
      round(l.cost, 4)::text as cost
    from line l join organisations o on o.id = l.organisation_id join configuration_items s on s.id = l.service_id
    where ${opts.organisationId ? sql`o.id = ${opts.organisationId}` : sql`true`}
    union all
    select 'unallocated', null, null, null, null, null, null,
      round(coalesce(sum(t.own + t.shared), 0), 4)::text, null
    from service_total t where not exists (select 1 from service_consumers c where c.service_id = t.root)
    order by 1, 3, 2, 6, 5
  `)
  const rows = (result as { rows: Record<string, unknown>[] }).rows
  const rest = rows.find(r => r.kind === 'unallocated')
  return {
    unallocated: (rest?.charge as string | undefined) ?? '0',
    lines: rows
      .filter(r => r.kind === 'line')
      .map(r => ({
        organisationId: r.organisation_id as string,
        organisation: r.organisation as string,
        costCentreId: (r.cost_centre_id as string | null) ?? null,
        serviceId: r.service_id as string,
        service: r.service as string,
        share: r.share as string,
        charge: r.charge as string,
        cost: r.cost as string
      }))
  }
}

export interface ClassCostRow {
  ciClass: string
  cost: string
  ciCount: number
}

/** Direct CI costs over the range grouped by CI class. */
export async function classCosts(q: Queryable, range: MonthRange, base: string): Promise<ClassCostRow[]> {
  const result = await q.execute(sql`
    with ${ciCostCte(range, base)}
    select ci.class, round(sum(cc.amount), 4)::text as cost, count(distinct ci.id) as cis
    from ci_cost cc join configuration_items ci on ci.id = cc.ci_id
    group by ci.class order by ci.class
  `)
  return (result as { rows: Record<string, unknown>[] }).rows.map(r => ({
    ciClass: r.class as string,
    cost: r.cost as string,
    ciCount: Number(r.cis)
  }))
}

export interface CostCentreCostRow {
  costCentreId: string
  code: string
  name: string
  parentId: string | null
  ownCost: string
  cost: string
}

/**
 * Direct CI costs over the range per cost centre (the CI's cost_centre_id), each rolled up to every
 * ancestor: `cost` is the centre's own plus all of its descendants'. The tree is acyclic (the cost
 * centre service refuses a move beneath itself); the walk still keeps a path.
 */
export async function costCentreCosts(q: Queryable, range: MonthRange, base: string): Promise<CostCentreCostRow[]> {
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base)},
    own(cc_id, amount) as (
      select ci.cost_centre_id, sum(cc.amount) from ci_cost cc join configuration_items ci on ci.id = cc.ci_id
      where ci.cost_centre_id is not null group by ci.cost_centre_id
    ),
    up(origin, id, path) as (
      select id, id, array[id] from cost_centres
      union all
      select u.origin, c.parent_id, u.path || c.parent_id from up u join cost_centres c on c.id = u.id
      where c.parent_id is not null and not c.parent_id = any(u.path)
    )
    select c.id, c.code, c.name, c.parent_id,
      round(coalesce((select amount from own where cc_id = c.id), 0), 4)::text as own,
      round(coalesce(sum(o.amount), 0), 4)::text as cost
    from cost_centres c
    left join up u on u.id = c.id
    left join own o on o.cc_id = u.origin
    group by c.id, c.code, c.name, c.parent_id
    order by lower(c.code)
  `)
  return (result as { rows: Record<string, unknown>[] }).rows.map(r => ({
    costCentreId: r.id as string,
    code: r.code as string,
    name: r.name as string,
    parentId: (r.parent_id as string | null) ?? null,
    ownCost: r.own as string,
    cost: r.cost as string
  }))
}

export interface BudgetActualRow {
  budgetId: string
  costCentreId: string
  code: string
  period: string
  periodStart: string
  budget: string
  actual: string
  variance: string
}

/**
 * Every budget whose period starts in the range against the actual cost of its period: the direct CI
 * costs of its cost centre and every descendant over the period's months, both in the reporting
 * currency (the budget at the rate in force on its first day). variance = budget - actual.
 */
export async function budgetActuals(q: Queryable, range: MonthRange, base: string): Promise<BudgetActualRow[]> {
  // A year budget starting in the last month runs eleven months past it
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base, 11)},
    down(origin, id, path) as (
      select id, id, array[id] from cost_centres
      union all
      select d.origin, c.id, d.path || c.id from down d join cost_centres c on c.parent_id = d.id
      where not c.id = any(d.path)
    ),
    b as (
      select b.*, (b.period_start + make_interval(months => case b.period when 'quarter' then 3 when 'year' then 12 else 1 end))::date as period_end,
        b.amount * case when b.currency = ${base} then 1 else coalesce((
          select x.rate from exchange_rates x where x.currency = b.currency and x.valid_from <= b.period_start
          order by x.valid_from desc limit 1), 0) end as converted
      from budgets b where b.period_start between ${range.from}::date and ${range.to}::date
    )
    select b.id, b.cost_centre_id, c.code, b.period, b.period_start::text as period_start,
      round(b.converted, 4)::text as budget,
      round(a.actual, 4)::text as actual, round(b.converted - a.actual, 4)::text as variance
    from b join cost_centres c on c.id = b.cost_centre_id
    cross join lateral (
      select coalesce(sum(cc.amount), 0) from down d join configuration_items ci on ci.cost_centre_id = d.id
      join ci_cost cc on cc.ci_id = ci.id
      where d.origin = b.cost_centre_id and cc.month >= b.period_start and cc.month < b.period_end
    ) a(actual)
    order by lower(c.code), b.period_start, b.period
  `)
  return (result as { rows: Record<string, unknown>[] }).rows.map(r => ({
    budgetId: r.id as string,
    costCentreId: r.cost_centre_id as string,
    code: r.code as string,
    period: r.period as string,
    periodStart: r.period_start as string,
    budget: r.budget as string,
    actual: r.actual as string,
    variance: r.variance as string
  }))
}

/** The change statuses whose cost deltas the forecast counts: approved, not yet implemented and reviewed. */
export const APPROVED_CHANGE_STATUSES = ['scheduled', 'implement'] as const

export interface ForecastChange {
  changeId: string
  /** The change's number in its sequence (the caller spells it CHG-…). */
  number: number
  amount: string
}

export interface ForecastRow {
  month: string
  depreciation: string
  recurring: string
  fromChanges: string
  cost: string
  changes: ForecastChange[]
}

/**
 * The months ahead, each CI cost as the reports count it (depreciation schedules and recurring costs
 * with their end dates), converted at the rate in force on each month's first day (for months ahead:
 * the latest rate entered), per month, split into depreciation (capital) and recurring; and the cost
 * deltas of approved changes (APPROVED_CHANGE_STATUSES) as `fromChanges`, with each change's part:
 * an add counts its amount (converted likewise) in every month from its effective month (monthly) or
 * in that month (one_off); a retire takes away all of its CI's costs (recurring and the depreciation
 * left) from its effective month. A CI retired by several approved changes stops once, at the
 * earliest (the first by number on a tie).
 */
export async function forecast(q: Queryable, range: MonthRange, base: string): Promise<ForecastRow[]> {
  const statuses = sql.join(
    APPROVED_CHANGE_STATUSES.map(s => sql`${s}`),
    sql`, `
  )
  const result = await q.execute(sql`
    with ${ciCostCte(range, base)},
    -- Read twice: inlined each time (not materialised), so the totals stream and a retire reads only
    -- its CI's costs (by the ci_id index); each month's rate is joined, not looked up per cost
    converted(ci_id, month, kind, amount) as not materialized (
      select r.ci_id, r.month, r.kind,
        case when r.currency = ${base} then r.amount else r.amount * coalesce(x.rate, 0) end
      from raw_cost r left join rate x on x.currency = r.currency and x.m = r.month
    ),
    approved(id, number) as (
      select t.id, t.number from tickets t where t.kind = 'change' and t.status in (${statuses})
    ),
    retired(ci_id, change_id, number, effective_month) as (
      select distinct on (d.ci_id) d.ci_id, d.change_id, a.number, d.effective_month
      from change_cost_deltas d join approved a on a.id = d.change_id where d.action = 'retire'
      order by d.ci_id, d.effective_month, a.number
    ),
    delta(change_id, number, month, amount) as (
      select d.change_id, a.number, mo.m, d.amount * ${rateOn(sql`d.currency`, sql`mo.m`, base)}
      from change_cost_deltas d join approved a on a.id = d.change_id cross join months mo
      where d.action = 'add'
        and case when d.recurrence = 'monthly' then mo.m >= d.effective_month else mo.m = d.effective_month end
      union all
      select r.change_id, r.number, c.month, -c.amount
      from retired r join converted c on c.ci_id = r.ci_id and c.month >= r.effective_month
      where c.amount <> 0
    ),
    by_change(month, change_id, number, amount) as (
      select month, change_id, number, sum(amount) from delta group by month, change_id, number
    ),
    change_month(month, amount, list) as (
      select month, sum(amount), json_agg(json_build_object('changeId', change_id, 'number', number,
        'amount', round(amount, 4)::text) order by number)
      from by_change group by month
    ),
    cost_month(month, depreciation, recurring) as (
      select month, coalesce(sum(amount) filter (where kind = 'capital'), 0),
        coalesce(sum(amount) filter (where kind <> 'capital'), 0)
      from converted group by month
    )
    select to_char(mo.m, 'YYYY-MM') as month,
      round(coalesce(c.depreciation, 0), 4)::text as depreciation,
      round(coalesce(c.recurring, 0), 4)::text as recurring,
      round(coalesce(ch.amount, 0), 4)::text as from_changes,
      round(coalesce(c.depreciation, 0) + coalesce(c.recurring, 0) + coalesce(ch.amount, 0), 4)::text as cost,
      coalesce(ch.list, '[]'::json) as changes
    from months mo left join cost_month c on c.month = mo.m left join change_month ch on ch.month = mo.m
    order by mo.m
  `)
  return (result as { rows: Record<string, unknown>[] }).rows.map(r => ({
    month: r.month as string,
    depreciation: r.depreciation as string,
    recurring: r.recurring as string,
    fromChanges: r.from_changes as string,
    cost: r.cost as string,
    changes: (typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes) as ForecastChange[]
  }))
}
