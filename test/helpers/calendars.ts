import type { BusinessCalendar } from '../../src/lib/business-time.js'

/**
 * The calendar, as integrators will write it: Mon 8 h (lunch break), Tue 9 h, Wed none, Thu 9 h,
 * Fri 16 h (until midnight); a plain week holds 42 h = 2,520 business minutes.
 */
export const PARIS: BusinessCalendar = {
  timeZone: 'Europe/Paris',
  hours: {
    mon: [
      ['08:00', '12:00'],
      ['13:00', '17:00']
    ],
    tue: [['08:00', '17:00']],
    wed: [],
    thu: [['08:00', '17:00']],
    fri: [['08:00', '24:00']],
    sat: [],
    sun: []
  },
  holidays: [
    { date: '2026-12-25', name: 'Christmas' },
    { month: 5, day: 1, yearly: true, name: 'Labour day' }
  ],
  exceptions: [{ date: '2026-12-19', hours: [['09:00', '13:00']] }]
}
