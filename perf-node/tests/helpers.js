'use strict'
// Shared helpers of the node --test suites.
const assert = require('node:assert/strict')

/** Asserts that `f` throws an error of `Class` with `code`. */
function throwsCode(f, Class, code, message) {
  assert.throws(f, (err) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err && err.constructor.name}: ${err && err.message}`)
    assert.equal(err.code, code)
    if (message) assert.match(err.message, message)
    return true
  })
}

/** Resolves after `ms` milliseconds. */
function settle(ms = 20) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Resolves once `predicate()` holds (callbacks arrive asynchronously through
 * thread-safe functions); rejects after `timeoutMs`.
 */
async function until(predicate, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${predicate}`)
    await settle(5)
  }
}

module.exports = { throwsCode, settle, until }
