// The Web Vitals budget (added by instrumentation.ts) rated now, at p75.
import { monitor } from '@/lib/monitor'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

export function GET(): Response {
  return Response.json(monitor.budgetReport())
}
