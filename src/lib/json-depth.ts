/**
 * Nesting bounds for JSON. Deep values overflow the stack of every recursive walker after the parser
 * (validators, hashing, jsonb encoding), so bodies are bounded before JSON.parse, in one linear pass.
 */

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const OPEN_OBJECT = 123
const CLOSE_OBJECT = 125
const OPEN_ARRAY = 91
const CLOSE_ARRAY = 93

/**
 * Where the JSON `text` first nests deeper than `max` containers, as a field name (`details`,
 * `[3].details`), or null when it does not. Counts brackets outside strings; never parses.
 */
export function tooDeepAt(text: string, max: number): string | null {
  if (text.length <= max) return null
  // one entry per open container: the key or index being read in it (kept only for the field name)
  const keys: (string | number | null)[] = []
  const inArray: boolean[] = []
  let expectKey = false
  let stringStart = -1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (stringStart >= 0) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) {
        if (expectKey && inArray.length > 0 && !inArray[inArray.length - 1]) {
          keys[keys.length - 1] = text.slice(stringStart + 1, Math.min(i, stringStart + 101))
          expectKey = false
        }
        stringStart = -1
      }
      continue
    }
    if (c === QUOTE) stringStart = i
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (keys.length >= max) return fieldName(keys)
      keys.push(c === OPEN_ARRAY ? 0 : null)
      inArray.push(c === OPEN_ARRAY)
      expectKey = c === OPEN_OBJECT
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      keys.pop()
      inArray.pop()
      expectKey = false
    } else if (c === COMMA && inArray.length > 0) {
      if (inArray[inArray.length - 1]) keys[keys.length - 1] = (keys[keys.length - 1] as number) + 1
      else expectKey = true
    }
  }
  return null
}

/** The path down to the first object member: `details`, `[3].details`, or `body` for bare arrays. */
function fieldName(keys: (string | number | null)[]): string {
  let name = ''
  for (const k of keys) {
    if (k === null) break
    if (typeof k === 'number') name += `[${k}]`
    else return name ? `${name}.${k}` : k
  }
  return name || 'body'
}

/** How many containers deep a parsed value nests (a scalar is 0), walked without recursion. */
export function depthOf(value: unknown, stopAfter = Number.POSITIVE_INFINITY): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    const depth = d + 1
    if (depth > deepest) deepest = depth
    if (deepest > stopAfter) return deepest
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth])
    }
  }
  return deepest
}
