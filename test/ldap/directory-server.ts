/** What the shared LDAP cases need of a directory: where it is, and ways to change it under the app. */
export interface DirectoryServer {
  kind: 'slapd' | 'fake'
  url: string
  /** Bind requests seen so far; null where the server cannot tell (slapd). */
  binds(): number | null
  addMember(groupDn: string, memberDn: string): Promise<void>
  removeMember(groupDn: string, memberDn: string): Promise<void>
  /** Replace every value of one attribute. */
  replace(dn: string, attribute: string, values: string[]): Promise<void>
  remove(dn: string): Promise<void>
  stop(): Promise<void>
}
