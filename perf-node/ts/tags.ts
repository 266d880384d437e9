/**
 * Tags: a plain object of string values (numbers and booleans are turned
 * into strings, as prom-client does). Tag order does not matter.
 */
import { checkObject, describe, invalidType } from './errors'

/** Tags of a series: `{ route: '/users', method: 'GET' }`. */
export type Tags = Readonly<Record<string, string | number | boolean>>

/** The string form of one tag value, or a `TypeError`. */
function tagValue(key: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
      return String(value)
    default:
      throw invalidType(`tag ${JSON.stringify(key)} must be a string, number or boolean, got ${describe(value)}`)
  }
}

/** The tags as the addon takes them (string values), or `undefined` for none. */
export function normalizeTags(tags: Tags | undefined): Record<string, string> | undefined {
  if (tags === undefined || tags === null) return undefined
  const object = checkObject('tags', tags)
  const out: Record<string, string> = {}
  let any = false
  for (const key in object) {
    out[key] = tagValue(key, object[key])
    any = true
  }
  return any ? out : undefined
}
