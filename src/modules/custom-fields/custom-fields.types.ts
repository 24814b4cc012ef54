// The field types live beside the filter compiler that needs them (src/lib stays below the modules)
export { CUSTOM_FIELD_TYPES, type CustomFieldSpec, type CustomFieldType } from '../../lib/custom-field-types.js'
