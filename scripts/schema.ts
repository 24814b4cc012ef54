import { writeFileSync } from 'node:fs'
import { assembleSchema, schemaParts } from '../src/graphql/assemble.js'

const sdl = assembleSchema()
writeFileSync(new URL('../schema.graphql', import.meta.url), sdl)
console.log(`schema.graphql written from ${schemaParts().length} parts (${sdl.length} bytes)`)
