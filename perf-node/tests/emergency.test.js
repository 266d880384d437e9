'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor, ManualClock } = require('..')
const { throwsCode, settle, until } = require('./helpers')

test('manual activation holds until manual deactivation, with history and listeners', async () => {
  const clock = new ManualClock(5_000)
  const m = new Monitor({ clock })
  const seen = []
  const off = m.emergency.onChange((t) => seen.push(`${t.change}:${t.source}:${t.reason}`))
  assert.equal(m.emergency.isActive(), false)
  assert.equal(m.emergency.activate('load test'), true)
  assert.equal(m.emergency.activate('again'), false)
  assert.equal(m.emergency.isActive(), true)
  const status = m.emergency.status()
  assert.equal(status.active, true)
  assert.equal(status.manual, true)
  assert.equal(status.since, 5_000)
  clock.advance(10_000)
  assert.equal(m.emergency.deactivate('done'), true)
  assert.equal(m.emergency.isActive(), false)
  const history = m.emergency.history()
  assert.deepEqual(history.map((t) => t.change), ['activated', 'deactivated'])
  assert.equal(history[0].at, 5_000)
  assert.equal(history[1].at, 15_000)
  assert.equal(history[1].dwell, undefined)
  await until(() => seen.length === 2)
  assert.deepEqual(seen, ['activated:manual:load test', 'deactivated:manual:done'])
  off()
  const sentinel = []
  m.emergency.onChange((t) => sentinel.push(t.change))
  m.emergency.activate('quiet')
  await until(() => sentinel.length === 1)
  await settle(50)
  assert.equal(seen.length, 2)
  throwsCode(() => m.emergency.activate('  '), Error, 'ERR_PERF_INVALID_EMERGENCY')
  throwsCode(() => m.emergency.activate(), TypeError, 'ERR_PERF_INVALID_TYPE')
})

test('triggers turn the mode on and off automatically', () => {
  const clock = new ManualClock(0)
  const m = new Monitor({ clock })
  m.emergency.configure({
    triggers: [{ name: 'slow', metric: 'api.latency', stat: 'p95', threshold: 1000, window: '10s', for: '5s' }],
    clear_for: '10s',
    min_dwell: '10s',
  })
  assert.equal(m.emergency.config().triggers.length, 1)
  const h = m.histogram('api.latency')
  for (let s = 0; s < 8; s++) {
    for (let i = 0; i < 20; i++) h.record(2000)
    clock.advance(1000)
    m.evaluate()
  }
  assert.equal(m.emergency.isActive(), true)
  const [activation] = m.emergency.history()
  assert.equal(activation.source, 'triggers')
  assert.deepEqual(activation.triggers, ['slow'])
  assert.ok(activation.values[0].value >= 1000)
  assert.equal(activation.dwell, 10_000)
  for (let s = 0; s < 40; s++) {
    for (let i = 0; i < 20; i++) h.record(10)
    clock.advance(1000)
    m.evaluate()
  }
  assert.equal(m.emergency.isActive(), false)
  throwsCode(() => m.emergency.configure({ triggers: [{ rule: 'no-such-rule', severity: 'critical' }] }),
    Error, 'ERR_PERF_INVALID_EMERGENCY', /triggers\[0\]\.rule/)
  throwsCode(() => m.emergency.configure('on'), Error, 'ERR_PERF_INVALID_EMERGENCY', /JSON object/)
  throwsCode(() => m.emergency.configure(42), TypeError, 'ERR_PERF_INVALID_TYPE')
})
