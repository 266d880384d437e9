'use strict'
// The process must be able to exit without monitor.stop(): no handle the
// monitor creates (flush timer, background evaluator, thread-safe functions
// of onAlert / emergency.onChange, the window ticker) keeps it alive.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const script = `
const { Monitor } = require(${JSON.stringify(path.join(__dirname, '..'))})
const m = new Monitor({ flushInterval: 5 })
m.addRule({ name: 'any', metric: 'lat', stat: 'max', window: '10s', threshold: 1 })
m.onAlert((e) => { console.log('alert ' + e.kind) })
m.emergency.onChange(() => {})
m.record('lat', 5)
m.start(5)
m.metrics().then((t) => console.log('metrics ' + t.length))
setTimeout(() => console.log('done'), 200)
`

test('a process with a running evaluator, callbacks and timers exits on its own', () => {
  const started = Date.now()
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(child.error, undefined, `spawn failed or timed out: ${child.error}`)
  assert.equal(child.status, 0, child.stderr)
  assert.match(child.stdout, /metrics \d+/)
  assert.match(child.stdout, /alert fired/)
  assert.match(child.stdout, /done/)
  assert.ok(Date.now() - started < 30_000)
})
