'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor, ManualClock, CONTENT_TYPES } = require('..')
const { throwsCode } = require('./helpers')

function sample() {
  const m = new Monitor({ batchSize: 64, clock: new ManualClock(1_700_000_000_000) })
  const h = m.histogram('http.server.duration', { route: '/users' })
  for (let v = 1; v <= 1000; v++) h.record(v)
  m.counter('http.requests', { route: '/users' }).inc(1000)
  m.gauge('queue.depth').set(3)
  return m
}

test('metrics() resolves with the Prometheus exposition of everything recorded, computed off-thread', async () => {
  const m = sample()
  m.record('late', 1)
  const text = await m.metrics()
  assert.equal(text, m.exportPrometheus())
  assert.match(text, /# TYPE http_server_duration histogram/)
  assert.match(text, /http_server_duration_count\{route="\/users"\} 1000/)
  assert.match(text, /http_server_duration_sum\{route="\/users"\} 500500/)
  assert.match(text, /http_requests(_total)?\{route="\/users"\} 1000/)
  assert.match(text, /queue_depth 3/)
  assert.match(text, /late_count 1/)
  assert.equal(CONTENT_TYPES.prometheus, 'text/plain; version=0.0.4; charset=utf-8')
})

test('every format, sync and async', async () => {
  const m = sample()
  assert.match(m.exportOpenMetrics(), /# EOF\s*$/)
  assert.equal(await m.metrics('openmetrics'), m.exportOpenMetrics())
  const json = JSON.parse(m.exportJson())
  assert.ok(JSON.stringify(json).includes('http.server.duration'))
  assert.equal(await m.metrics('json'), m.exportJson())
  const csv = m.exportCsv()
  assert.equal(csv.split('\n')[0], 'timestamp,metric,tags,stat,value')
  assert.match(csv, /http\.server\.duration/)
  assert.equal(m.export('csv'), csv)
})

test('export errors: unknown formats and wrong types', async () => {
  const m = sample()
  throwsCode(() => m.export('xml'), RangeError, 'ERR_PERF_INVALID_CONFIG', /unknown export format/)
  await assert.rejects(m.metrics('xml'), (e) => e instanceof RangeError && e.code === 'ERR_PERF_INVALID_CONFIG')
  await assert.rejects(m.metrics(5), (e) => e instanceof TypeError && e.code === 'ERR_PERF_INVALID_TYPE')
})

test('many concurrent metrics() calls all resolve', async () => {
  const m = sample()
  const texts = await Promise.all(Array.from({ length: 20 }, () => m.metrics()))
  assert.ok(texts.every((t) => t === texts[0]))
})

test('HdrHistogram strings: export, merge across monitors, errors', () => {
  const hostA = new Monitor()
  const hostB = new Monitor()
  for (let v = 1; v <= 500; v++) hostA.record('db.query', v / 10, { db: 'main' })
  for (let v = 1; v <= 300; v++) hostB.record('db.query', v, { db: 'main' })
  const a = hostA.exportHdr('db.query', { db: 'main' })
  assert.match(a, /^HISTF/)
  const fleet = new Monitor()
  fleet.importHdr('db.query', a, { db: 'main' })
  fleet.importHdr('db.query', hostB.exportHdr('db.query', { db: 'main' }), { db: 'main' })
  const s = fleet.stats('db.query', { db: 'main' })
  assert.equal(s.count, 800)
  assert.ok(Math.abs(s.max - 300) <= 300 * 0.005, `max ${s.max}`)
  assert.ok(Math.abs(s.min - 0.1) <= 0.1 * 0.005, `min ${s.min}`)

  const bytes = new Monitor()
  bytes.record('payload.bytes', 1500)
  const whole = { scale: 1, significantDigits: 2 }
  const copy = new Monitor()
  copy.importHdr('payload.bytes', bytes.exportHdr('payload.bytes', undefined, whole), undefined, whole)
  assert.ok(Math.abs(copy.stats('payload.bytes').max - 1500) <= 1500 * 0.01)

  throwsCode(() => fleet.importHdr('db.query', 'HISTFnot-base64!', { db: 'main' }), Error, 'ERR_PERF_INVALID_HDR')
  assert.equal(fleet.stats('db.query', { db: 'main' }).count, 800)
  throwsCode(() => fleet.exportHdr('missing'), Error, 'ERR_PERF_UNKNOWN_SERIES')
  throwsCode(() => hostA.exportHdr('db.query', { db: 'main' }, { significantDigits: 9 }), Error, 'ERR_PERF_INVALID_HDR')
  throwsCode(() => fleet.importHdr('db.query', 42), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => fleet.exportHdr('db.query', { db: 'main' }, 'us'), TypeError, 'ERR_PERF_INVALID_TYPE')
})

test('exposition options: a CLS summary or its own buckets let a p75 be read', async () => {
  const m = new Monitor()
  // 100 page views: 75 with CLS 0.05, 25 with 0.3 — the p75 is 0.05, good.
  for (let i = 0; i < 100; i++) m.recordWebVitals({ cls: i < 75 ? 0.05 : 0.3 })
  const summary = m.exportPrometheus({ summaries: { 'web_vitals.cls': [0.75] } })
  assert.match(summary, /# TYPE web_vitals_cls summary/)
  const p75 = Number(/^web_vitals_cls\{quantile="0\.75"\} (\S+)$/m.exec(summary)[1])
  assert.ok(Math.abs(p75 - 0.05) <= 0.05 * 0.0039, `p75 ${p75}`)
  assert.equal(await m.metrics('prometheus', { summaries: { 'web_vitals.cls': [0.75] } }), summary)

  // Buckets at Google's thresholds: the first bound holding 75 % of the
  // views bounds the p75.
  const text = m.exportOpenMetrics({ buckets: { 'web_vitals.cls': [0.1, 0.25] } })
  const buckets = [...text.matchAll(/^web_vitals_cls_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((x) => [x[1], Number(x[2])])
  assert.deepEqual(buckets, [['0.1', 75], ['0.25', 75], ['+Inf', 100]])
  assert.equal(buckets.find(([, n]) => n >= 75)[0], '0.1')
  assert.match(text, /# EOF\s*$/)
})

test('exposition options: labels, help, units, default layouts; the core checks them', async () => {
  const m = new Monitor()
  m.record('db.query', 12)
  m.record('api.latency', 3)
  const text = m.export('prometheus', {
    globalLabels: { service: 'api' },
    help: { 'db.query': 'Query time' },
    units: { 'db.query': 'milliseconds' },
    defaultBuckets: [1, 10, 100],
  })
  assert.match(text, /# HELP db_query_milliseconds Query time/)
  assert.match(text, /db_query_milliseconds_bucket\{service="api",le="100(\.0)?"\} 1/)
  assert.match(text, /api_latency_bucket\{service="api",le="10(\.0)?"\} 1/)
  const summarized = m.exportPrometheus({ defaultSummary: [0.5] })
  assert.match(summarized, /api_latency\{quantile="0\.5"\} 3/)
  throwsCode(() => m.exportPrometheus({ defaultBuckets: [5, 1] }), RangeError, 'ERR_PERF_INVALID_CONFIG', /default_buckets/)
  throwsCode(() => m.exportPrometheus({ globalLabels: { le: '1' } }), TypeError, 'ERR_PERF_INVALID_TAG', /le/)
  throwsCode(() => m.exportPrometheus({ bucket: {} }), RangeError, 'ERR_PERF_INVALID_CONFIG', /bucket/)
  throwsCode(() => m.exportPrometheus({ default_buckets: [1] }), RangeError, 'ERR_PERF_INVALID_CONFIG', /camelCase/)
  throwsCode(() => m.export('json', { help: {} }), RangeError, 'ERR_PERF_INVALID_CONFIG', /prometheus and openmetrics/)
  throwsCode(() => m.exportPrometheus('x'), TypeError, 'ERR_PERF_INVALID_TYPE')
  await assert.rejects(m.metrics('csv', {}), (e) => e instanceof RangeError && e.code === 'ERR_PERF_INVALID_CONFIG')
  assert.equal(m.exportPrometheus({}), m.exportPrometheus())
})
