// An ordinary API route whose server timing is recorded.
import { timed } from '@/lib/monitor'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

export const GET = timed('/api/hello', async (): Promise<Response> => {
  await new Promise((resolve) => setTimeout(resolve, 2))
  return Response.json({ hello: 'world' })
})
