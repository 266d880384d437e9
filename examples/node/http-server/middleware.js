'use strict'
// perf-core middleware for node:http (and anything with the same
// (req, res, next) shape: Express, Connect, Fastify's middie).
//
// It records each request's latency in `http.server.duration` (ms) tagged
// with the route pattern (never the raw URL: ids would make one series per
// user), the method and the status class, and counts requests in
// `http.requests`. Handles are looked up once per (route, method, status)
// and cached by perf-core, so the per-request cost is a timer and a record.

/**
 * Returns `instrument(route, handler)`: wraps a handler for the route
 * pattern `route` so its latency is recorded when the response finishes.
 */
function perfMiddleware(monitor) {
  return function instrument(route, handler) {
    return function instrumented(req, res) {
      const start = process.hrtime.bigint()
      res.once('finish', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6
        const tags = { route, method: req.method, status: `${Math.floor(res.statusCode / 100)}xx` }
        monitor.record('http.server.duration', ms, tags)
        monitor.counter('http.requests', tags).inc()
      })
      return handler(req, res)
    }
  }
}

module.exports = { perfMiddleware }
