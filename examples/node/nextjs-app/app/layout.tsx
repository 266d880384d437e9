import type { ReactNode } from 'react'
import { WebVitals } from './web-vitals'

export const metadata = { title: 'perf-core + Next.js' }

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <WebVitals />
        {children}
      </body>
    </html>
  )
}
