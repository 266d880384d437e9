'use strict'
// Starts the example server on a free loopback port, drives bounded real
// load with autocannon, and checks counts, percentiles and /metrics.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const autocannon = require('autocannon')
const { Monitor } = require('perf-core')
const { createServer } = require('../server')

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

async function get(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

test('per-route latency under real load, served at /metrics', async () => {
  const monitor = new Monitor()
  const server = createServer(monitor)
  const port = await listen(server)
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 8,
      amount: 1500,
      requests: [{ method: 'GET', path: '/users/42' }, { method: 'GET', path: '/search' }, { method: 'GET', path: '/health' }],
    })
    assert.equal(result.errors, 0)
    assert.equal(result.non2xx, 0)
    const sent = result.requests.total
    assert.ok(sent >= 1500, `sent ${sent}`)

    const tags = (route) => ({ route, method: 'GET', status: '2xx' })
    const users = monitor.stats('http.server.duration', tags('/users/:id'))
    const search = monitor.stats('http.server.duration', tags('/search'))
    const health = monitor.stats('http.server.duration', tags('/health'))
    // Every response is recorded exactly once.
    assert.equal(users.count + search.count + health.count, sent)
    for (const s of [users, search, health]) assert.ok(s.count >= 400, `count ${s.count}`)
    const requests = monitor.counter('http.requests', tags('/search')).value()
    assert.equal(requests, search.count)
    // The simulated work shows in the percentiles: /users 1-5 ms, /search 5-15 ms
    // (timers may fire up to a millisecond early against the request start).
    assert.ok(users.p50 >= 0.5 && users.p50 < search.p50, `users p50 ${users.p50}, search p50 ${search.p50}`)
    assert.ok(search.min >= 3, `search min ${search.min}`)
    assert.ok(search.p99 >= search.p50 && search.max >= search.p99)
    assert.ok(health.p50 < users.p50)

    const metrics = await get(port, '/metrics')
    assert.equal(metrics.status, 200)
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/)
    const line = metrics.text.split('\n').find((l) => l.startsWith('http_server_duration_count{') && l.includes('route="/search"'))
    assert.ok(line, metrics.text.slice(0, 500))
    assert.equal(Number(line.split(' ').pop()), search.count)
    assert.match(metrics.text, /# TYPE http_server_duration histogram/)

    const stats = JSON.parse((await get(port, '/stats')).text)
    assert.equal(stats['GET /search 2xx'].count, search.count)

    // Emergency mode sheds /search.
    monitor.emergency.activate('integration test')
    assert.equal((await get(port, '/search')).status, 503)
    monitor.emergency.deactivate('done')
    assert.equal((await get(port, '/search')).status, 200)
    assert.equal(monitor.stats('http.server.duration', { route: '/search', method: 'GET', status: '5xx' }).count, 1)
    assert.equal((await get(port, '/nope')).status, 404)
  } finally {
    await new Promise((resolve) => server.close(resolve))
    monitor.close()
  }
})

/** A free loopback port. */
async function freePort() {
  const server = http.createServer()
  const port = await listen(server)
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The total of `http_server_duration_count` for `route` in one scrape. */
async function scrapedCount(port, route) {
  const { text } = await get(port, '/metrics')
  return text
    .split('\n')
    .filter((l) => l.startsWith('http_server_duration_count{') && l.includes(`route="${route}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
}

test('WORKERS=3: every scrape counts every worker, emergency mode is shared', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-core-example-test-'))
  const port = await freePort()
  const primary = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], {
    env: { ...process.env, WORKERS: '3', PORT: String(port), PERF_CORE_MULTIPROC_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    let listening = 0
    await new Promise((resolve, reject) => {
      primary.stdout.on('data', (chunk) => {
        listening += String(chunk).split('listening').length - 1
        if (listening >= 3) resolve()
      })
      primary.on('exit', (code) => reject(new Error(`the cluster exited with ${code}`)))
    })
    const result = await autocannon({ url: `http://127.0.0.1:${port}/users/7`, connections: 8, amount: 900 })
    assert.equal(result.non2xx, 0)
    const sent = result.requests.total
    // At most a flush (half a publish interval) plus a publish old.
    const deadline = Date.now() + 10_000
    while ((await scrapedCount(port, '/users/:id')) !== sent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const scrapes = []
    for (let i = 0; i < 10; i++) scrapes.push(await scrapedCount(port, '/users/:id'))
    assert.deepEqual(scrapes, Array(10).fill(sent))
    // Turned on from this process, a member of the group too: every
    // worker sheds /search at once.
    const member = new Monitor({ multiprocessDir: dir })
    member.emergency.activate('example test')
    const statuses = new Set()
    for (let i = 0; i < 30; i++) statuses.add((await get(port, '/search')).status)
    member.emergency.deactivate('done')
    member.close()
    assert.deepEqual([...statuses], [503])
  } finally {
    primary.kill('SIGTERM')
    await new Promise((resolve) => primary.once('exit', resolve))
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
