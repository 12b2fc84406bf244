// Translates one NIP-01 filter into one parameterised SQLite query over the schema in relay/store.ts.
// Values only ever travel as parameters. A list of one value becomes `= ?`, which lets an index deliver rows
// already in time order. A longer list becomes `IN (?, ?, ...)`, padded to a power of two by repeating its last
// value (harmless in IN), so the number of distinct SQL texts, and of cached prepared statements, stays small.
// (A single JSON parameter read through json_each would keep one shape, but hides the list's length from the
// planner: on a database without statistics it then prefers scanning the whole time index.)
import { NostrProtocolError, type Filter } from '../nips/01.js'

export interface SqlQuery {
  sql: string
  params: (string | number)[]
}

const TAG_FILTER = /^#[a-zA-Z]$/
const REFERENCE_TAGS = new Set(['e', 'E', 'q', 'a', 'A'])
const KNOWN_FIELDS = new Set(['ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search'])

/**
 * `SELECT <columns>` (of `events e`, e.g. 'e.raw, e.kind') of the events matching the filter and not expired at
 * `now`, newest first (created_at DESC, id ASC), at most `limit` of them. Null when the filter cannot match
 * anything (an empty list, `limit: 0`). NIP-50 `search` is not supported and is ignored, as matchFilter does.
 */
export function selectQuery(filter: Filter, now: number, columns: string): SqlQuery | null {
  if (filter.limit === 0) return null
  const built = buildFilter(filter, now)
  if (!built) return null
  const { from, where, order, params } = built
  let sql = `SELECT ${columns} FROM ${from} WHERE ${where} ORDER BY ${order}`
  if (filter.limit !== undefined) {
    // Not a bare `LIMIT ?`: SQLite (3.47 on) compiles a bare parameter's bound value into the plan, so binding
    // it again, even to the same value, makes the next step re-prepare the statement, which costs as much as
    // the query itself.
    sql += ' LIMIT CAST(? AS INTEGER)'
    params.push(filter.limit)
  }
  return { sql, params }
}

/**
 * `SELECT e.rowid` of every matching, unexpired event, ignoring `limit` (NIP-45 counts all matches).
 * Null when the filter cannot match anything.
 */
export function rowidQuery(filter: Filter, now: number): SqlQuery | null {
  const built = buildFilter(filter, now)
  if (!built) return null
  return { sql: `SELECT e.rowid FROM ${built.from} WHERE ${built.where}`, params: built.params }
}

interface BuiltFilter {
  from: string
  where: string
  order: string
  params: (string | number)[]
}

function buildFilter(filter: Filter, now: number): BuiltFilter | null {
  const tagFilters: [name: string, values: string[]][] = []
  for (const key of Object.keys(filter)) {
    if (KNOWN_FIELDS.has(key)) continue
    const values = filter[key as `#${string}`]
    if (values === undefined) continue
    // Only single-letter tags are indexed (NIP-01); anything else would silently match wrongly.
    if (!TAG_FILTER.test(key)) throw new NostrProtocolError('invalid', `unsupported filter field ${JSON.stringify(key.slice(0, 32))}`)
    if (values.length === 0) return null
    tagFilters.push([key[1], values])
  }
  for (const list of [filter.ids, filter.authors, filter.kinds]) if (list && list.length === 0) return null

  const params: (string | number)[] = []
  const where: string[] = []
  const inList = (column: string, values: readonly (string | number)[]): string => {
    if (values.length === 1) {
      params.push(values[0])
      return `${column} = ?`
    }
    const slots = 2 ** Math.ceil(Math.log2(values.length))
    params.push(...values)
    for (let i = values.length; i < slots; i++) params.push(values[values.length - 1])
    return `${column} IN (${'?, '.repeat(slots - 1)}?)`
  }
  // kind and created_at are copied into the tags table so a tag index can also narrow by them.
  const kindAndTime = (alias: 'e' | 't'): string[] => {
    const conditions: string[] = []
    if (filter.kinds) conditions.push(inList(`${alias}.kind`, filter.kinds))
    if (filter.since !== undefined) {
      conditions.push(`${alias}.created_at >= ?`)
      params.push(filter.since)
    }
    if (filter.until !== undefined) {
      conditions.push(`${alias}.created_at <= ?`)
      params.push(filter.until)
    }
    return conditions
  }
  const tagCondition = (alias: 't' | 'x', [name, values]: [string, string[]]): string => {
    params.push(name)
    return `${alias}.name = ? AND ${inList(`${alias}.value`, values)}`
  }

  // Which index leads: an id list is the most selective field there is. Tags that hold event ids or addresses
  // (e, E, q, a, A) come next: each value is on a handful of events. Then authors: other tag values (d, t, k, p,
  // ...) are often shared by very many events, while one author's events of given kinds are few. Failing all
  // that, the tag filter with the fewest values leads.
  let driving: [string, string[]] | undefined
  if (!filter.ids) {
    const fewestValues = (candidates: [string, string[]][]) =>
      candidates.reduce<[string, string[]] | undefined>((best, tag) => (!best || tag[1].length < best[1].length ? tag : best), undefined)
    driving = fewestValues(tagFilters.filter(([name]) => REFERENCE_TAGS.has(name)))
    if (!driving && !filter.authors) driving = fewestValues(tagFilters)
  }
  let from = 'events e'
  let order = 'e.created_at DESC, e.id'
  if (driving && driving[1].length === 1) {
    // One value: walk tags_value_time (name, value, created_at DESC, kind) in time order, so a LIMIT stops early.
    // (Tags are stored once per event, name and value, so the join yields each event once.)
    from = 'tags t JOIN events e ON e.rowid = t.event'
    order = 't.created_at DESC, e.id'
    where.push(tagCondition('t', driving), ...kindAndTime('t'))
  } else {
    if (filter.ids) where.push(inList('e.id', filter.ids))
    if (driving) {
      // Several values: an event may carry more than one of them, so collect distinct rowids first.
      const sub = [tagCondition('t', driving), ...kindAndTime('t')].join(' AND ')
      where.push(`e.rowid IN (SELECT t.event FROM tags t WHERE ${sub})`)
    }
    where.push(...kindAndTime('e'))
  }
  if (filter.authors) where.push(inList('e.pubkey', filter.authors))
  for (const tag of tagFilters) {
    if (tag !== driving) where.push(`EXISTS (SELECT 1 FROM tags x WHERE x.event = e.rowid AND ${tagCondition('x', tag)})`)
  }
  where.push('(e.expiration IS NULL OR e.expiration > ?)')
  params.push(now)
  return { from, where: where.join(' AND '), order, params }
}
