/**
 * The handle cache: finds the handle of `name{tags}` without building a
 * string key. Levels alternate over the name, then each tag key and value in
 * the object's own key order, so a lookup is a few `Map.get`s on strings the
 * caller already has (their hashes are cached by the engine). The same tags
 * in another key order reach the same series through another path.
 */
import { describe, invalidType } from './errors'
import type { Tags } from './tags'

/** One level of the trie. */
class Level<H> {
  handle: H | undefined = undefined
  readonly children = new Map<string, Level<H>>()

  child(key: string): Level<H> {
    let next = this.children.get(key)
    if (next === undefined) {
      next = new Level<H>()
      this.children.set(key, next)
    }
    return next
  }
}

/** The string form of a tag value on the lookup path (type errors are thrown on creation). */
function tagString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
      return String(value)
    default:
      return undefined
  }
}

/** Handles by series, at most `limit` of them (then it starts over). */
export class HandleCache<H> {
  private root = new Map<string, Level<H>>()
  private size = 0

  constructor(private readonly limit: number) {}

  /** The cached handle of `name{tags}`, if any. */
  get(name: string, tags: Tags | undefined): H | undefined {
    let level = this.root.get(name)
    if (level === undefined || tags === undefined) return level?.handle
    if (typeof tags !== 'object' || tags === null) throw invalidType(`tags must be an object, got ${describe(tags)}`)
    for (const key in tags) {
      const value = tagString((tags as Record<string, unknown>)[key])
      if (value === undefined) return undefined
      level = level.children.get(key)?.children.get(value)
      if (level === undefined) return undefined
    }
    return level.handle
  }

  /** Caches `handle` for `name{tags}`; returns false if the cache was full and was cleared first. */
  set(name: string, tags: Tags | undefined, handle: H): boolean {
    const full = this.size >= this.limit
    if (full) {
      this.root = new Map()
      this.size = 0
    }
    let level = this.root.get(name)
    if (level === undefined) {
      level = new Level<H>()
      this.root.set(name, level)
    }
    if (tags !== undefined) {
      for (const key in tags) {
        level = level.child(key).child(tagString((tags as Record<string, unknown>)[key]) as string)
      }
    }
    this.size++
    level.handle = handle
    return !full
  }
}
