'use strict'
// Builds the Next.js example (`next build`), starts it (`next start`) on a
// free loopback port, drives its routes, and checks /api/metrics. Set
// SKIP_NEXT_BUILD=1 to reuse an existing .next build.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const net = require('node:net')
const path = require('node:path')

const app = path.join(__dirname, '..')
const nextBin = require.resolve('next/dist/bin/next', { paths: [app] })
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

async function waitUntilUp(base, server, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}`)
    try {
      const res = await fetch(`${base}/api/hello`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('next start did not come up in time')
}

test('next build, next start, server timings, Web Vitals and /api/metrics', { timeout: 600_000 }, async () => {
  if (process.env.SKIP_NEXT_BUILD !== '1') {
    const build = spawnSync(process.execPath, [nextBin, 'build'], { cwd: app, env, encoding: 'utf8' })
    assert.equal(build.status, 0, `next build failed:\n${build.stdout}\n${build.stderr}`)
  }
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  server.stdout.on('data', (d) => { output += d })
  server.stderr.on('data', (d) => { output += d })
  try {
    await waitUntilUp(base, server)
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`${base}/api/hello`)).status, 200)

    const post = (body) => fetch(`${base}/api/vitals`, { method: 'POST', body: JSON.stringify(body) })
    const lcp = await post({ name: 'LCP', value: 1800, page: '/' })
    assert.equal(lcp.status, 200)
    assert.deepEqual(await lcp.json(), { name: 'lcp', rating: 'good' })
    assert.deepEqual(await (await post({ name: 'CLS', value: 0.3, page: '/' })).json(), { name: 'cls', rating: 'poor' })
    assert.deepEqual(await (await post({ name: 'INP', value: 350, page: '/' })).json(), { name: 'inp', rating: 'needs-improvement' })
    assert.equal((await post({ name: 'LCP', value: -5 })).status, 400)
    assert.equal((await post({ name: 'XYZ', value: 5 })).status, 400)
    assert.equal((await fetch(`${base}/api/vitals`, { method: 'POST', body: 'not json' })).status, 400)

    const page = await fetch(`${base}/`)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /perf-core \+ Next\.js/)

    const metrics = await fetch(`${base}/api/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
    const text = await metrics.text()
    const value = (prefix) => {
      const line = text.split('\n').find((l) => l.startsWith(prefix))
      assert.ok(line, `no line starting with ${prefix} in\n${text.slice(0, 2000)}`)
      return Number(line.split(' ').pop())
    }
    assert.ok(value('next_route_duration_count{route="/api/hello",status="2xx"}') >= 20)
    assert.equal(value('web_vitals_lcp_count{page="/"}'), 1)
    assert.equal(value('web_vitals_cls_count{page="/"}'), 1)
    assert.equal(value('web_vitals_inp_count{page="/"}'), 1)
    assert.equal(value('next_route_duration_count{route="/api/vitals",status="4xx"}'), 3)

    // instrumentation.ts registered the Web Vitals budget at startup.
    const report = await (await fetch(`${base}/api/budget`)).json()
    const lcpRow = report.rows.find((r) => r.budget === 'web_vitals' && r.metric === 'web_vitals.lcp')
    assert.equal(lcpRow.rating, 'good')
    assert.equal(lcpRow.good, 2500)
    assert.equal(report.rows.find((r) => r.metric === 'web_vitals.cls').rating, 'poor')
  } catch (err) {
    err.message += `\n--- next start output ---\n${output}`
    throw err
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)))
  }
})
