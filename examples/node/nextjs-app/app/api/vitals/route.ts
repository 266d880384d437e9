// Accepts Web Vitals posted by the browser (see app/web-vitals.tsx) and
// records them with their ratings under Google's thresholds.
import { monitor, timed } from '@/lib/monitor'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

const VITALS = new Set(['lcp', 'inp', 'cls', 'fcp', 'ttfb', 'fid'])

export const POST = timed('/api/vitals', async (request: Request): Promise<Response> => {
  let body: unknown
  try {
    body = await request.json()
  } catch {
    return Response.json({ error: 'expected a JSON body' }, { status: 400 })
  }
  const { name, value, page } = (body ?? {}) as { name?: unknown; value?: unknown; page?: unknown }
  const vital = typeof name === 'string' ? name.toLowerCase() : ''
  if (!VITALS.has(vital) || typeof value !== 'number') {
    return Response.json({ error: 'expected {name: LCP|INP|CLS|FCP|TTFB|FID, value: number}' }, { status: 400 })
  }
  const pagePath = typeof page === 'string' && page.startsWith('/') ? page.slice(0, 100) : '/'
  try {
    const ratings = monitor.recordWebVitals({ [vital]: value }, { page: pagePath })
    return Response.json({ name: vital, rating: ratings[vital as keyof typeof ratings] })
  } catch (err) {
    // RangeError for negative or non-finite values, TypeError for bad tags.
    return Response.json({ error: (err as Error).message }, { status: 400 })
  }
})
