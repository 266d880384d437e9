'use strict'
// A small node:http service instrumented with perf-core.
//
//   node server.js            # listens on 127.0.0.1:3000
//   curl localhost:3000/users/42
//   curl localhost:3000/metrics
//
// Routes:
//   GET /users/:id   simulated database work (1-5 ms)
//   GET /search      slower work (5-15 ms); shed with 503 in emergency mode
//   GET /health      always 200
//   GET /metrics     Prometheus exposition, computed off the main thread
//   GET /stats       per-route latency statistics as JSON
const http = require('node:http')
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

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3000)
  createServer().listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`))
}

module.exports = { createServer }
