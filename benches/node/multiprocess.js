'use strict'
// Multi-process mode side by side: perf-core (multiprocessDir) against
// prom-client's AggregatorRegistry, on the same Node `cluster` workload.
//
//   ./run.sh multiprocess          # builds the release addon, installs, runs
//   node multiprocess.js [--repeat N]
//
// Workload: 1 000 histogram series (10 metrics × 100 routes). Four cluster
// workers each record 100 log-normal latencies into every series and stay
// alive. The primary — which records nothing — times a Prometheus scrape
// of the whole cluster (best of N): perf-core's merged view
// (`monitor.metrics()` on a monitor of the group) and prom-client's
// `AggregatorRegistry.clusterMetrics()` (which asks every worker over IPC).
// Then one worker exits and a new one records 100 more values into every
// series, as after a crash and restart: the cumulative counts must not go
// back. Every scrape's total `_count` is checked against what was recorded.
const cluster = require('node:cluster')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { lognormal } = require('./draws')

const METRICS = 10
const ROUTES = 100
const SERIES = METRICS * ROUTES
const WORKERS = 4
const VALUES = 100

/** `n` log-normal latencies (median 20 ms, sigma 1) from `seed`. */
function latencies(seed, n) {
  return Float64Array.from({ length: n }, lognormal(seed, 20, 1))
}

function* series() {
  for (let m = 0; m < METRICS; m++) {
    for (let r = 0; r < ROUTES; r++) yield [m * ROUTES + r, `svc_op${m}_duration`, `/route/${r}`]
  }
}

function workerRecordPerfCore(seed) {
  const { Monitor } = require('perf-core')
  const monitor = new Monitor({ multiprocessDir: process.env.GROUP_DIR, maxSeriesPerMetric: ROUTES })
  for (const [i, name, route] of series()) {
    const h = monitor.histogram(name, { route })
    for (const v of latencies(seed * 1_000_003 + i, VALUES)) h.record(v)
  }
  monitor.publish()
  return monitor
}

function workerRecordPromClient(seed) {
  const client = require('prom-client')
  // As prom-client's cluster example: constructing one in a worker adds its
  // listener for the primary's requests.
  new client.AggregatorRegistry() // eslint-disable-line no-new
  const histograms = new Map()
  for (const [i, name, route] of series()) {
    if (!histograms.has(name)) {
      histograms.set(name, new client.Histogram({ name, help: 'latency', labelNames: ['route'] }))
    }
    const child = histograms.get(name).labels(route)
    for (const v of latencies(seed * 1_000_003 + i, VALUES)) child.observe(v)
  }
  return histograms
}

function totalCount(text) {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith('#') && line.includes('_count{')) total += Number(line.split(' ').pop())
  }
  return total
}

function fork(library, seed, dir) {
  const worker = cluster.fork({ LIBRARY: library, SEED: String(seed), GROUP_DIR: dir })
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => (m === 'ready' ? resolve(worker) : reject(new Error(String(m)))))
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
  })
}

function stop(worker) {
  return new Promise((resolve) => {
    worker.once('exit', resolve)
    worker.kill()
  })
}

async function bestOf(repeat, scrape) {
  let best = Infinity
  let text = ''
  for (let i = 0; i < repeat; i++) {
    const start = process.hrtime.bigint()
    text = await scrape()
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6)
  }
  return { ms: best, text }
}

function scraper(library, dir) {
  if (library === 'perf-core') {
    const { Monitor } = require('perf-core')
    const monitor = new Monitor({ multiprocessDir: dir, maxSeriesPerMetric: ROUTES })
    return () => monitor.metrics()
  }
  const { AggregatorRegistry } = require('prom-client')
  const registry = new AggregatorRegistry()
  return () => registry.clusterMetrics()
}

async function run(library, repeat) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mp-bench-${library}-`))
  const rows = []
  const workers = []
  for (let seed = 0; seed < WORKERS; seed++) workers.push(await fork(library, seed, dir))
  const scrape = scraper(library, dir)
  let expected = WORKERS * VALUES * SERIES
  let { ms, text } = await bestOf(repeat, scrape)
  rows.push({ library, case: 'cluster of 4 live workers', ms, counted: totalCount(text), expected })
  // A worker exits; its replacement records as much again.
  await stop(workers.shift())
  workers.push(await fork(library, WORKERS, dir))
  expected += VALUES * SERIES
  if (library === 'perf-core') await new Promise((resolve) => setTimeout(resolve, 1500)) // a publish interval
  ;({ ms, text } = await bestOf(repeat, scrape))
  rows.push({ library, case: 'after one worker exited and was replaced', ms, counted: totalCount(text), expected })
  for (const worker of workers) await stop(worker)
  fs.rmSync(dir, { recursive: true, force: true })
  return rows
}

async function primary() {
  const i = process.argv.indexOf('--repeat')
  const repeat = i > 0 ? Number(process.argv[i + 1]) : 5
  const rows = [...(await run('perf-core', repeat)), ...(await run('prom-client', repeat))]
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(`machine: ${os.type()} ${os.release()} ${os.arch()}, ${os.cpus().length} CPUs (${cpu}), Node ${process.version}`)
  console.log(`${'library'.padEnd(12)} ${'case'.padEnd(42)} ${'scrape ms'.padStart(10)}  counted (expected)`)
  for (const r of rows) {
    const mark = r.counted === r.expected ? 'exact' : 'WRONG'
    console.log(`${r.library.padEnd(12)} ${r.case.padEnd(42)} ${r.ms.toFixed(2).padStart(10)}  ${r.counted} (${r.expected}) ${mark}`)
  }
}

if (cluster.isPrimary) {
  primary().catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else {
  const seed = Number(process.env.SEED)
  const kept = process.env.LIBRARY === 'perf-core' ? workerRecordPerfCore(seed) : workerRecordPromClient(seed)
  process.send('ready')
  process.on('disconnect', () => process.exit(0))
  setInterval(() => kept, 1 << 30) // stay alive until killed
}
