export default function Home() {
  return (
    <main>
      <h1>perf-core + Next.js</h1>
      <p>
        Server timings and this page&apos;s Web Vitals are recorded by perf-core; see <a href="/api/metrics">/api/metrics</a>.
      </p>
    </main>
  )
}
