'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor, ManualClock, Histogram, Counter, Gauge } = require('..')
const { throwsCode } = require('./helpers')

test('histogram records exact counts, sums and accurate percentiles', () => {
  const m = new Monitor()
  const h = m.histogram('http.server.duration', { route: '/users' })
  assert.ok(h instanceof Histogram)
  for (let v = 1; v <= 10_000; v++) h.record(v)
  const s = m.stats('http.server.duration', { route: '/users' })
  assert.equal(s.count, 10_000)
  assert.equal(s.sum, 50_005_000)
  assert.equal(s.min, 1)
  assert.equal(s.max, 10_000)
  assert.equal(s.mean, 5000.5)
  for (const [q, field] of [[50, 'p50'], [75, 'p75'], [90, 'p90'], [95, 'p95'], [99, 'p99'], [99.9, 'p999']]) {
    const exact = q * 100
    assert.ok(Math.abs(s[field] - exact) <= exact * 0.0039, `${field} ${s[field]} vs ${exact}`)
  }
  assert.ok(Math.abs(m.percentile('http.server.duration', 12.5, { route: '/users' }) - 1250) <= 1250 * 0.0039)
})

test('buffered values are visible to every read without an explicit flush', () => {
  const m = new Monitor({ batchSize: 4096, flushInterval: 0 })
  const h = m.histogram('lat')
  h.record(5)
  assert.equal(m.stats('lat').count, 1)
  h.record(7)
  assert.equal(m.windowStats('lat', undefined, 60_000).count, 2)
  h.record(9)
  assert.match(m.exportPrometheus(), /lat_count 3/)
  h.record(11)
  assert.equal(m.baseline('v1').series()[0].stats.count, 4)
  h.record(13)
  assert.match(m.exportJson(), /"count":\s*5/)
  const c = m.counter('requests')
  c.inc()
  c.inc(4)
  assert.equal(c.value(), 5)
  c.inc(2)
  assert.match(m.exportPrometheus(), /requests(_total)? 7/)
})

test('full batches flush on their own, partial ones on read', () => {
  const m = new Monitor({ batchSize: 8, flushInterval: 0 })
  const h = m.histogram('batched')
  for (let i = 0; i < 8 * 100 + 3; i++) h.record(i % 50)
  assert.equal(m.stats('batched').count, 803)
})

test('the same series gives the same handle, whatever the tag order', () => {
  const m = new Monitor()
  const a = m.histogram('lat', { route: '/a', method: 'GET' })
  assert.equal(m.histogram('lat', { route: '/a', method: 'GET' }), a)
  const b = m.histogram('lat', { method: 'GET', route: '/a' })
  a.record(1)
  b.record(2)
  m.record('lat', 3, { method: 'GET', route: '/a' })
  assert.equal(m.stats('lat', { route: '/a', method: 'GET' }).count, 3)
  assert.deepEqual(a.tags, { route: '/a', method: 'GET' })
  assert.equal(a.name, 'lat')
})

test('monitor.record creates series on the fly; number and boolean tags become strings', () => {
  const m = new Monitor()
  m.record('api.response_time', 87, { route: '/login', status: 200, cached: false })
  m.record('api.response_time', 120, { route: '/login', status: '200', cached: 'false' })
  const s = m.stats('api.response_time', { route: '/login', status: '200', cached: 'false' })
  assert.equal(s.count, 2)
  assert.equal(s.min, 87)
  assert.equal(s.max, 120)
  m.record('no.tags', 1)
  assert.equal(m.stats('no.tags').count, 1)
  const names = m.series().map((s) => `${s.kind}:${s.name}`)
  assert.deepEqual(names, ['histogram:api.response_time', 'histogram:no.tags'])
})

test('bad values: NaN, infinities, negatives and too large are RangeErrors counted as rejected', () => {
  const m = new Monitor()
  const h = m.histogram('lat')
  h.record(1)
  for (const bad of [NaN, Infinity, -Infinity, -1, -0.001, 2 ** 64]) {
    throwsCode(() => h.record(bad), RangeError, 'ERR_PERF_INVALID_VALUE')
  }
  throwsCode(() => m.record('lat', NaN), RangeError, 'ERR_PERF_INVALID_VALUE', /NaN/)
  throwsCode(() => m.record('lat', -5), RangeError, 'ERR_PERF_INVALID_VALUE', /non-negative/)
  const s = m.stats('lat')
  assert.equal(s.count, 1)
  assert.equal(s.rejected, 8)
  assert.equal(h.rejected(), 8)
  h.record(0)
  assert.equal(m.stats('lat').count, 2)
})

test('wrong types are TypeErrors and never reach the statistics', () => {
  const m = new Monitor()
  const h = m.histogram('lat')
  for (const bad of ['5', null, undefined, {}, [], 5n, true]) {
    throwsCode(() => h.record(bad), TypeError, 'ERR_PERF_INVALID_TYPE')
  }
  throwsCode(() => m.record(42, 1), TypeError, 'ERR_PERF_INVALID_TYPE', /name must be a string/)
  throwsCode(() => m.histogram('lat', 'route=/a'), TypeError, 'ERR_PERF_INVALID_TYPE', /tags must be an object/)
  throwsCode(() => m.histogram('lat', { route: {} }), TypeError, 'ERR_PERF_INVALID_TYPE', /tag "route"/)
  throwsCode(() => m.histogram('lat', { route: null }), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => m.stats('lat', []), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => m.windowStats('lat', undefined, '60s'), TypeError, 'ERR_PERF_INVALID_TYPE')
  assert.equal(m.stats('lat').count, 0)
})

test('bad names and tags are TypeErrors with the engine reason', () => {
  const m = new Monitor()
  throwsCode(() => m.histogram('9lives'), TypeError, 'ERR_PERF_INVALID_NAME', /9lives/)
  throwsCode(() => m.histogram(''), TypeError, 'ERR_PERF_INVALID_NAME')
  throwsCode(() => m.record('has space', 1), TypeError, 'ERR_PERF_INVALID_NAME')
  throwsCode(() => m.counter('bad-name'), TypeError, 'ERR_PERF_INVALID_NAME')
  throwsCode(() => m.histogram('ok', { 'bad key': 'v' }), TypeError, 'ERR_PERF_INVALID_TAG')
  throwsCode(() => m.histogram('ok', { k: '' }), TypeError, 'ERR_PERF_INVALID_TAG')
  throwsCode(() => m.histogram('ok', { k: 'line\nbreak' }), TypeError, 'ERR_PERF_INVALID_TAG')
})

test('kind mismatches and unknown series', () => {
  const m = new Monitor()
  m.counter('jobs').inc()
  throwsCode(() => m.histogram('jobs'), TypeError, 'ERR_PERF_KIND_MISMATCH', /counter/)
  throwsCode(() => m.stats('jobs'), TypeError, 'ERR_PERF_KIND_MISMATCH')
  throwsCode(() => m.stats('never.recorded'), Error, 'ERR_PERF_UNKNOWN_SERIES')
  throwsCode(() => m.percentile('jobs', 50), TypeError, 'ERR_PERF_KIND_MISMATCH')
})

test('percentiles and windows out of range are RangeErrors', () => {
  const m = new Monitor({ windowRetention: 60_000 })
  m.record('lat', 1)
  throwsCode(() => m.percentile('lat', 101), RangeError, 'ERR_PERF_INVALID_PERCENTILE')
  throwsCode(() => m.percentile('lat', NaN), RangeError, 'ERR_PERF_INVALID_PERCENTILE')
  throwsCode(() => m.windowStats('lat', undefined, 120_000), RangeError, 'ERR_PERF_INVALID_WINDOW')
  throwsCode(() => m.windowStats('lat', undefined, -1), RangeError, 'ERR_PERF_INVALID_VALUE')
  const noWindows = new Monitor({ windows: false })
  noWindows.record('lat', 1)
  throwsCode(() => noWindows.windowStats('lat', undefined, 1000), Error, 'ERR_PERF_WINDOWS_DISABLED')
})

test('monitor options are checked', () => {
  throwsCode(() => new Monitor({ precision: 11 }), RangeError, 'ERR_PERF_INVALID_CONFIG')
  throwsCode(() => new Monitor({ precision: 'high' }), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => new Monitor({ maxMetrics: 0 }), RangeError, 'ERR_PERF_INVALID_CONFIG')
  throwsCode(() => new Monitor({ batchSize: 0 }), RangeError, 'ERR_PERF_INVALID_CONFIG')
  throwsCode(() => new Monitor({ windowInterval: 0 }), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => new Monitor({ windows: 'yes' }), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => new Monitor({ clock: Date }), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => new Monitor('fast'), TypeError, 'ERR_PERF_INVALID_TYPE')
  const m = new Monitor({ precision: 4, maxMetrics: 1 })
  m.record('one', 1)
  throwsCode(() => m.record('two', 1), Error, 'ERR_PERF_TOO_MANY_METRICS')
})

test('series past the per-metric cap fold into the overflow series', () => {
  const m = new Monitor({ maxSeriesPerMetric: 2 })
  for (const user of ['a', 'b', 'c', 'd']) m.record('per_user', 1, { user })
  const series = m.series().filter((s) => s.name === 'per_user')
  assert.equal(series.length, 3)
  const total = series.reduce((n, s) => n + m.stats('per_user', s.tags).count, 0)
  assert.equal(total, 4)
})

test('startTimer records the elapsed milliseconds once, on the monitor clock', () => {
  const clock = new ManualClock(1_000)
  const m = new Monitor({ clock })
  const h = m.histogram('job.duration')
  const end = h.startTimer()
  clock.advance(250)
  assert.equal(end(), 250)
  assert.equal(end(), 250)
  const s = m.stats('job.duration')
  assert.equal(s.count, 1)
  assert.ok(Math.abs(s.max - 250) <= 250 * 0.0039)
})

test('startTimer on the real clock measures real time', async () => {
  const m = new Monitor()
  const end = m.histogram('sleep').startTimer()
  await new Promise((r) => setTimeout(r, 30))
  const ms = end()
  assert.ok(ms >= 25 && ms < 5_000, `elapsed ${ms}`)
  assert.equal(m.stats('sleep').count, 1)
})

test('counters: exact counts, non-negative integer increments only', () => {
  const m = new Monitor({ flushInterval: 0 })
  const c = m.counter('requests', { route: '/a' })
  assert.ok(c instanceof Counter)
  for (let i = 0; i < 100_000; i++) c.inc()
  c.inc(0)
  c.inc(Number.MAX_SAFE_INTEGER - 100_000)
  assert.equal(c.value(), Number.MAX_SAFE_INTEGER)
  const d = m.counter('small')
  for (const bad of [-1, 1.5, NaN, Infinity]) throwsCode(() => d.inc(bad), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => d.inc('1'), TypeError, 'ERR_PERF_INVALID_TYPE')
  assert.equal(d.value(), 0)
  assert.equal(m.counter('requests', { route: '/a' }), c)
})

test('counter rates over a window', () => {
  const clock = new ManualClock(0)
  const m = new Monitor({ clock })
  const c = m.counter('requests')
  for (let s = 0; s < 10; s++) {
    clock.advance(1000)
    c.inc(30)
  }
  assert.equal(m.counterRate('requests', undefined, 10_000), 30)
})

test('gauges set, add and read at once', () => {
  const m = new Monitor()
  const g = m.gauge('queue.depth', { queue: 'emails' })
  assert.ok(g instanceof Gauge)
  g.set(10)
  g.inc()
  g.dec(3)
  g.inc(-1.5)
  assert.equal(g.value(), 6.5)
  g.set(-4)
  assert.equal(g.value(), -4)
  throwsCode(() => g.set(NaN), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => g.set(Infinity), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => g.set('3'), TypeError, 'ERR_PERF_INVALID_TYPE')
  assert.equal(g.value(), -4)
  assert.match(m.exportPrometheus(), /queue_depth\{queue="emails"\} -4/)
})

test('gauges buffer like the other handles: reads see every change', () => {
  const m = new Monitor({ flushInterval: 0 })
  const g = m.gauge('in_flight')
  for (let i = 0; i < 10; i++) g.inc()
  assert.equal(m.native.gauge('in_flight', undefined).value(), 0)
  for (let i = 0; i < 990; i++) g.inc()
  for (let i = 0; i < 400; i++) g.dec()
  assert.match(m.exportPrometheus(), /in_flight 600/)
  g.set(5)
  g.inc(2)
  g.flush()
  assert.equal(m.native.gauge('in_flight', undefined).value(), 7)
  g.set(1.7e308)
  throwsCode(() => g.inc(1.7e308), RangeError, 'ERR_PERF_INVALID_VALUE')
  assert.equal(g.value(), 1.7e308)
  throwsCode(() => g.inc(NaN), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => g.dec('1'), TypeError, 'ERR_PERF_INVALID_TYPE')
  assert.equal(m.gauge('in_flight'), g)
})

test('windows with a ManualClock: values belong to the time they were recorded at', () => {
  const clock = new ManualClock(0)
  const m = new Monitor({ clock, batchSize: 4096 })
  const h = m.histogram('q')
  h.record(10)
  clock.advance(30_000)
  h.record(20)
  assert.equal(m.windowStats('q', undefined, 10_000).count, 1)
  assert.equal(m.windowStats('q', undefined, 10_000).max, 20)
  assert.equal(m.stats('q').count, 2)
  assert.equal(m.percentile('q', 50, undefined, 10_000), m.windowStats('q', undefined, 10_000).p50)
  clock.set(1_000_000)
  assert.equal(m.now(), 1_000_000)
  throwsCode(() => clock.advance(-1), RangeError, 'ERR_PERF_INVALID_VALUE')
  throwsCode(() => clock.advance('1s'), TypeError, 'ERR_PERF_INVALID_TYPE')
})

test('the flush timer hands values to the core without reads', async () => {
  const m = new Monitor({ flushInterval: 10 })
  const h = m.histogram('lat')
  h.record(1)
  h.record(2)
  await new Promise((r) => setTimeout(r, 60))
  assert.equal(h.rejected(), 0)
  // Read the native series without the facade's flush: a baseline of the native monitor.
  assert.equal(m.native.stats('lat', undefined).count, 2)
  m.close()
})

test('recordWebVitals records each vital and rates it with the web-vitals thresholds', () => {
  const m = new Monitor()
  const r = m.recordWebVitals({ lcp: 2500, inp: 200.5, cls: 0.25, fcp: 3000.1, ttfb: 100, fid: 100 }, { page: '/home' })
  assert.deepEqual(r, { lcp: 'good', inp: 'needs-improvement', cls: 'needs-improvement', fcp: 'poor', ttfb: 'good', fid: 'good' })
  assert.deepEqual(m.recordWebVitals({ cls: 0.1 }), { cls: 'good' })
  assert.equal(m.stats('web_vitals.lcp', { page: '/home' }).count, 1)
  assert.equal(m.stats('web_vitals.cls').count, 1)
  throwsCode(() => m.recordWebVitals({ lcp: 100, cls: -1 }), RangeError, 'ERR_PERF_INVALID_VALUE')
  assert.equal(m.stats('web_vitals.lcp', { page: '/home' }).count, 1)
  throwsCode(() => m.recordWebVitals({ lcpp: 1 }), TypeError, 'ERR_PERF_INVALID_TYPE', /unknown Web Vital/)
  throwsCode(() => m.recordWebVitals({ lcp: '1' }), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => m.recordWebVitals(null), TypeError, 'ERR_PERF_INVALID_TYPE')
})

test('the handle cache starts over past its limit without losing records', () => {
  const m = new Monitor({ maxSeriesPerMetric: 20_000, flushInterval: 0 })
  const n = 10_050
  for (let i = 0; i < n; i++) m.record('per_user', 1, { user: `u${i}` })
  for (let i = 0; i < n; i++) m.record('per_user', 2, { user: `u${i}` })
  const series = m.series()
  assert.equal(series.length, n)
  assert.equal(m.stats('per_user', { user: 'u0' }).count, 2)
  assert.equal(m.stats('per_user', { user: `u${n - 1}` }).sum, 3)
})

test('handle flush() hands over its own records; close() flushes and stops', () => {
  const m = new Monitor({ flushInterval: 0 })
  const h = m.histogram('lat')
  const c = m.counter('hits')
  h.record(1)
  c.inc(3)
  assert.equal(m.native.stats('lat', undefined).count, 0)
  h.flush()
  c.flush()
  assert.equal(m.native.stats('lat', undefined).count, 1)
  assert.equal(m.native.counter('hits', undefined).value(), 3)
  h.record(2)
  m.start(50)
  m.close()
  assert.equal(m.isEvaluating(), false)
  assert.equal(m.native.stats('lat', undefined).count, 2)
})

test('error messages quote a short prefix of huge input', () => {
  const monitor = new Monitor()
  const huge = '9' + 'a'.repeat(1 << 20)
  assert.throws(() => monitor.record(huge, 1), (err) => {
    assert.equal(err.code, 'ERR_PERF_INVALID_NAME')
    assert.ok(err.message.length < 300, `${err.message.length} characters`)
    assert.match(err.message, /1048577 bytes in all/)
    return true
  })
  // A huge string of the wrong kind: the facade's own message is bounded too.
  assert.throws(() => new Monitor({ defaultGaugeMode: 'x'.repeat(1 << 20) }), (err) => {
    assert.ok(err.message.length < 300, `${err.message.length} characters`)
    return true
  })
})

test('counts saturate at 2^64 - 1 instead of wrapping', () => {
  const m = new Monitor()
  const c = m.counter('bytes')
  // 2050 increments of 2^53 - 1 pass 2^64: the total stays at its largest.
  for (let i = 0; i < 2050; i++) c.inc(Number.MAX_SAFE_INTEGER)
  c.inc(7)
  assert.equal(c.value(), 2 ** 64) // u64::MAX, as the nearest double
  assert.match(m.exportPrometheus(), /^bytes_total 18446744073709551615$/m)
})
