'use strict'
// The binding does not re-decide what the core decides: Web Vitals,
// rules, budgets and the emergency section go through the core's own
// entry points.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor } = require('..')
const { throwsCode } = require('./helpers')

test('recordWebVitals records through the core at once, after the pending records', () => {
  const m = new Monitor({ flushInterval: 0 })
  const lcp = m.histogram('web_vitals.lcp', { page: '/' })
  lcp.record(1000)
  const ratings = m.recordWebVitals({ lcp: 2600, cls: 0.3 }, { page: '/' })
  assert.deepEqual(ratings, { lcp: 'needs-improvement', cls: 'poor' })
  // Both the pending value and the vitals reached the core, without a read.
  assert.equal(m.native.stats('web_vitals.lcp', { page: '/' }).count, 2)
  assert.equal(m.native.stats('web_vitals.cls', { page: '/' }).count, 1)
  // All or nothing, the refusal counted by the core.
  throwsCode(() => m.recordWebVitals({ lcp: 1, inp: NaN }, { page: '/' }), RangeError, 'ERR_PERF_INVALID_VALUE', /NaN/)
  assert.equal(m.stats('web_vitals.lcp', { page: '/' }).count, 2)
  assert.equal(m.stats('web_vitals.inp', { page: '/' }).rejected, 1)
})

test('Monitor.rateWebVitals rates without recording, with the core thresholds', () => {
  assert.deepEqual(Monitor.rateWebVitals({ lcp: 2500, inp: 500, cls: 0.25, fcp: 3000.1, ttfb: 0, fid: 100 }), {
    lcp: 'good', inp: 'needs-improvement', cls: 'needs-improvement', fcp: 'poor', ttfb: 'good', fid: 'good',
  })
  assert.deepEqual(Monitor.rateWebVitals({}), {})
  throwsCode(() => Monitor.rateWebVitals({ tbt: 1 }), TypeError, 'ERR_PERF_INVALID_TYPE', /unknown Web Vital "tbt"/)
})

test('addRule reads one rule with the core: errors name the field as the rule spells it', () => {
  const m = new Monitor()
  throwsCode(() => m.addRule({ name: 'r', metric: 'm', stat: 'p95', threshold: 500, clear: 600 }),
    Error, 'ERR_PERF_INVALID_RULE', /^invalid rule "r": clear: /)
  throwsCode(() => m.addRule({ name: 'r', metric: 'm', stat: 'p95', threshold: 5, for: 'soon' }),
    Error, 'ERR_PERF_INVALID_RULE', /for/)
  m.addRule('{"name": "text", "metric": "m", "stat": "p95", "threshold": 5}')
  m.addRule({ name: 'obj', metric: 'm', stat: 'p99.9', levels: [{ severity: 'error', threshold: 800 }] })
  assert.deepEqual(m.rules().map((r) => r.name), ['text', 'obj'])
  assert.equal(m.rules()[1].stat, 'p99.9')
  throwsCode(() => m.addRule({ name: 'text', metric: 'm', stat: 'p95', threshold: 5 }), Error, 'ERR_PERF_DUPLICATE_RULE')
})

test('rules() lists what the core lists, the rules budgets with alerts generate included', () => {
  const m = new Monitor()
  m.addRule({ name: 'slow', metric: 'lat', stat: 'p95', threshold: 500 })
  m.addBudget({ name: 'web', preset: 'web_vitals', alerts: {} })
  const names = m.rules().map((r) => r.name)
  assert.equal(names[0], 'slow')
  assert.ok(names.length > 1, names.join())
  assert.ok(names.slice(1).every((n) => n.startsWith('budget:web:')), names.join())
  assert.ok(m.rules().some((r) => r.metric === 'web_vitals.lcp'))
  // The rules document leaves generated rules out (its budget makes them).
  const doc = JSON.parse(m.rulesJson())
  assert.deepEqual(doc.rules.map((r) => r.name), ['slow'])
  assert.deepEqual(m.budgets().map((b) => b.name), ['web'])
  assert.ok(m.budgets()[0].alerts !== undefined)
  m.removeBudget('web')
  assert.deepEqual(m.rules().map((r) => r.name), ['slow'])
})

test('emergency.config() is {} when unset; configure reads the section with the core', () => {
  const m = new Monitor()
  assert.deepEqual(m.emergency.config(), {})
  m.emergency.configure({ clear_for: '2m' })
  assert.deepEqual(m.emergency.config(), { clear_for: '2m' })
  m.emergency.configure('{"min_dwell": "5m"}')
  assert.deepEqual(m.emergency.config(), { min_dwell: '5m' })
  throwsCode(() => m.emergency.configure({ triggers: [{ metric: 'lat', stat: 'p95' }] }),
    Error, 'ERR_PERF_INVALID_EMERGENCY', /triggers\[0\]\.threshold/)
  throwsCode(() => m.emergency.configure({ triggers: [{ rule: 'no-such-rule', severity: 'critical' }] }),
    Error, 'ERR_PERF_INVALID_EMERGENCY', /triggers\[0\]\.rule/)
  assert.deepEqual(m.emergency.config(), { min_dwell: '5m' })
  m.emergency.configure({})
  assert.deepEqual(m.emergency.config(), {})
})
