'use strict'
// perf-core is a native addon: where it cannot load (the Edge runtime),
// importing it throws one clear error instead of the loader's guesses.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const pkg = path.join(__dirname, '..')

/** What requiring the package in a child process throws, after `setup`. */
function importError(setup, env = {}) {
  const script = `${setup}
try {
  require(${JSON.stringify(pkg)})
  console.log(JSON.stringify(null))
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }))
}`
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' })
  return JSON.parse(out)
}

test('importing perf-core in the Edge runtime throws one clear error', () => {
  const err = importError("globalThis.EdgeRuntime = 'edge-runtime'")
  assert.equal(err.code, 'ERR_PERF_UNSUPPORTED_RUNTIME')
  assert.match(err.message, /Edge runtime/)
  assert.match(err.message, /export const runtime = 'nodejs'/)
  assert.doesNotMatch(err.message, /npm has a bug|node_modules/)
})

test('NEXT_RUNTIME=edge is the Edge runtime too; the Node.js runtime loads', () => {
  const err = importError('', { NEXT_RUNTIME: 'edge' })
  assert.equal(err.code, 'ERR_PERF_UNSUPPORTED_RUNTIME')
  assert.equal(importError('', { NEXT_RUNTIME: 'nodejs' }), null)
})
