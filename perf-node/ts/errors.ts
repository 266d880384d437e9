/**
 * Errors: every error perf-core throws has a `code` starting with
 * `ERR_PERF_`. Wrong types are `TypeError`s, values out of range are
 * `RangeError`s, everything else is an `Error`. The Rust side assigns the
 * codes (perf-node/src/error.rs); this module picks the class from the
 * code lists the addon exports, so the two cannot drift.
 */
import native = require('./native')

/** An error thrown by perf-core: any of `Error`, `TypeError`, `RangeError`, with a code. */
export type PerfError = Error & { code: string }

const codes = native.errorCodes()
const RANGE_CODES = new Set(codes.range)
const TYPE_CODES = new Set(codes.typeError)
/** Statuses napi-rs uses when a JavaScript value has the wrong type. */
const NAPI_TYPE_STATUSES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected',
])

/** An error of the class its code calls for. */
export function perfError(code: string, message: string): PerfError {
  const Class = RANGE_CODES.has(code) ? RangeError : TYPE_CODES.has(code) ? TypeError : Error
  const err = new Class(message) as PerfError
  err.code = code
  return err
}

/** The error to throw for an error the addon threw. */
export function fromNative(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError) return e
  const code = (e as Partial<PerfError>).code
  if (typeof code !== 'string') return e
  // napi-rs's own conversion of an argument of the wrong type.
  if (NAPI_TYPE_STATUSES.has(code)) return invalidType(e.message)
  if (code.startsWith('ERR_PERF_NAPI_')) {
    const status = code.slice('ERR_PERF_NAPI_'.length)
    return NAPI_TYPE_STATUSES.has(status)
      ? invalidType(e.message)
      : perfError('ERR_PERF_ERROR', e.message)
  }
  return code.startsWith('ERR_PERF_') ? perfError(code, e.message) : e
}

/** Calls `f`, rethrowing the addon's errors as perf-core errors. */
export function call<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw fromNative(e)
  }
}

/** A `TypeError` with code `ERR_PERF_INVALID_TYPE`. */
export function invalidType(message: string): PerfError {
  const err = new TypeError(message) as PerfError
  err.code = 'ERR_PERF_INVALID_TYPE'
  return err
}

/** A `RangeError` with code `ERR_PERF_INVALID_VALUE`. */
export function invalidValue(message: string): PerfError {
  const err = new RangeError(message) as PerfError
  err.code = 'ERR_PERF_INVALID_VALUE'
  return err
}

/** How a value reads in a message. */
/** The most characters of a string argument a message quotes (as the core's messages). */
const MAX_QUOTED_CHARS = 64

export function describe(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= MAX_QUOTED_CHARS) return JSON.stringify(value)
    return `${JSON.stringify(value.slice(0, MAX_QUOTED_CHARS))}… (${value.length} characters in all)`
  }
  if (typeof value === 'bigint') return `${value}n`
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  if (typeof value === 'function') return 'a function'
  return String(value)
}

/** `value` if it is a number, else a `TypeError` naming `what`. */
export function checkNumber(what: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw invalidType(`${what} must be a number, got ${describe(value)}`)
  }
  return value
}

/** `value` if it is a string, else a `TypeError` naming `what`. */
export function checkString(what: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw invalidType(`${what} must be a string, got ${describe(value)}`)
  }
  return value
}

/** `value` if it is a function, else a `TypeError` naming `what`. */
export function checkFunction<F>(what: string, value: F): F {
  if (typeof value !== 'function') {
    throw invalidType(`${what} must be a function, got ${describe(value)}`)
  }
  return value
}

/** `value` if it is a plain object (not null, not an array), else a `TypeError`. */
export function checkObject(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidType(`${what} must be an object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}
