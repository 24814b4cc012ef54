import { directoryCases } from './directory.cases.js'
import { slapdMissing, startSlapd } from './slapd.js'

// The real OpenLDAP server from shared/ldap; where it is not installed these cases are skipped and
// fake-directory.test.ts runs the same ones against an in-process LDAP server.
const missing = slapdMissing()
if (missing) process.stderr.write(`test/ldap/slapd.test.ts skipped: ${missing}\n`)
directoryCases(missing ? `slapd (SKIPPED: ${missing})` : 'slapd (shared/ldap fixture)', startSlapd, missing)
