import { type SQL, sql } from 'drizzle-orm'
import type { Queryable } from '../../lib/context.js'

/** A report's months: the first day of the first and of the last month, both included. */
export interface MonthRange {
  from: string
  to: string
}

/**
 * Each CI's own cost per month of the range, in the reporting currency, as `ci_cost(ci_id, month,
 * amount)`: capital costs depreciate straight-line, (amount - residual) / months, in each month from
 * the purchase month for depreciation_months months; recurring costs give amount per month (a quarter
 * a third, a year a twelfth) times the share of the month's days they run. A foreign amount converts
 * at the rate in force on the month's first day (none in force: counted as 0 and listed by the caller).
 */
function ciCostCte(range: MonthRange, base: string, toSql?: SQL): SQL {
  const to = toSql ?? sql`${range.to}::date`
  return sql`
    months(m) as (
      select generate_series(${range.from}::date, ${to}, interval '1 month')::date
    ),
    raw_cost(ci_id, month, currency, amount) as (
      select c.ci_id, mo.m, c.currency,
        case when c.kind = 'capital' then
          case when mo.m >= date_trunc('month', c.start_date)::date
                and mo.m < (date_trunc('month', c.start_date) + make_interval(months => c.depreciation_months))::date
               then (c.amount - coalesce(c.residual_value, 0)) / c.depreciation_months else 0 end
        else
          c.amount / (case c.period when 'quarter' then 3 when 'year' then 12 else 1 end)
          * greatest(0, (least(coalesce(c.end_date, 'infinity'::date), (mo.m + interval '1 month' - interval '1 day')::date)
                        - greatest(c.start_date, mo.m) + 1))::numeric
          / ((mo.m + interval '1 month')::date - mo.m)
        end
      from ci_costs c cross join months mo
    ),
    ci_cost(ci_id, month, amount) as (
      select r.ci_id, r.month, sum(r.amount * case when r.currency = ${base} then 1 else coalesce((
        select x.rate from exchange_rates x
        where x.currency = r.currency and x.valid_from <= r.month order by x.valid_from desc limit 1
      ), 0) end)
      from raw_cost r where r.amount <> 0 group by r.ci_id, r.month
    )`
}

export interface AllocationOptions {
  /** even: each CI's cost splits evenly over the CIs that stand on it; usage: by their numeric attribute. */
  split: 'even' | 'usage'
  usageAttribute?: string
  /** The classes whose CIs are services (with their subclasses). */
  serviceClass: string
  depth: number
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

/**
 * The cost of every service CI over the range, in one recursive query: each service walks downstream
 * (source → target: what it runs on, depends on) carrying the share it bears of each CI it reaches.
 * The share of a hop X → T is X's weight over the weights of every CI standing on T (evenly, 1 each;
 * or by X's usage attribute, 0 when missing; evenly when none of them has it), multiplied along the
 * path. A path never revisits a CI,
 * so a cycle ends (the share a cycle routes back into itself is nobody's); a CI reached by two paths
 * of one service is counted on each (its shares add up).
 */
export async function serviceCosts(
  q: Queryable,
  range: MonthRange,
  base: string,
  opts: AllocationOptions
): Promise<ServiceCostRow[]> {
  const weight =
    opts.split === 'usage'
      ? sql`coalesce(case when jsonb_typeof(src.attributes -> ${opts.usageAttribute ?? ''}) = 'number'
              then (src.attributes ->> ${opts.usageAttribute ?? ''})::numeric end, 0)`
      : sql`1::numeric`
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base)},
    service_classes(name) as (
      select name from ci_classes where name = ${opts.serviceClass}
      union
      select c.name from ci_classes c join ci_classes p on p.id = c.parent_id join service_classes s on s.name = p.name
    ),
    edge(source_id, target_id, w) as (
      select r.source_id, r.target_id, ${weight} from ci_relationships r
      join configuration_items src on src.id = r.source_id
    ),
    edge_share(source_id, target_id, share) as (
      select source_id, target_id,
        case when sum(w) over (partition by target_id) = 0 then 1::numeric / count(*) over (partition by target_id)
             else w / sum(w) over (partition by target_id) end
      from edge
    ),
    walk(root, id, share, path, depth) as (
      select ci.id, ci.id, 1::numeric, array[ci.id], 0
      from configuration_items ci where ci.class in (select name from service_classes)
      union all
      select w.root, e.target_id, w.share * e.share, w.path || e.target_id, w.depth + 1
      from walk w join edge_share e on e.source_id = w.id
      where w.depth < ${opts.depth} and not e.target_id = any(w.path) and e.share > 0
    ),
    totals(root, own, shared, cis) as (
      select w.root,
        coalesce(sum(cc.amount) filter (where w.depth = 0), 0),
        coalesce(sum(cc.amount * w.share) filter (where w.depth > 0), 0),
        count(distinct w.id) filter (where w.depth > 0)
      from walk w left join (select ci_id, sum(amount) amount from ci_cost group by ci_id) cc on cc.ci_id = w.id
      group by w.root
    )
    select s.id as service_id, s.name, s.class, s.cost_centre_id,
      round(t.own, 4)::text as own, round(t.shared, 4)::text as shared, round(t.own + t.shared, 4)::text as cost,
      t.cis
    from totals t join configuration_items s on s.id = t.root
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
  const wideTo = sql`(${range.to}::date + interval '11 months')::date`
  const result = await q.execute(sql`
    with recursive ${ciCostCte(range, base, wideTo)},
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
