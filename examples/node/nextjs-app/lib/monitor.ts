// The app's one perf-core Monitor. Next.js may load this module more than
// once (per route bundle, and again on hot reload), so the instance lives on
// globalThis.
import { Monitor } from 'perf-core'

const globalForPerf = globalThis as typeof globalThis & { __perfMonitor?: Monitor }

export const monitor: Monitor = globalForPerf.__perfMonitor ?? (globalForPerf.__perfMonitor = new Monitor())

/**
 * Wraps a route handler so its latency lands in `next.route.duration`
 * tagged with the route pattern and the response's status class.
 */
export function timed<A extends unknown[]>(
  route: string,
  handler: (...args: A) => Promise<Response> | Response,
): (...args: A) => Promise<Response> {
  const histogram = (status: number) =>
    monitor.histogram('next.route.duration', { route, status: `${Math.floor(status / 100)}xx` })
  return async (...args: A) => {
    const start = performance.now()
    let status = 500
    try {
      const res = await handler(...args)
      status = res.status
      return res
    } finally {
      histogram(status).record(performance.now() - start)
    }
  }
}
