import { describe, expect, it } from 'vitest'
import { toCsv } from '../../src/lib/csv.js'

describe('toCsv', () => {
  const columns = [
    { header: 'name', value: (r: { name: string; n: number | null }) => r.name },
    { header: 'n', value: (r: { name: string; n: number | null }) => r.n }
  ]

  it('writes RFC 4180: header, CRLF lines, quotes doubled, empty for null', () => {
    const text = toCsv(columns, [
      { name: 'plain', n: 1 },
      { name: 'a, "quoted"\nline', n: null }
    ])
    expect(text).toBe('name,n\r\nplain,1\r\n"a, ""quoted""\nline",\r\n')
  })

  it('defuses cells a spreadsheet would run as formulas, but not negative numbers', () => {
    const text = toCsv(columns, [
      { name: '=HYPERLINK("x")', n: -2 },
      { name: '-12.5', n: 0 }
    ])
    expect(text).toBe(`name,n\r\n"'=HYPERLINK(""x"")",-2\r\n-12.5,0\r\n`)
  })
})
