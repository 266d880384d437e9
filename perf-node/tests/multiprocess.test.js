'use strict'
// Multi-process mode: monitors sharing a directory read as one — two in
// this process, and the workers of a real Node `cluster` service.
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { test } = require('node:test')

const { Monitor, ManualClock } = require('..')
const { settle } = require('./helpers')

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `perf-core-node-${name}-`))
}

test('two monitors sharing a directory read as one', () => {
  const dir = tempDir('pair')
  const clock = new ManualClock(0)
  const a = new Monitor({ clock, multiprocessDir: dir, gaugeModes: { workers_max: 'max' } })
  const b = new Monitor({ clock, multiprocessDir: dir, gaugeModes: { workers_max: 'max' } })
  for (let i = 0; i < 100; i++) {
    a.record('latency', i, { route: '/a' })
    b.record('latency', 1000 + i, { route: '/a' })
  }
  a.counter('requests').inc(100)
  b.counter('requests').inc(50)
  a.gauge('workers_max').set(3)
  b.gauge('workers_max').set(7)
  b.publish()
  const merged = a.stats('latency', { route: '/a' })
  assert.equal(merged.count, 200)
  assert.deepEqual([merged.min, merged.max], [0, 1099])
  assert.equal(a.local().stats('latency', { route: '/a' }).count, 100)
  const text = a.export('prometheus')
  assert.match(text, /^requests_total 150$/m)
  assert.match(text, /^workers_max 7$/m)
  const status = a.multiprocess()
  assert.equal(status.processes, 2)
  assert.equal(status.liveProcesses, 2)
  assert.equal(status.skippedFiles, 0)
  assert.equal(status.pid, process.pid)
  assert.equal(new Monitor().multiprocess(), null)
})

test('bad multi-process options are typed errors', () => {
  assert.throws(() => new Monitor({ multiprocessDir: 42 }), TypeError)
  assert.throws(() => new Monitor({ multiprocessDir: tempDir('bad'), defaultGaugeMode: 'average' }), TypeError)
  const file = path.join(tempDir('file'), 'f')
  fs.writeFileSync(file, 'not a directory')
  assert.throws(() => new Monitor({ multiprocessDir: path.join(file, 'group') }), { code: 'ERR_PERF_IO' })
})

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)))
    req.on('error', reject)
  })
}

async function counted(port) {
  const text = await get(port, '/metrics')
  const line = text.split('\n').find((l) => l.startsWith('http_requests_total{route="/work"}'))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

test('every scrape of a cluster counts every worker exactly', { timeout: 120_000 }, async () => {
  const dir = tempDir('cluster')
  const port = await freePort()
  const primary = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'cluster-server.js')], {
    env: { ...process.env, PORT: String(port), WORKERS: '4', PERF_CORE_MULTIPROC_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    await new Promise((resolve, reject) => {
      primary.stdout.on('data', (chunk) => { if (String(chunk).includes('ready')) resolve() })
      primary.on('exit', (code) => reject(new Error(`the cluster exited with ${code}`)))
    })
    const n = 1200
    const pids = new Set()
    for (let sent = 0; sent < n; sent += 40) {
      await Promise.all(Array.from({ length: 40 }, () => get(port, '/work')))
      pids.add(await get(port, '/pid'))
    }
    assert.ok(pids.size >= 2, `one worker answered everything: ${[...pids]}`)
    // The staleness bound: a flush (half a publish interval) and a publish.
    await settle(2000)
    const totals = []
    for (let i = 0; i < 10; i++) totals.push(await counted(port))
    assert.deepEqual(totals, Array(10).fill(n))
    const states = fs.readdirSync(dir).filter((f) => f.endsWith('.state'))
    assert.ok(states.length >= 4, `${states}`)

    // Emergency mode is the group's: turned on in one worker, every worker
    // sees it at once (no publish interval: one word of shared memory).
    const before = new Set()
    for (let i = 0; i < 40; i++) before.add(await get(port, '/emergency'))
    assert.ok([...before].every((answer) => answer.endsWith(' false')), `${[...before]}`)
    const activator = await get(port, '/emergency/on')
    const seen = new Map()
    for (let i = 0; i < 200 && seen.size < 4; i++) {
      const [pid, active] = (await get(port, '/emergency')).split(' ')
      seen.set(pid, active)
    }
    assert.ok(seen.size >= 2, `one worker answered everything: ${[...seen.keys()]}`)
    assert.ok([...seen.values()].every((active) => active === 'true'), JSON.stringify([...seen]))
    assert.ok([...seen.keys()].some((pid) => pid !== activator), 'another worker answered')
  } finally {
    primary.kill('SIGTERM')
    await new Promise((resolve) => primary.once('exit', resolve))
  }
})
