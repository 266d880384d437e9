'use client'
// Reports the page's Web Vitals to /api/vitals as they become available.
import { usePathname } from 'next/navigation'
import { useReportWebVitals } from 'next/web-vitals'

export function WebVitals() {
  const page = usePathname()
  useReportWebVitals((metric) => {
    const body = JSON.stringify({ name: metric.name, value: metric.value, page })
    if (!navigator.sendBeacon?.('/api/vitals', body)) {
      fetch('/api/vitals', { method: 'POST', body, keepalive: true }).catch(() => {})
    }
  })
  return null
}
