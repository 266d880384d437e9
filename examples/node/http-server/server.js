'use strict'
// A small node:http service instrumented with perf-core.
//
//   node server.js            # listens on 127.0.0.1:3000
//   curl localhost:3000/users/42
//   curl localhost:3000/metrics
//
//   WORKERS=4 node server.js  # a `cluster` of 4 workers sharing the port
//
// With WORKERS, the workers form one perf-core process group
// (PERF_CORE_MULTIPROC_DIR; a fresh directory under the system's temporary
// directory unless set), so /metrics and /stats count every worker's
// requests whichever worker answers, one worker evaluates the rules, and
// emergency mode (which sheds /search) is the same in all of them. See
// docs/multiprocess.md.
//
// Routes:
//   GET /users/:id   simulated database work (1-5 ms)
//   GET /search      slower work (5-15 ms); shed with 503 in emergency mode
//   GET /health      always 200
//   GET /metrics     Prometheus exposition, computed off the main thread
//   GET /stats       per-route latency statistics as JSON
const cluster = require('node:cluster')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { Monitor, CONTENT_TYPES } = require('perf-core')
const { perfMiddleware } = require('./middleware')

/** Resolves after `ms` milliseconds (stands in for I/O). */
const work = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Creates the server around `monitor` (not yet listening). */
function createServer(monitor = new Monitor()) {
  const instrument = perfMiddleware(monitor)
  monitor.addRule({
    name: 'slow-search', metric: 'http.server.duration', stat: 'p95', window: '30s',
    tags: { route: '/search' }, threshold: 1000, severity: 'critical', for: '10s',
  })

  const routes = {
    '/users/:id': instrument('/users/:id', async (req, res) => {
      await work(1 + Math.random() * 4)
      json(res, 200, { id: req.url.split('/')[2], name: 'Ada' })
    }),
    '/search': instrument('/search', async (req, res) => {
      if (monitor.emergency.isActive()) return json(res, 503, { error: 'shedding load' })
      await work(5 + Math.random() * 10)
      json(res, 200, { results: [] })
    }),
    '/health': instrument('/health', (req, res) => json(res, 200, { ok: true })),
    '/metrics': async (req, res) => {
      const text = await monitor.metrics()
      res.writeHead(200, { 'content-type': CONTENT_TYPES.prometheus })
      res.end(text)
    },
    '/stats': (req, res) => {
      const out = {}
      for (const s of monitor.series()) {
        if (s.name === 'http.server.duration') out[`${s.tags.method} ${s.tags.route} ${s.tags.status}`] = monitor.stats(s.name, s.tags)
      }
      json(res, 200, out)
    },
  }

  const notFound = instrument('unmatched', (req, res) => json(res, 404, { error: 'not found' }))
  return http.createServer((req, res) => {
    const path = req.url.split('?')[0]
    const route = /^\/users\/[^/]+$/.test(path) ? '/users/:id' : path
    const handler = routes[route] ?? notFound
    Promise.resolve(handler(req, res)).catch((err) => {
      res.statusCode = 500
      res.end(String(err))
    })
  })
}

/** The primary of `WORKERS` cluster workers: a fresh group directory
 * (unless PERF_CORE_MULTIPROC_DIR names one), workers restarted if they die. */
function startPrimary(workers) {
  if (!process.env.PERF_CORE_MULTIPROC_DIR) {
    process.env.PERF_CORE_MULTIPROC_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-core-example-'))
  }
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('exit', (worker, code, signal) => {
    if (!worker.exitedAfterDisconnect && signal !== 'SIGTERM') cluster.fork()
  })
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM')
    process.exit(0)
  })
}

if (require.main === module) {
  const workers = Number(process.env.WORKERS ?? 1)
  if (workers > 1 && cluster.isPrimary) {
    startPrimary(workers)
  } else {
    const port = Number(process.env.PORT ?? 3000)
    const server = createServer()
    server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port} (pid ${process.pid})`))
    // A worker ending on SIGTERM publishes its final state on the way out.
    process.on('SIGTERM', () => server.close(() => process.exit(0)))
  }
}

module.exports = { createServer }
