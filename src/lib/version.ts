import { preconditionFailed, preconditionRequired } from './errors.js'

/**
 * Optimistic concurrency for anything with a `version`: the caller names the version it edited (REST
 * If-Match or body `version`, GraphQL `version`, read with `expectedVersion` in lib/http.ts). None sent
 * is 428, another one 412 with the current version, as tickets answer.
 */
export function checkVersion(noun: string, current: number, expected: number | undefined): void {
  if (expected === undefined) {
    throw preconditionRequired('send If-Match with the ETag (or "version" in the body) of what you edited')
  }
  if (expected !== current) {
    throw preconditionFailed(`the ${noun} was changed by someone else (now version ${current})`, {
      currentVersion: current
    })
  }
}
