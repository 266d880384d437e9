'use strict'
// Handles buffer in JavaScript, yet give exactly what the core's own calls
// give, and leave every refusal to the native side.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor } = require('..')
const { throwsCode } = require('./helpers')

test('a refused counter increment is the core binding\'s decision', () => {
  const m = new Monitor({ flushInterval: 0 })
  const c = m.counter('jobs')
  const seen = []
  const increment = c.native.increment.bind(c.native)
  c.native.increment = (n) => {
    seen.push(n)
    return increment(n)
  }
  c.inc(2)
  throwsCode(() => c.inc(1.5), RangeError, 'ERR_PERF_INVALID_VALUE', /non-negative safe integer, got 1.5/)
  throwsCode(() => c.inc(-1), RangeError, 'ERR_PERF_INVALID_VALUE')
  assert.deepEqual(seen, [1.5, -1])
  assert.equal(c.value(), 2)
})

test('gauge deltas add up exactly as the core adds them one by one', () => {
  const m = new Monitor({ flushInterval: 0 })
  const reference = m.native.gauge('reference', undefined)
  const g = m.gauge('buffered')
  for (const [start, deltas] of [[0.1, [0.2, 0.3]], [1e16, [1, 1, 1, 1]], [1, [1e-16, 1e-16]]]) {
    reference.set(start)
    g.set(start)
    g.flush()
    for (const d of deltas) {
      reference.add(d)
      g.inc(d)
    }
    const presum = start + deltas.reduce((a, b) => a + b)
    assert.notEqual(reference.value(), presum, `${start} + ${deltas}: the sum of the deltas rounds differently`)
    assert.equal(g.value(), reference.value(), `${start} + ${deltas}`)
  }
  // After a set, the additions are the same IEEE 754 additions.
  g.set(0.1)
  g.inc(0.2)
  g.inc(0.3)
  g.dec(0.1)
  assert.equal(g.value(), ((0.1 + 0.2) + 0.3) - 0.1)
  // More deltas than one batch.
  g.set(0)
  g.flush()
  let expected = 0
  for (let i = 0; i < 1000; i++) {
    g.inc(0.1)
    expected += 0.1
  }
  assert.equal(g.value(), expected)
  // An overflowing add is the core's refusal, at once, whether the gauge
  // has a pending value or not.
  g.set(1e308)
  throwsCode(() => g.inc(1e308), RangeError, 'ERR_PERF_INVALID_VALUE', /infinite/)
  assert.equal(g.value(), 1e308)
  throwsCode(() => g.inc(1e308), RangeError, 'ERR_PERF_INVALID_VALUE', /infinite/)
  assert.equal(g.value(), 1e308)
})

test('recordN and recordMany go to the core in one call', () => {
  const m = new Monitor({ flushInterval: 0 })
  const h = m.histogram('batch.size')
  h.recordN(4, 1000)
  assert.equal(m.native.stats('batch.size', undefined).count, 1000)
  assert.equal(m.stats('batch.size').sum, 4000)
  h.recordN(4, 0)
  assert.equal(m.stats('batch.size').count, 1000)
  throwsCode(() => h.recordN(-1, 3), RangeError, 'ERR_PERF_INVALID_VALUE')
  assert.equal(h.rejected(), 3)
  throwsCode(() => h.recordN(1, 1.5), RangeError, 'ERR_PERF_INVALID_VALUE', /n must be a non-negative safe integer/)
  throwsCode(() => h.recordN('1', 1), TypeError, 'ERR_PERF_INVALID_TYPE')
  h.recordMany([1, 2, 3])
  h.recordMany(new Float64Array([5, 6]))
  assert.equal(m.stats('batch.size').count, 1005)
  throwsCode(() => h.recordMany([7, NaN, 8]), RangeError, 'ERR_PERF_INVALID_VALUE')
  assert.equal(m.stats('batch.size').count, 1007)
  assert.equal(h.rejected(), 4)
  throwsCode(() => h.recordMany([1, '2']), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => h.recordMany(3), TypeError, 'ERR_PERF_INVALID_TYPE')
})
