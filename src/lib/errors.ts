/** A field-level complaint carried by validation errors: `field` is a JSON path-like name. */
export interface FieldError {
  field: string
  message: string
}

/**
 * Domain errors are values with a stable code and an HTTP status. One REST handler and one GraphQL
 * formatter turn them into answers; nothing else decides a status code.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    message: string,
    readonly errors?: FieldError[],
    readonly extra?: Record<string, unknown>
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new AppError('VALIDATION_FAILED', 400, 'Bad Request', detail, errors)

/**
 * Input the schema refuses, found by code rather than by the route schema (a status no workflow has, a
 * filter value, a template's values): the same 400 VALIDATION_FAILED with every field at once that the
 * schema validator answers, so a client handles one code for one kind of error.
 */
export const invalidInput = (errors: FieldError[], detail?: string) =>
  new AppError(
    'VALIDATION_FAILED',
    400,
    'Bad Request',
    detail ?? errors.map(e => `${e.field}: ${e.message}`).join('; '),
    errors
  )

export const validationFailed = (errors: FieldError[], detail?: string) =>
  new AppError(
    'VALIDATION_FAILED',
    422,
    'Unprocessable Content',
    detail ?? errors.map(e => `${e.field}: ${e.message}`).join('; '),
    errors
  )

export const fieldError = (field: string, message: string) => validationFailed([{ field, message }])

export const unauthenticated = (detail = 'authentication required') =>
  new AppError('UNAUTHENTICATED', 401, 'Unauthorized', detail)

export const forbidden = (detail: string, extra?: Record<string, unknown>) =>
  new AppError('FORBIDDEN', 403, 'Forbidden', detail, undefined, extra)

export const notFound = (what: string) => new AppError('NOT_FOUND', 404, 'Not Found', `${what} not found`)

export const conflict = (detail: string, extra?: Record<string, unknown>, errors?: FieldError[]) =>
  new AppError('CONFLICT', 409, 'Conflict', detail, errors, extra)

export const conflictField = (field: string, message: string) =>
  conflict(`${field}: ${message}`, undefined, [{ field, message }])

export const preconditionFailed = (detail: string, extra?: Record<string, unknown>) =>
  new AppError('PRECONDITION_FAILED', 412, 'Precondition Failed', detail, undefined, extra)

export const preconditionRequired = (detail: string) =>
  new AppError('PRECONDITION_REQUIRED', 428, 'Precondition Required', detail, [{ field: 'If-Match', message: detail }])

export const tooManyRequests = (detail: string) => new AppError('RATE_LIMITED', 429, 'Too Many Requests', detail)

export const unavailable = (detail: string) => new AppError('UNAVAILABLE', 503, 'Service Unavailable', detail)

/** A PostgreSQL unique violation (23505), as node-postgres throws it or drizzle wraps it. */
export const isUniqueViolation = (err: unknown): boolean =>
  (err as { code?: string })?.code === '23505' || (err as { cause?: { code?: string } })?.cause?.code === '23505'
