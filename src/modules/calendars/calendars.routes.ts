import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorResponses, IdParams } from '../../lib/schemas.js'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  BusinessMinutes,
  BusinessMinutesQuery,
  Calendar,
  CalendarListQuery,
  CreateCalendarBody,
  Deadline,
  DeadlineQuery,
  UpdateCalendarBody
} from './calendars.schemas.js'

/** REST door to business calendars (staff read, admins write) and the two reads the clocks use. */
export default async function calendarRoutes(parent: FastifyInstance) {
  adminRoutes(parent, {
    path: '/calendars',
    tags: ['calendars'],
    view: Calendar,
    listQuery: CalendarListQuery,
    create: CreateCalendarBody,
    patch: UpdateCalendarBody,
    summary: {
      list: 'List business calendars by name (staff)',
      create: 'Create a business calendar: time zone, hours per weekday, holidays, exceptions (admin)',
      get: 'Get a business calendar (staff)',
      update: 'Update a business calendar; hours, holidays and exceptions, when given, replace the old ones (admin)',
      remove: 'Delete a business calendar nothing names (admin)'
    },
    description: {
      create:
        'Hours are "HH:MM" wall-clock intervals in timeZone ("24:00" ends one at midnight); a holiday is ' +
        '{ date } or { month, day, yearly: true }; an exception replaces its date’s hours, holiday or not.'
    },
    service: app => app.services.calendars
  })

  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  const calendars = parent.services.calendars

  app.get(
    '/calendars/:id/deadline',
    {
      schema: {
        tags: ['calendars'],
        summary: 'The instant when `minutes` business minutes after `from` have passed (staff)',
        description:
          'Counts real elapsed time inside the working intervals (DST days are as long as they really are). ' +
          '422 naming minutes when the calendar does not hold that much working time within a century.',
        params: IdParams,
        querystring: DeadlineQuery,
        response: { 200: Deadline, ...errorResponses(403, 404, 422) }
      }
    },
    async request => {
      const { from, minutes } = request.query
      const at = await calendars.deadline(request.ctx(), request.params.id, new Date(from), minutes)
      return { deadline: at.toISOString() }
    }
  )

  app.get(
    '/calendars/:id/business-minutes',
    {
      schema: {
        tags: ['calendars'],
        summary: 'Business minutes between two instants (staff)',
        params: IdParams,
        querystring: BusinessMinutesQuery,
        response: { 200: BusinessMinutes, ...errorResponses(403, 404, 422) }
      }
    },
    async request => {
      const { from, to } = request.query
      return {
        minutes: await calendars.businessMinutes(request.ctx(), request.params.id, new Date(from), new Date(to))
      }
    }
  )
}
