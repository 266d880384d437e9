// Next.js instrumentation hook: runs once when the server starts.
export async function register() {
  // perf-core is a Node.js addon; the Edge runtime cannot load it.
  if (process.env.NEXT_RUNTIME !== 'nodejs') return
  const { monitor } = await import('./lib/monitor')
  monitor.addBudget('web_vitals')
  monitor.addRule({
    name: 'slow-routes', metric: 'next.route.duration', stat: 'p95', window: '60s',
    levels: [{ severity: 'warning', threshold: 500 }, { severity: 'critical', threshold: 2000 }],
  })
  monitor.onAlert((event) => {
    console.warn(`[perf-core] ${event.rule} ${event.kind} (${event.severity}) on ${event.series.tags.route}: ${event.value}`)
  })
  // The evaluator thread and the alert callback never keep the process alive.
  monitor.start(5_000)
}
