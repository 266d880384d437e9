'use strict'
// The Node.js column of the parity manifest (docs/parity.md) against the
// package: every name in the column exists, every row has a Node.js name
// or a reason, and every public operation of the package is in the column.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pkg = require('..')

/**
 * The exported classes whose members are operations: each public member
 * (prototype methods and getters, static members; not `constructor`, not
 * `_`-prefixed) must be in the Node.js column.
 */
const OPERATION_CLASSES = ['Monitor', 'Histogram', 'Counter', 'Gauge', 'Emergency', 'Baseline', 'ManualClock']
/** Exported classes that are not operations (none yet): listed so that a new export is a decision. */
const OTHER_CLASSES = []

const MANIFEST = path.join(__dirname, '..', '..', 'docs', 'parity.md')

/** The manifest's rows, each its four cells. */
function manifest() {
  const lines = fs.readFileSync(MANIFEST, 'utf8').split('\n').filter((line) => line.startsWith('|'))
  assert.equal(lines[0], '| Rust | Python | Node.js | C |', 'the manifest is one table with these columns')
  assert.match(lines[1], /^\|(\s*-+\s*\|){4}$/)
  return lines.slice(2).map((line, i) => {
    const cells = line.replace(/^\|/, '').replace(/\|$/, '').split(' | ').map((cell) => cell.trim())
    assert.equal(cells.length, 4, `row ${i + 1} has four cells: ${line}`)
    return { line, cells }
  })
}

/**
 * The names of a cell (hints in parentheses dropped), or null for a
 * `— reason` cell. Throws on an empty cell, a `—` without a reason, or an
 * entry that is not one backticked name.
 */
function cellNames(cell, line) {
  assert.ok(cell.length > 0, `empty Node.js cell: ${line}`)
  if (cell.startsWith('—')) {
    assert.ok(cell.slice(1).trim().length > 0, `a — without a reason: ${line}`)
    return null
  }
  return cell.split(', ').map((entry) => {
    const m = /^`([^`]+)`$/.exec(entry.trim())
    assert.ok(m, `not a backticked name: ${JSON.stringify(entry)} in ${line}`)
    return m[1].split('(')[0]
  })
}

/** Whether `value` is a class (not a plain function). */
function isClass(value) {
  return typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value))
}

/** Whether the Node.js name `name` exists in the package. */
function exists(name) {
  const dot = name.indexOf('.')
  if (dot < 0) return Object.prototype.hasOwnProperty.call(pkg, name)
  const Class = pkg[name.slice(0, dot)]
  const member = name.slice(dot + 1)
  if (!isClass(Class) || member.startsWith('_') || member === 'constructor') return false
  const own = (object) => Object.prototype.hasOwnProperty.call(object, member)
  return own(Class.prototype) || (own(Class) && !['length', 'name', 'prototype'].includes(member))
}

/** Every public operation of the package, as the Node.js column names it. */
function operations() {
  const out = []
  for (const [name, value] of Object.entries(pkg)) {
    if (isClass(value)) {
      if (!OPERATION_CLASSES.includes(name)) continue
      for (const member of Object.getOwnPropertyNames(value.prototype)) {
        if (member !== 'constructor' && !member.startsWith('_')) out.push(`${name}.${member}`)
      }
      for (const member of Object.getOwnPropertyNames(value)) {
        if (!['length', 'name', 'prototype'].includes(member) && !member.startsWith('_')) out.push(`${name}.${member}`)
      }
    } else if (typeof value === 'function') {
      out.push(name)
    }
  }
  return out
}

test('the parity manifest parses, and every row has Node.js names or a reason', () => {
  const rows = manifest()
  assert.ok(rows.length > 50, `${rows.length} rows`)
  for (const { line, cells } of rows) cellNames(cells[2], line)
})

test('every Node.js name in the manifest exists in the package', () => {
  const missing = []
  for (const { line, cells } of manifest()) {
    for (const name of cellNames(cells[2], line) ?? []) {
      if (!exists(name)) missing.push(name)
    }
  }
  assert.deepEqual(missing, [], `names in docs/parity.md that perf-core for Node.js does not have: ${missing.join(', ')}`)
})

test('every public operation of the package is in the Node.js column', () => {
  const listed = new Set(manifest().flatMap(({ line, cells }) => cellNames(cells[2], line) ?? []))
  const unlisted = operations().filter((name) => !listed.has(name))
  assert.deepEqual(unlisted, [], `operations missing from the Node.js column of docs/parity.md: ${unlisted.join(', ')}`)
})

test('every exported class is classified as an operation class or not', () => {
  for (const name of [...OPERATION_CLASSES, ...OTHER_CLASSES]) assert.ok(isClass(pkg[name]), `${name} is an exported class`)
  const unclassified = Object.entries(pkg)
    .filter(([name, value]) => isClass(value) && !OPERATION_CLASSES.includes(name) && !OTHER_CLASSES.includes(name))
    .map(([name]) => name)
  assert.deepEqual(unclassified, [], 'new exported classes: add them to OPERATION_CLASSES or OTHER_CLASSES')
})

test('the checks catch what they are for', () => {
  assert.equal(exists('Monitor.record'), true)
  assert.equal(exists('Monitor.precision'), true)
  assert.equal(exists('Baseline.load'), true)
  assert.equal(exists('compare'), true)
  assert.equal(exists('Monitor.recordd'), false)
  assert.equal(exists('Monitor._flush'), false)
  assert.equal(exists('Monitor.constructor'), false)
  assert.equal(exists('Nope.record'), false)
  assert.throws(() => cellNames('', 'row'), /empty Node.js cell/)
  assert.throws(() => cellNames('—', 'row'), /without a reason/)
  assert.throws(() => cellNames('— ', 'row'), /without a reason/)
  assert.throws(() => cellNames('`Monitor.record`, Monitor.stats', 'row'), /not a backticked name/)
  assert.deepEqual(cellNames('`Monitor(clock)`, `Monitor.now`', 'row'), ['Monitor', 'Monitor.now'])
  assert.equal(cellNames('— a reason', 'row'), null)
})
