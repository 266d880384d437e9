// Prometheus scrape endpoint: the exposition is computed off the main thread.
import { CONTENT_TYPES } from 'perf-core'
import { monitor } from '@/lib/monitor'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

export async function GET(): Promise<Response> {
  const body = await monitor.metrics('prometheus')
  return new Response(body, { headers: { 'content-type': CONTENT_TYPES.prometheus } })
}
