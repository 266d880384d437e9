'use strict'
// exportProtobuf() and metrics('protobuf'): the Prometheus protobuf
// exposition with native histograms, read back with a small protobuf reader.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Monitor, ManualClock, CONTENT_TYPES } = require('..')

const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'
const COUNTER = 0
const GAUGE = 1
const SUMMARY = 2
const HISTOGRAM = 4

/** The varint at `at` of `buf`: [value (BigInt), offset after it]. */
function varint(buf, at) {
  let value = 0n
  for (let shift = 0n; shift < 64n; shift += 7n) {
    assert.ok(at < buf.length, 'truncated varint')
    const byte = buf[at++]
    value |= BigInt(byte & 0x7f) << shift
    if (byte < 0x80) return [value, at]
  }
  throw new Error('varint too long')
}

const zigzag = (n) => Number((n >> 1n) ^ -(n & 1n))

/** A message's fields: [number, BigInt value (varint) or Buffer]. */
function fields(buf) {
  const out = []
  let at = 0
  while (at < buf.length) {
    let key
    ;[key, at] = varint(buf, at)
    const number = Number(key >> 3n)
    const wire = Number(key & 7n)
    let value
    if (wire === 0) {
      ;[value, at] = varint(buf, at)
    } else if (wire === 2) {
      let size
      ;[size, at] = varint(buf, at)
      value = buf.subarray(at, at + Number(size))
      assert.equal(value.length, Number(size), 'truncated field')
      at += Number(size)
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4
      value = buf.subarray(at, at + size)
      at += size
    } else {
      throw new Error(`wire type ${wire}`)
    }
    out.push([number, value])
  }
  assert.equal(at, buf.length)
  return out
}

/** The MetricFamily messages of a delimited stream, by name. */
function families(buf) {
  const out = new Map()
  let at = 0
  while (at < buf.length) {
    let size
    ;[size, at] = varint(buf, at)
    assert.ok(at + Number(size) <= buf.length, 'a length prefix runs past the end')
    const family = { name: '', type: -1, metrics: [] }
    for (const [number, value] of fields(buf.subarray(at, at + Number(size)))) {
      if (number === 1) family.name = value.toString('utf8')
      else if (number === 3) family.type = Number(value)
      else if (number === 4) family.metrics.push(fields(value))
    }
    out.set(family.name, family)
    at += Number(size)
  }
  return out
}

/** The decoded message field `number` of `fields`. */
const sub = (fs, number) => fields(fs.find(([n]) => n === number)[1])

/** The native buckets' counts of a histogram (positive_delta, field 13). */
function nativeCounts(histogram) {
  const counts = []
  let count = 0
  for (const [number, value] of histogram) {
    if (number === 13) counts.push((count += zigzag(value)))
  }
  return counts
}

function sample() {
  // batchSize: the last records are still pending in the handle when read.
  const m = new Monitor({ batchSize: 64, clock: new ManualClock(1_700_000_000_000) })
  const h = m.histogram('http.server.duration', { route: '/users' })
  for (let v = 1; v <= 1000; v++) h.record(v)
  m.counter('http.requests', { route: '/users' }).inc(1000)
  m.gauge('queue.depth').set(3)
  return m
}

test('exportProtobuf() is delimited MetricFamily messages with native histograms, pending records included', () => {
  const m = sample()
  const buf = m.exportProtobuf()
  assert.ok(Buffer.isBuffer(buf))
  const found = families(buf)
  assert.deepEqual([...found.keys()].sort(), ['http_requests_total', 'http_server_duration', 'queue_depth'])
  assert.equal(found.get('http_requests_total').type, COUNTER)
  assert.equal(found.get('queue_depth').type, GAUGE)
  const duration = found.get('http_server_duration')
  assert.equal(duration.type, HISTOGRAM)
  const histogram = sub(duration.metrics[0], 7)
  const field = (n) => histogram.find(([number]) => number === n)?.[1]
  assert.equal(field(1), 1000n) // sample_count: the pending records were flushed
  assert.equal(zigzag(field(5)), 8) // schema
  assert.ok(field(12) !== undefined) // a positive span
  assert.equal(nativeCounts(histogram).reduce((a, b) => a + b, 0), 1000)
  assert.ok(histogram.some(([n]) => n === 3)) // the classic buckets too
  assert.deepEqual(m.exportProtobuf(), buf)
})

test("metrics('protobuf') resolves with the same Buffer, computed off-thread; CONTENT_TYPES.protobuf serves it", async () => {
  const m = sample()
  const buf = await m.metrics('protobuf')
  assert.ok(Buffer.isBuffer(buf))
  assert.deepEqual(buf, m.exportProtobuf())
  const options = { globalLabels: { service: 'api' }, summaries: { 'http.server.duration': [0.5] } }
  assert.deepEqual(await m.metrics('protobuf', options), m.exportProtobuf(options))
  assert.equal(CONTENT_TYPES.protobuf, PROTOBUF)
  assert.equal(typeof (await m.metrics()), 'string')
})

test('exportProtobuf() takes the exposition options', () => {
  const m = sample()
  assert.deepEqual(m.exportProtobuf({}), m.exportProtobuf())
  const found = families(m.exportProtobuf({ globalLabels: { service: 'api' }, summaries: { 'http.server.duration': [0.5] } }))
  const duration = found.get('http_server_duration')
  assert.equal(duration.type, SUMMARY)
  const labels = duration.metrics[0].filter(([n]) => n === 1).map(([, v]) => fields(v).map(([, s]) => s.toString()))
  assert.deepEqual(labels, [['route', '/users'], ['service', 'api']])
  const invalid = (e) => e instanceof RangeError && e.code === 'ERR_PERF_INVALID_CONFIG'
  assert.throws(() => m.exportProtobuf({ defaultBuckets: [5, 1] }), invalid)
  assert.throws(() => m.exportProtobuf({ default_buckets: [1] }), invalid)
  assert.throws(() => m.exportProtobuf(5), (e) => e instanceof TypeError && e.code === 'ERR_PERF_INVALID_TYPE')
})

test('an empty monitor exports no bytes; export() stays text', async () => {
  const m = new Monitor()
  assert.equal(m.exportProtobuf().length, 0)
  assert.equal((await m.metrics('protobuf')).length, 0)
  assert.throws(() => m.export('protobuf'), (e) => e.code === 'ERR_PERF_INVALID_CONFIG' && /exportProtobuf/.test(e.message))
  m.close()
})
