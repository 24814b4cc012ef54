import { sql } from 'drizzle-orm'
import type { Queryable } from '../../lib/context.js'

export interface ServiceCostDbRow {
  service_id: string
  name: string
  class: string
  cost_centre_id: string | null
  own_cost: string | null
  shared_cost: string | null
  ci_count: number | string
}

/**
 * The cost of every service CI (class `service` or a class below it) for the month starting on
 * `first`, in ONE statement over the impact graph:
 * - `walk` follows relationships downstream (source → target: what a CI stands on) from each service,
 *   carrying the path and never stepping onto a CI already on it, so cycles end;
 * - `reach` is each (service, CI) pair once, `sharers` how many services reach a CI: its cost is split
 *   evenly between them (a service CI counts among the sharers of its own costs);
 * - `ci_cost` is each CI's cost in the month in the reporting currency: a recurring cost's monthly
 *   amount (a quarter's / 3, a year's / 12) over the days it runs, a capital cost's (amount − residual)
 *   / months in every month from its purchase month on; each day at the rate in force that day.
 * Multiplications first, one division last, rounded to 4 decimals per service.
 */
export async function serviceCostsOf(q: Queryable, first: string, reportingCurrency: string) {
  const result = await q.execute(sql`
    with recursive
    month as (
      select ${first}::date as first, (${first}::date + interval '1 month')::date as next
    ),
    days as (
      select d::date as day, (select (next - first) from month) as n
      from month, generate_series(month.first, month.next - 1, interval '1 day') d
    ),
    classes(name) as (
      select name from ci_classes where name = 'service'
      union
      select c.name from ci_classes c join ci_classes p on c.parent_id = p.id join classes k on k.name = p.name
    ),
    svc as (
      select ci.id from configuration_items ci where ci.class in (select name from classes)
    ),
    walk(service_id, ci_id, path) as (
      select s.id, s.id, array[s.id] from svc s
      union all
      select w.service_id, r.target_id, w.path || r.target_id
      from walk w join ci_relationships r on r.source_id = w.ci_id
      where not r.target_id = any(w.path)
    ),
    reach as (select distinct service_id, ci_id from walk),
    sharers as (select ci_id, count(*) as n from reach group by ci_id),
    cost_day as (
      select c.id as cost_id, c.ci_id, c.currency, d.n,
        case when c.kind = 'capital' then c.amount - coalesce(c.residual_value, 0) else c.amount end as amount,
        case when c.kind = 'capital' then c.depreciation_months::numeric
          when c.period = 'quarter' then 3 when c.period = 'year' then 12 else 1 end as divisor,
        case when c.currency = ${reportingCurrency} then 1::numeric
          else (select x.rate from exchange_rates x
                where x.currency = c.currency and x.valid_from <= d.day
                order by x.valid_from desc limit 1) end as rate
      from ci_costs c join days d on
        case when c.kind = 'capital'
          then date_trunc('month', d.day) >= date_trunc('month', c.start_date)
           and date_trunc('month', d.day) < date_trunc('month', c.start_date) + make_interval(months => c.depreciation_months)
          else d.day >= c.start_date and (c.end_date is null or d.day <= c.end_date) end
      where c.ci_id in (select ci_id from sharers)
    ),
    cost_month as (
      select ci_id, sum(amount * rate) / (min(divisor) * min(n)) as cost
      from cost_day where rate is not null group by cost_id, ci_id
    ),
    ci_cost as (select ci_id, sum(cost) as cost from cost_month group by ci_id),
    missing as (
      select distinct currency from cost_day where rate is null
    ),
    totals as (
      select r.service_id,
        sum(case when r.ci_id = r.service_id then cc.cost / s.n end) as own_cost,
        sum(case when r.ci_id <> r.service_id then cc.cost / s.n end) as shared_cost,
        count(*) filter (where r.ci_id <> r.service_id) as ci_count
      from reach r join sharers s on s.ci_id = r.ci_id left join ci_cost cc on cc.ci_id = r.ci_id
      group by r.service_id
    )
    select ci.id as service_id, ci.name, ci.class, ci.cost_centre_id,
      round(coalesce(t.own_cost, 0), 4)::text as own_cost,
      round(coalesce(t.shared_cost, 0), 4)::text as shared_cost,
      t.ci_count,
      (select coalesce(array_agg(currency order by currency), '{}') from missing)::text as missing
    from totals t join configuration_items ci on ci.id = t.service_id
    order by lower(ci.name), ci.id
  `)
  return (result as { rows: (ServiceCostDbRow & { missing: string })[] }).rows
}
