import { writeFileSync } from 'node:fs'
import { generateOpenapi } from '../src/openapi.js'

const yaml = await generateOpenapi()
writeFileSync(new URL('../openapi.yaml', import.meta.url), yaml)
console.log(`openapi.yaml written (${yaml.length} bytes)`)
