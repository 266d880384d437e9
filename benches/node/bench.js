'use strict'
// Recording cost, side by side in one process: perf-core's Node binding
// against prom-client and hdr-histogram-js (JS and WebAssembly).
//
//   ./run.sh              # builds the release addon, installs, runs
//   node bench.js [--quick]
//
// Each case runs ROUNDS rounds of ITERS operations after a warm-up; the
// table shows the median ns per operation and the spread (min-max) over
// rounds. perf-core's h.record(v) is amortized: its figure includes the
// native call that hands every full batch (1 024 values) to the core, and a
// final flush. Values cycle through 4 096 pre-drawn latencies (log-normal,
// median ~40 ms), the same for every library (hdr-histogram-js takes
// integers: microseconds).
const { Monitor } = require('perf-core')
const client = require('prom-client')
const hdr = require('hdr-histogram-js')
const { lognormal } = require('./draws')

const quick = process.argv.includes('--quick')
const ITERS = quick ? 200_000 : 2_000_000
const ROUNDS = quick ? 3 : 9
const MASK = 4095

const draw = lognormal(42, 40, 0.8) // median ~40 ms
const values = Float64Array.from({ length: MASK + 1 }, draw)
const micros = Int32Array.from(values, (v) => Math.round(v * 1000))

/** Median and spread of ns/op of `op(i)` over ROUNDS rounds of ITERS calls. */
function measure(op, after) {
  for (let i = 0; i < 200_000; i++) op(i)
  after?.()
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < ITERS; i++) op(i)
    after?.()
    rounds.push(Number(process.hrtime.bigint() - start) / ITERS)
  }
  rounds.sort((x, y) => x - y)
  return { median: rounds[rounds.length >> 1], min: rounds[0], max: rounds[rounds.length - 1] }
}

async function main() {
  const rows = []
  const run = (library, name, op, after) => {
    const r = measure(op, after)
    rows.push({ library, case: name, 'ns/op (median)': r.median.toFixed(1), 'min-max': `${r.min.toFixed(1)}-${r.max.toFixed(1)}` })
  }

  // perf-core
  const monitor = new Monitor({ flushInterval: 0 })
  const h = monitor.histogram('bench.latency', { route: '/users' })
  run('perf-core', 'h.record(v) (amortized)', (i) => h.record(values[i & MASK]), () => monitor.flush())
  run('perf-core', 'monitor.record(name, v)', (i) => monitor.record('bench.plain', values[i & MASK]), () => monitor.flush())
  const tags = { route: '/users' }
  run('perf-core', 'monitor.record(name, v, tags)', (i) => monitor.record('bench.tagged', values[i & MASK], tags), () => monitor.flush())
  const t = monitor.histogram('bench.timer')
  run('perf-core', 'const end = h.startTimer(); end()', () => t.startTimer()(), () => monitor.flush())
  const c = monitor.counter('bench.requests')
  run('perf-core', 'counter.inc()', () => c.inc(), () => monitor.flush())
  const g = monitor.gauge('bench.in_flight')
  run('perf-core', 'gauge.set(v)', (i) => g.set(values[i & MASK]), () => monitor.flush())
  let active = 0
  run('perf-core', 'emergency.isActive()', () => { active += monitor.emergency.isActive() ? 1 : 0 })
  if (active !== 0) throw new Error('emergency mode should be off')
  const stats = monitor.stats('bench.latency', { route: '/users' })
  if (stats.count !== 200_000 + ROUNDS * ITERS) throw new Error(`lost values: ${stats.count}`)

  // prom-client
  const registry = new client.Registry()
  const buckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
  const ph = new client.Histogram({ name: 'bench_latency', help: 'h', buckets, registers: [registry] })
  run('prom-client', 'histogram.observe(v)', (i) => ph.observe(values[i & MASK]))
  const pl = new client.Histogram({ name: 'bench_latency_labeled', help: 'h', labelNames: ['route'], buckets, registers: [registry] })
  run('prom-client', 'histogram.observe({route}, v)', (i) => pl.observe(tags, values[i & MASK]))
  const pt = new client.Histogram({ name: 'bench_timer', help: 'h', buckets, registers: [registry] })
  run('prom-client', 'const end = h.startTimer(); end()', () => pt.startTimer()())
  const pg = new client.Gauge({ name: 'bench_in_flight', help: 'g', registers: [registry] })
  run('prom-client', 'gauge.set(v)', (i) => pg.set(values[i & MASK]))

  // hdr-histogram-js
  const hj = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3 })
  run('hdr-histogram-js', 'recordValue(v) (JS)', (i) => hj.recordValue(micros[i & MASK]))
  await hdr.initWebAssembly()
  const hw = hdr.build({ useWebAssembly: true, numberOfSignificantValueDigits: 3 })
  run('hdr-histogram-js', 'recordValue(v) (WASM)', (i) => hw.recordValue(micros[i & MASK]))
  hw.destroy()

  console.log(`node ${process.version}, ${ITERS} ops x ${ROUNDS} rounds per case`)
  console.table(rows)
  monitor.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
