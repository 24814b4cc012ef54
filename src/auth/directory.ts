/** A person as a directory (LDAP, or an SSO proxy's headers) describes them. */
export interface DirectoryIdentity {
  source: 'ldap' | 'sso'
  /** The directory's stable id: the entry DN, or the SSO subject. */
  externalId: string
  username: string
  displayName: string
  email: string | null
  phone: string | null
  department: string | null
  /** Group DNs or names, as the directory gives them. */
  groups: string[]
}

/** A password check against a directory. Null: the directory does not know this user. */
export interface PasswordDirectory {
  name: 'ldap'
  verify(username: string, password: string): Promise<DirectoryIdentity | null>
}
