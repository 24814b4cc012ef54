/** The types an admin-defined field can have, and what the filter compiler and validators need of one. */
export const CUSTOM_FIELD_TYPES = ['text', 'number', 'date', 'boolean', 'choice', 'multichoice', 'user', 'ci'] as const
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number]

export interface CustomFieldSpec {
  key: string
  type: CustomFieldType
  /** Allowed values of choice and multichoice fields. */
  options?: readonly string[]
}
