import fc from 'fast-check'
import { DateTime } from 'luxon'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type BusinessCalendar,
  businessMinutes,
  deadline,
  InvalidCalendar,
  validateCalendar
} from '../../src/lib/business-time.js'
import { PARIS } from '../helpers/calendars.js'

const paris = PARIS

/** Around the clock in Paris: every DST day shows its real length. */
const parisAllDay: BusinessCalendar = {
  timeZone: 'Europe/Paris',
  hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map(d => [d, [['00:00', '24:00']]]))
}

/** Weekdays 09–17 and weekend nights 00–04, across New York's 02:00 changes. */
const newYork: BusinessCalendar = {
  timeZone: 'America/New_York',
  hours: {
    mon: [['09:00', '17:00']],
    tue: [['09:00', '17:00']],
    wed: [['09:00', '17:00']],
    thu: [['09:00', '17:00']],
    fri: [['09:00', '17:00']],
    sat: [['00:00', '04:00']],
    sun: [['00:00', '04:00']]
  },
  holidays: [{ month: 7, day: 4, yearly: true, name: 'Independence day' }]
}

/** 40 h weeks in UTC, no holidays: long targets can be worked out by hand. */
const utcOffice: BusinessCalendar = {
  timeZone: 'UTC',
  hours: {
    mon: [['09:00', '17:00']],
    tue: [['09:00', '17:00']],
    wed: [['09:00', '17:00']],
    thu: [['09:00', '17:00']],
    fri: [['09:00', '17:00']]
  }
}

const at = (iso: string) => new Date(iso)
const due = (c: BusinessCalendar, from: string, minutes: number) => deadline(c, at(from), minutes)?.toISOString()
const between = (c: BusinessCalendar, from: string, to: string) => businessMinutes(c, at(from), at(to))

describe('deadline and businessMinutes', () => {
  it('skips the weekend', () => {
    // Fri 2026-01-09 23:30 CET (22:30Z): 30 min until Friday's 24:00, nothing Sat/Sun,
    // Mon 2026-01-12 08:00 CET (07:00Z) + 30 min = 07:30Z.
    expect(due(paris, '2026-01-09T22:30:00Z', 60)).toBe('2026-01-12T07:30:00.000Z')
    expect(between(paris, '2026-01-09T22:30:00Z', '2026-01-12T07:30:00Z')).toBe(60)
  })

  it('counts several intervals a day and a day without hours', () => {
    // Mon 2026-01-12 11:30 CET: 30 min to 12:00, lunch, 13:00 + 30 = 13:30 CET = 12:30Z.
    expect(due(paris, '2026-01-12T10:30:00Z', 60)).toBe('2026-01-12T12:30:00.000Z')
    // Lunch itself counts nothing: 12:00–13:00 CET.
    expect(between(paris, '2026-01-12T11:00:00Z', '2026-01-12T12:00:00Z')).toBe(0)
    // Tue 2026-01-13 16:00 CET: 60 min to 17:00, Wednesday closed, Thu 08:00 + 60 = 09:00 CET = 08:00Z.
    expect(due(paris, '2026-01-13T15:00:00Z', 120)).toBe('2026-01-15T08:00:00.000Z')
  })

  it('skips a dated holiday', () => {
    // Thu 2026-12-24 16:00 CET: 60 min to 17:00; Fri 25 Christmas; Sat 26/Sun 27 closed;
    // Mon 28 08:00 + 60 = 09:00 CET = 08:00Z.
    expect(due(paris, '2026-12-24T15:00:00Z', 120)).toBe('2026-12-28T08:00:00.000Z')
    expect(between(paris, '2026-12-24T23:00:00Z', '2026-12-25T23:00:00Z')).toBe(0)
  })

  it('skips a yearly holiday in every year', () => {
    // Fri 2026-05-01: Thu 30 Apr 16:00 CEST (14:00Z) + 60 to 17:00, Friday off, Mon 4 May 08:00 CEST
    // + 60 = 09:00 CEST = 07:00Z.
    expect(due(paris, '2026-04-30T14:00:00Z', 120)).toBe('2026-05-04T07:00:00.000Z')
    // Mon 2028-05-01: Fri 28 Apr 23:00 CEST (21:00Z) + 60 to 24:00, weekend, Monday off,
    // Tue 2 May 08:00 CEST + 60 = 09:00 CEST = 07:00Z.
    expect(due(paris, '2028-04-28T21:00:00Z', 120)).toBe('2028-05-02T07:00:00.000Z')
  })

  it('works an exception day, and an exception replaces a holiday', () => {
    // Sat 2026-12-19 is an extra working morning 09:00–13:00: Fri 18 23:00 CET + 60 to 24:00,
    // Sat 09:00 + 60 = 10:00 CET = 09:00Z.
    expect(due(paris, '2026-12-18T22:00:00Z', 120)).toBe('2026-12-19T09:00:00.000Z')
    expect(between(paris, '2026-12-18T23:00:00Z', '2026-12-19T23:00:00Z')).toBe(240)
    const openOnChristmas: BusinessCalendar = {
      ...paris,
      exceptions: [
        { date: '2026-12-25', hours: [['10:00', '12:00']] },
        { date: '2026-12-28', hours: [] }
      ]
    }
    // Thu 24 16:00 CET + 60 to 17:00, Fri 25 10:00 + 60 = 11:00 CET = 10:00Z.
    expect(due(openOnChristmas, '2026-12-24T15:00:00Z', 120)).toBe('2026-12-25T10:00:00.000Z')
    // An empty exception closes a working Monday: Fri 25 12:00 CET (11:00Z) + 60 skips Mon 28,
    // Tue 29 08:00 + 60 = 09:00 CET = 08:00Z.
    expect(due(openOnChristmas, '2026-12-25T11:00:00Z', 60)).toBe('2026-12-29T08:00:00.000Z')
  })

  it('ends an interval at midnight with "24:00"', () => {
    // Friday 08:00–24:00 CET is 16 h = 960 min.
    expect(between(paris, '2026-01-08T23:00:00Z', '2026-01-09T23:00:00Z')).toBe(960)
    // Fri 2026-01-09 08:00 CET + 960 = Sat 00:00 CET = Fri 23:00Z; one more minute is Mon 08:01 CET.
    expect(due(paris, '2026-01-09T07:00:00Z', 960)).toBe('2026-01-09T23:00:00.000Z')
    expect(due(paris, '2026-01-09T07:00:00Z', 961)).toBe('2026-01-12T07:01:00.000Z')
  })

  it('counts Europe/Paris spring forward (2026-03-29) in real time', () => {
    // Sunday 00:00 CET (Sat 23:00Z) to Monday 00:00 CEST (Sun 22:00Z): a 23-hour day.
    expect(between(parisAllDay, '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23 * 60)
    // 3 h after Sunday 00:00 CET is 02:00Z = 04:00 CEST (the wall clock skipped 02:00–03:00).
    expect(due(parisAllDay, '2026-03-28T23:00:00Z', 180)).toBe('2026-03-29T02:00:00.000Z')
    // 01:00 CET (00:00Z) to 05:00 CEST (03:00Z) is 4 wall-clock hours but 3 real ones.
    const night: BusinessCalendar = { timeZone: 'Europe/Paris', hours: { sun: [['01:00', '05:00']] } }
    expect(between(night, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(180)
    // A bound in the missing hour moves forward as luxon does: "02:30" is 03:30 CEST (01:30Z), so
    // 02:30–04:00 counts 30 min, and 01:00–02:30 ends at 03:30 CEST too (00:00Z–01:30Z, 90 min).
    const gap: BusinessCalendar = { timeZone: 'Europe/Paris', hours: { sun: [['02:30', '04:00']] } }
    expect(between(gap, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(30)
    expect(due(gap, '2026-03-28T00:00:00Z', 10)).toBe('2026-03-29T01:40:00.000Z')
    // Shifted bounds that overlap count once: 01:00–02:30 ends at 01:30Z, 03:00–04:00 starts at
    // 01:00Z: the union 00:00Z–02:00Z is 120 min, not 150.
    const overlap: BusinessCalendar = {
      timeZone: 'Europe/Paris',
      hours: {
        sun: [
          ['01:00', '02:30'],
          ['03:00', '04:00']
        ]
      }
    }
    expect(between(overlap, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(120)
    expect(due(overlap, '2026-03-28T00:00:00Z', 120)).toBe('2026-03-29T02:00:00.000Z')
  })

  it('counts Europe/Paris fall back (2026-10-25) in real time', () => {
    // Sunday 00:00 CEST (Sat 22:00Z) to Monday 00:00 CET (Sun 23:00Z): a 25-hour day.
    expect(between(parisAllDay, '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')).toBe(25 * 60)
    // 4 h after Sunday 00:00 CEST is 02:00Z = 03:00 CET.
    expect(due(parisAllDay, '2026-10-24T22:00:00Z', 240)).toBe('2026-10-25T02:00:00.000Z')
    // 01:00 CEST (Sat 23:00Z) to 05:00 CET (04:00Z): 5 real hours.
    const night: BusinessCalendar = { timeZone: 'Europe/Paris', hours: { sun: [['01:00', '05:00']] } }
    expect(between(night, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toBe(300)
    // A bound in the repeated hour takes the second occurrence (luxon's): "02:30" is 02:30 CET
    // (01:30Z), so 02:30–03:30 counts 60 min, not 120.
    const repeated: BusinessCalendar = { timeZone: 'Europe/Paris', hours: { sun: [['02:30', '03:30']] } }
    expect(between(repeated, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toBe(60)
  })

  it('counts the Paris office across the spring change', () => {
    // From Mon 2026-03-23 08:00 CET (07:00Z), one week (2,520) + 60: Mon 480, Tue 540, Thu 540, Fri 960
    // use the week; Mon 30 08:00 CEST (06:00Z) + 60 = 07:00Z.
    expect(due(paris, '2026-03-23T07:00:00Z', 2580)).toBe('2026-03-30T07:00:00.000Z')
    expect(between(paris, '2026-03-23T07:00:00Z', '2026-03-30T07:00:00Z')).toBe(2580)
  })

  it('counts America/New_York spring forward (2026-03-08)', () => {
    // Sunday 00:00 EST (05:00Z) to 04:00 EDT (08:00Z) is 3 h.
    expect(between(newYork, '2026-03-08T00:00:00Z', '2026-03-09T00:00:00Z')).toBe(180)
    // Fri 2026-03-06 16:00 EST (21:00Z) + 540: Fri 60 to 17:00, Sat 00–04 EST 240, Sun 180, leaves 60:
    // Mon 09:00 EDT (13:00Z) + 60 = 14:00Z.
    expect(due(newYork, '2026-03-06T21:00:00Z', 540)).toBe('2026-03-09T14:00:00.000Z')
    expect(between(newYork, '2026-03-06T21:00:00Z', '2026-03-09T14:00:00Z')).toBe(540)
  })

  it('counts America/New_York fall back (2026-11-01)', () => {
    // Sunday 00:00 EDT (04:00Z) to 04:00 EST (09:00Z) is 5 h.
    expect(between(newYork, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z')).toBe(300)
    // Fri 2026-10-30 16:00 EDT (20:00Z) + 660: Fri 60, Sat 00–04 EDT 240, Sun 300, leaves 60:
    // Mon 09:00 EST (14:00Z) + 60 = 15:00Z.
    expect(due(newYork, '2026-10-30T20:00:00Z', 660)).toBe('2026-11-02T15:00:00.000Z')
  })

  it('reaches targets that span weeks', () => {
    // Paris office from Mon 2026-01-05 08:00 CET: ten plain 2,520-minute weeks end on Fri 13 March at
    // 24:00 CET (23:00Z); one minute more is Mon 16 March 08:01 CET (07:01Z).
    expect(due(paris, '2026-01-05T07:00:00Z', 25_200)).toBe('2026-03-13T23:00:00.000Z')
    expect(due(paris, '2026-01-05T07:00:00Z', 25_201)).toBe('2026-03-16T07:01:00.000Z')
    expect(between(paris, '2026-01-05T07:00:00Z', '2026-03-13T23:00:00Z')).toBe(25_200)
    // 1,000,000 minutes of 40-hour UTC weeks from Mon 2026-01-05 09:00: 416 weeks (2,912 days) use
    // 998,400, then Mon–Wed 1,440 and Thu 160 (09:00 + 2 h 40): day 2,915 = Thu 2033-12-29 11:40Z.
    const started = performance.now()
    expect(due(utcOffice, '2026-01-05T09:00:00Z', 1_000_000)).toBe('2033-12-29T11:40:00.000Z')
    expect(between(utcOffice, '2026-01-05T09:00:00Z', '2033-12-29T11:40:00Z')).toBe(1_000_000)
    // And on the calendar with holidays, exceptions and DST, a million minutes round-trips.
    const far = deadline(paris, at('2026-01-05T07:00:00Z'), 1_000_000)
    expect(far).not.toBeNull()
    expect(businessMinutes(paris, at('2026-01-05T07:00:00Z'), far as Date)).toBe(1_000_000)
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('answers 0 minutes at once and negative spans as negative', () => {
    expect(due(paris, '2026-01-10T12:00:00Z', 0)).toBe('2026-01-10T12:00:00.000Z')
    expect(between(paris, '2026-01-12T12:30:00Z', '2026-01-12T10:30:00Z')).toBe(-60)
    // Instants off the minute count fractions: 30 s inside Monday's morning.
    expect(between(paris, '2026-01-12T08:00:00Z', '2026-01-12T08:00:30Z')).toBe(0.5)
  })

  it('does not loop on a calendar with no working time', () => {
    const closed: BusinessCalendar = { timeZone: 'Europe/Paris', hours: {} }
    expect(deadline(closed, at('2026-01-01T00:00:00Z'), 1)).toBeNull()
    expect(between(closed, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z')).toBe(0)
    // Only one exception day: 4 h are there to use, then nothing ever again.
    const once: BusinessCalendar = { ...closed, exceptions: [{ date: '2026-06-06', hours: [['09:00', '13:00']] }] }
    // 2026-06-06 09:00 CEST = 07:00Z; + 240 = 11:00Z.
    expect(due(once, '2026-01-01T00:00:00Z', 240)).toBe('2026-06-06T11:00:00.000Z')
    expect(deadline(once, at('2026-01-01T00:00:00Z'), 241)).toBeNull()
    // Hours every weekday but a yearly holiday on every day of the year.
    const allHolidays: BusinessCalendar = {
      timeZone: 'UTC',
      hours: utcOffice.hours,
      holidays: Array.from({ length: 366 }, (_, i) => {
        const d = DateTime.utc(2028, 1, 1).plus({ days: i })
        return { month: d.month, day: d.day, yearly: true as const }
      })
    }
    expect(deadline(allHolidays, at('2026-01-01T00:00:00Z'), 1)).toBeNull()
  })
})

describe('the process time zone', () => {
  const saved = process.env.TZ
  afterEach(() => {
    process.env.TZ = saved
  })

  // Fresh calendar objects each time, so nothing compiled under another TZ is reused.
  const answers = () => [
    due(structuredClone(paris), '2026-01-09T22:30:00Z', 60),
    due(structuredClone(paris), '2026-03-23T07:00:00Z', 2580),
    due(structuredClone(paris), '2026-12-24T15:00:00Z', 120),
    due(structuredClone(newYork), '2026-03-06T21:00:00Z', 540),
    due(structuredClone(newYork), '2026-10-30T20:00:00Z', 660),
    between(structuredClone(parisAllDay), '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'),
    between(structuredClone(paris), '2026-01-05T07:00:00Z', '2026-03-13T23:00:00Z')
  ]

  it('gives the same answers whatever TZ the server runs with', () => {
    const expected = [
      '2026-01-12T07:30:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-12-28T08:00:00.000Z',
      '2026-03-09T14:00:00.000Z',
      '2026-11-02T15:00:00.000Z',
      1500,
      25_200
    ]
    for (const tz of ['Pacific/Auckland', 'UTC', 'America/Los_Angeles', 'Asia/Kolkata']) {
      process.env.TZ = tz
      // The change took: the process's own offset is that zone's.
      expect(
        new Date('2026-01-01T00:00:00Z').getTimezoneOffset() +
          DateTime.fromISO('2026-01-01T00:00:00Z', { zone: tz }).offset
      ).toBe(0)
      expect(answers()).toEqual(expected)
    }
  })
})

describe('validateCalendar', () => {
  it('accepts the issue body', () => {
    expect(validateCalendar(paris)).toEqual([])
  })

  it('names every bad field at once', () => {
    const errors = validateCalendar({
      timeZone: 'Europe/Parys',
      hours: {
        mon: [
          ['08:00', '12:00'],
          ['11:00', '13:00']
        ],
        tue: [['17:00', '08:00']],
        wed: [['8:00', '24:30']],
        thu: [['09:00', '09:00']],
        caturday: []
      } as BusinessCalendar['hours'],
      holidays: [{ date: '2026-02-30' }, { month: 13, day: 1, yearly: true }, { month: 2, day: 30, yearly: true }],
      exceptions: [
        { date: '2026-12-19', hours: [['09:00', '25:00']] },
        { date: '2026-12-19', hours: [] }
      ]
    })
    expect(errors.map(e => e.field)).toEqual([
      'timeZone',
      'hours.mon.1',
      'hours.tue.0',
      'hours.wed.0.0',
      'hours.wed.0.1',
      'hours.thu.0',
      'hours.caturday',
      'holidays.0.date',
      'holidays.1.month',
      'holidays.2.day',
      'exceptions.0.hours.0.1',
      'exceptions.1.date'
    ])
    expect(errors.find(e => e.field === 'hours.mon.1')?.message).toBe('overlaps hours.mon.0')
  })

  it('refuses to compute on an invalid calendar', () => {
    expect(() => deadline({ timeZone: 'Nowhere/Land', hours: {} }, at('2026-01-01T00:00:00Z'), 1)).toThrow(
      InvalidCalendar
    )
  })

  it('allows 29 February as a yearly holiday, touching intervals and 00:00–24:00', () => {
    expect(
      validateCalendar({
        timeZone: 'UTC',
        hours: {
          mon: [
            ['08:00', '12:00'],
            ['12:00', '13:00']
          ],
          sun: [['00:00', '24:00']]
        },
        holidays: [{ month: 2, day: 29, yearly: true }]
      })
    ).toEqual([])
  })
})

// ---- properties ----

/**
 * A plain reference: every working interval as instants, day by day with no week skipping, merged,
 * then walked. Slow but obviously right for short spans.
 */
const referenceIntervals = (c: BusinessCalendar, fromDay: DateTime, days: number): [number, number][] => {
  const list: [number, number][] = []
  const keys = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
  for (let i = 0; i < days; i++) {
    const day = fromDay.plus({ days: i })
    const iso = day.toISODate() as string
    const exception = c.exceptions?.find(e => e.date === iso)
    const holiday = c.holidays?.some(h => ('yearly' in h ? h.month === day.month && h.day === day.day : h.date === iso))
    const hours = exception
      ? exception.hours
      : holiday
        ? []
        : (c.hours[keys[day.weekday - 1] as (typeof keys)[number]] ?? [])
    for (const [s, e] of hours) {
      const bound = (t: string) => {
        const [h, m] = t.split(':').map(Number) as [number, number]
        return DateTime.fromObject(
          { year: day.year, month: day.month, day: day.day, hour: 0, minute: 0 },
          { zone: c.timeZone }
        )
          .set(h === 24 ? {} : { hour: h, minute: m })
          .plus(h === 24 ? { days: 1 } : {})
          .toMillis()
      }
      list.push([bound(s), bound(e)])
    }
  }
  list.sort((a, b) => a[0] - b[0])
  const merged: [number, number][] = []
  for (const [s, e] of list) {
    const last = merged[merged.length - 1]
    if (last && s <= last[1]) last[1] = Math.max(last[1], e)
    else if (e > s) merged.push([s, e])
  }
  return merged
}

const referenceDeadline = (c: BusinessCalendar, from: Date, minutes: number): number | null => {
  const start = DateTime.fromJSDate(from, { zone: c.timeZone }).startOf('day').minus({ days: 1 })
  let remaining = minutes * 60_000
  for (const [s, e] of referenceIntervals(c, start, 80)) {
    const a = Math.max(s, from.getTime())
    if (e <= a) continue
    if (remaining <= e - a) return a + remaining
    remaining -= e - a
  }
  return null
}

const calendars = { paris, parisAllDay, newYork, utcOffice }
const fromArb = fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2028, 11, 31) }).map(ms => new Date(ms))
const calendarArb = fc.constantFrom(...(Object.keys(calendars) as (keyof typeof calendars)[]))

describe('properties', () => {
  it('businessMinutes(from, deadline(from, n)) == n, and the deadline is the first such instant', () => {
    fc.assert(
      fc.property(calendarArb, fromArb, fc.integer({ min: 1, max: 200_000 }), (name, from, n) => {
        const c = calendars[name]
        const d = deadline(c, from, n) as Date
        expect(businessMinutes(c, from, d)).toBe(n)
        expect(businessMinutes(c, from, new Date(d.getTime() - 1))).toBeLessThan(n)
      }),
      { numRuns: 200 }
    )
  })

  it('agrees with a plain day-by-day reference over a few weeks', () => {
    fc.assert(
      fc.property(calendarArb, fromArb, fc.integer({ min: 1, max: 6_000 }), (name, from, n) => {
        const c = calendars[name]
        expect(deadline(c, from, n)?.getTime()).toBe(referenceDeadline(c, from, n))
      }),
      { numRuns: 150 }
    )
  })

  it('is monotonic: more minutes never come earlier, a later end never counts less', () => {
    fc.assert(
      fc.property(
        calendarArb,
        fromArb,
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (name, from, a, b) => {
          const c = calendars[name]
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          const dLo = deadline(c, from, lo) as Date
          const dHi = deadline(c, from, hi) as Date
          expect(dLo.getTime()).toBeLessThanOrEqual(dHi.getTime())
          expect(businessMinutes(c, from, dLo)).toBeLessThanOrEqual(businessMinutes(c, from, dHi))
        }
      ),
      { numRuns: 200 }
    )
  })

  it('adds up: minutes from a to c are minutes from a to b plus b to c', () => {
    fc.assert(
      fc.property(calendarArb, fromArb, fromArb, fromArb, (name, x, y, z) => {
        const c = calendars[name]
        const [a, b, d] = [x, y, z].sort((p, q) => p.getTime() - q.getTime()) as [Date, Date, Date]
        const whole = businessMinutes(c, a, d)
        const parts = businessMinutes(c, a, b) + businessMinutes(c, b, d)
        expect(Math.abs(whole - parts)).toBeLessThan(1e-6)
      }),
      { numRuns: 60 }
    )
  })
})

describe('the horizon', () => {
  it('gives up after about a century instead of walking on', () => {
    // One minute a week: 10,000,000 minutes would be 190,000 years away.
    const sparse: BusinessCalendar = { timeZone: 'UTC', hours: { mon: [['09:00', '09:01']] } }
    const started = performance.now()
    expect(deadline(sparse, at('2026-01-05T00:00:00Z'), 10_000_000)).toBeNull()
    // 52 Mondays from Mon 2026-01-05: the 52nd is 2026-12-28, its minute ends at 09:01.
    expect(due(sparse, '2026-01-05T00:00:00Z', 52)).toBe('2026-12-28T09:01:00.000Z')
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})
