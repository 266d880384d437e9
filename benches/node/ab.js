// The Node recording paths of one perf-node build, for an A/B of two
// builds (docs/benchmarks.md, issue 17): node ab.js <perf-node directory>.
// Prints ns/op (best of 5 rounds of 2e6 ops) for each case.
const { Monitor } = require(process.argv[2])
const N = 2_000_000
const values = Float64Array.from({ length: 4096 }, (_, i) => 1 + (i * 7919) % 500)
function best(op, after) {
  let bestNs = Infinity
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) op(i)
    if (after) after()
    const ns = Number(process.hrtime.bigint() - t0) / N
    if (ns < bestNs) bestNs = ns
  }
  return bestNs
}
const m = new Monitor({ flushInterval: 0 })
const h = m.histogram('lat', { route: '/a' })
const c = m.counter('req', { route: '/a' })
const g = m.gauge('inflight', { route: '/a' })
const out = {
  'h.record(v)': best((i) => h.record(values[i & 4095]), () => m.flush()),
  'c.inc()': best(() => c.inc(), () => m.flush()),
  'g.set(v)': best((i) => g.set(values[i & 4095]), () => m.flush()),
  'g.inc(1)': best(() => g.inc(1), () => m.flush()),
}
console.log(JSON.stringify(out))
m.close()
