'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Monitor, Baseline, compare } = require('..')
const { throwsCode } = require('./helpers')

/** A monitor with `n` latencies around `center` ms for one route. */
function run(center, n = 2000) {
  const m = new Monitor()
  const h = m.histogram('api.latency', { route: '/checkout' })
  for (let i = 0; i < n; i++) h.record(center * (0.8 + 0.4 * ((i * 7919) % n) / n))
  return m
}

test('a baseline saved and loaded compares equal; a 50% slower run regresses', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-node-'))
  const file = path.join(dir, 'baseline.json')
  const base = run(100).baseline('v1').withMetadata('commit', 'abc123')
  assert.equal(base.version, 'v1')
  assert.equal(base.metadata.commit, 'abc123')
  assert.ok(base.metadata.perf_core)
  assert.equal(base.series().length, 1)
  assert.equal(base.series()[0].stats.count, 2000)
  assert.deepEqual(base.series()[0].series.tags, { route: '/checkout' })
  base.save(file)
  const loaded = Baseline.load(file)
  assert.equal(loaded.version, 'v1')
  assert.equal(loaded.toJson(), base.toJson())
  assert.deepEqual(JSON.parse(JSON.stringify(loaded)), JSON.parse(base.toJson()))
  assert.equal(Baseline.fromJson(base.toJson()).series()[0].stats.count, 2000)

  const same = compare(loaded, run(100).baseline('v2'), { seed: 1 })
  assert.equal(same.passed, true)
  assert.equal(same.baseline_version, 'v1')
  assert.equal(same.current_version, 'v2')
  assert.ok(same.rows.length >= 4)
  assert.ok(same.rows.every((r) => r.verdict === 'unchanged'), JSON.stringify(same.rows))

  const slower = compare(loaded, run(150).baseline('v3'), { statistics: ['p50', 'p95'], threshold: 0.2, seed: 1 })
  assert.equal(slower.passed, false)
  assert.equal(slower.regressions, 2)
  for (const row of slower.rows) {
    assert.equal(row.verdict, 'regressed')
    assert.ok(Math.abs(row.change - 0.5) < 0.05, `change ${row.change}`)
    assert.ok(row.q_value < 0.05)
  }
  fs.rmSync(dir, { recursive: true })
})

test('missing, added and insufficient series are reported', () => {
  const a = new Monitor()
  a.record('only.before', 1)
  a.record('both', 1)
  const b = new Monitor()
  b.record('only.after', 1)
  b.record('both', 1)
  const report = compare(a.baseline('a'), b.baseline('b'))
  assert.deepEqual(report.missing, ['only.before'])
  assert.deepEqual(report.added, ['only.after'])
  assert.ok(report.rows.every((r) => r.verdict === 'insufficient_data'))
  assert.equal(report.passed, true)
})

test('bad baselines, paths and policies are errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-node-'))
  const corrupt = path.join(dir, 'corrupt.json')
  fs.writeFileSync(corrupt, '{"format": "perf-core-baseline", "version"')
  throwsCode(() => Baseline.load(corrupt), Error, 'ERR_PERF_INVALID_BASELINE')
  throwsCode(() => Baseline.load(path.join(dir, 'missing.json')), Error, 'ERR_PERF_INVALID_BASELINE')
  throwsCode(() => Baseline.fromJson('[]'), Error, 'ERR_PERF_INVALID_BASELINE')
  throwsCode(() => Baseline.load(7), TypeError, 'ERR_PERF_INVALID_TYPE')
  const base = run(10, 100).baseline('v1')
  throwsCode(() => base.save(path.join(dir, 'no', 'such', 'dir', 'b.json')), Error, 'ERR_PERF_IO')
  throwsCode(() => compare(base, base, { statistics: ['p101x'] }), Error, 'ERR_PERF_INVALID_COMPARISON')
  throwsCode(() => compare(base, base, { alpha: 2 }), Error, 'ERR_PERF_INVALID_COMPARISON')
  throwsCode(() => compare(base, {}), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => compare(base, base, 'strict'), TypeError, 'ERR_PERF_INVALID_TYPE')
  throwsCode(() => new Monitor().baseline(1), TypeError, 'ERR_PERF_INVALID_TYPE')
  fs.rmSync(dir, { recursive: true })
})
