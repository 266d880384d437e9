/**
 * Recording handles. The hot path stays in JavaScript: a histogram keeps a
 * `Float64Array` of pending values, a counter a pending sum and a gauge its
 * pending value or deltas; they reach the native core in one call per
 * batch: when a batch is full, when the monitor flushes (before every
 * read, and every `flushInterval` ms), or when the handle's own `flush()`
 * is called. What a handle refuses it hands to the core as it is, so the
 * error is the core's.
 */
import native = require('./native')
import type { NativeCounter, NativeGauge, NativeHistogram } from '../native'
import { call, checkNumber, describe, invalidType, invalidValue } from './errors'

/** Something with pending records, queued with its monitor. */
export interface Flushable {
  /** Hands the pending records to the native core and leaves the monitor's queue. */
  _drain(): void
}

/** What a handle needs from its monitor. */
export interface HandleOwner {
  /** Queues a handle that has pending records, to flush before reads. */
  _queue(handle: Flushable): void
  /** The monitor's clock in ms, for timers. */
  _clockNow(): number
}

/** Values at or above this (2^64, from the core) are out of the histograms' range. */
const MAX_VALUE = native.valueRange().maxExclusive

/** A histogram series: `monitor.histogram(name, tags)`. */
export class Histogram implements Flushable {
  private readonly buffer: Float64Array
  private readonly capacity: number
  private pending = 0
  private queued = false

  /** @internal */
  constructor(
    private readonly owner: HandleOwner,
    private readonly native: NativeHistogram,
    /** The metric name. */
    readonly name: string,
    /** The tags of the series. */
    readonly tags: Readonly<Record<string, string>>,
    batchSize: number,
  ) {
    this.buffer = new Float64Array(batchSize)
    this.capacity = batchSize
  }

  /**
   * Records one value: finite, non-negative, below 2^64, in the metric's
   * unit (ms, bytes, …). A non-number is a `TypeError`; NaN, ±∞, negatives
   * and values too large are a `RangeError` (`ERR_PERF_INVALID_VALUE`) and
   * count in the series' `rejected` statistic.
   */
  record(value: number): void {
    if (typeof value !== 'number' || !(value >= 0 && value < MAX_VALUE)) return this._reject(value)
    if (!this.queued) {
      this.queued = true
      this.owner._queue(this)
    }
    const n = this.pending
    this.buffer[n] = value
    this.pending = n + 1
    if (n + 1 === this.capacity) this._send()
  }

  /**
   * Starts a timer on the monitor's clock; calling the returned function
   * records the elapsed milliseconds and returns them. Only the first call
   * records; later calls return the same elapsed time.
   */
  startTimer(): () => number {
    const owner = this.owner
    const start = owner._clockNow()
    let elapsed = -1
    return () => {
      if (elapsed < 0) {
        elapsed = Math.max(0, owner._clockNow() - start)
        this.record(elapsed)
      }
      return elapsed
    }
  }

  /**
   * Records `value` `n` times at once (pre-aggregated data such as a bucket
   * of another histogram): as `n` calls of `record`, statistics included.
   * `n` is a non-negative safe integer; a refused value counts `n` times in
   * `rejected`.
   */
  recordN(value: number, n: number): void {
    checkNumber('value', value)
    checkNumber('n', n)
    call(() => this.native.recordN(value, n))
  }

  /**
   * Records every value of an array or `Float64Array` in one native call:
   * the valid ones are recorded, each refused one counts in `rejected`, and
   * the first refusal is thrown (a `RangeError`).
   */
  recordMany(values: readonly number[] | Float64Array): void {
    if (values instanceof Float64Array) {
      call(() => this.native.recordBatch(values, values.length))
    } else if (Array.isArray(values)) {
      for (const value of values) {
        if (typeof value !== 'number') throw invalidType(`a histogram value must be a number, got ${describe(value)}`)
      }
      call(() => this.native.recordMany(values as number[]))
    } else {
      throw invalidType(`values must be an array or a Float64Array, got ${describe(values)}`)
    }
  }

  /** Hands the pending values to the native core now. */
  flush(): void {
    if (this.pending > 0) this._send()
  }

  /** @internal The monitor's flush: the handle leaves its queue. */
  _drain(): void {
    this.queued = false
    this.flush()
  }

  /** Values refused so far (NaN, negative, …). */
  rejected(): number {
    return this.native.rejected()
  }

  private _send(): void {
    const n = this.pending
    this.pending = 0
    call(() => this.native.recordBatch(this.buffer, n))
  }

  /** Throws the error for a value `record` refused. */
  private _reject(value: unknown): never {
    if (typeof value !== 'number') {
      throw invalidType(`a histogram value must be a number, got ${describe(value)}`)
    }
    // The native core counts the refusal and gives the exact reason.
    call(() => this.native.record(value))
    throw invalidValue(`invalid value ${value}`)
  }
}

/** A counter series: `monitor.counter(name, tags)`. */
export class Counter implements Flushable {
  private pending = 0
  private queued = false

  /** @internal */
  constructor(
    private readonly owner: HandleOwner,
    private readonly native: NativeCounter,
    /** The metric name. */
    readonly name: string,
    /** The tags of the series. */
    readonly tags: Readonly<Record<string, string>>,
  ) {}

  /** Adds `n` (a non-negative safe integer, default 1). */
  inc(n = 1): void {
    // Anything else goes to the core as it is, which refuses it.
    if (!(Number.isSafeInteger(n) && n >= 0)) return this._incrementNow(n)
    if (!this.queued) {
      this.queued = true
      this.owner._queue(this)
    }
    const sum = this.pending + n
    if (sum > Number.MAX_SAFE_INTEGER) {
      this.flush()
      this.pending = n
    } else {
      this.pending = sum
    }
  }

  /** The count so far, including pending increments. */
  value(): number {
    this.flush()
    return this.native.value()
  }

  /** @internal The monitor's flush: the handle leaves its queue. */
  _drain(): void {
    this.queued = false
    this.flush()
  }

  /** Hands the pending increments to the native core now. */
  flush(): void {
    const n = this.pending
    if (n > 0) {
      this.pending = 0
      call(() => this.native.increment(n))
    }
  }

  /** Hands `n` to the core at once, for its check: a `TypeError` or the core's `RangeError`. */
  private _incrementNow(n: unknown): void {
    checkNumber('a counter increment', n)
    call(() => this.native.increment(n as number))
  }
}

/** What a gauge has pending: nothing, a value to set, or deltas to add. */
const enum GaugeOp {
  None,
  Set,
  Add,
}

/** Runs of equal deltas a gauge buffers before one native call. */
const GAUGE_BATCH = 64

/**
 * A gauge series: `monitor.gauge(name, tags)`. Like the other handles it
 * buffers, and what it hands over gives exactly the value the core's own
 * sequence of `set` and `add` calls gives: after a `set`, the value with
 * each later `inc` / `dec` added in turn (the same IEEE 754 additions the
 * core makes), set on the next flush; otherwise the deltas themselves, in
 * order, as runs of equal deltas (`inc()` a thousand times is one run of
 * a thousand), which the core applies with `Gauge::add_n`: each delta
 * added in turn, never their sum (which may round differently).
 */
export class Gauge implements Flushable {
  private op = GaugeOp.None
  /** Set: the value to set. Add: the value the deltas lead to (for the overflow check). */
  private expected = 0
  /** Add: the delta of each finished run, and how many times it repeats. */
  private deltas: Float64Array | undefined
  private repeats: Float64Array | undefined
  /** Add: how many runs are finished. */
  private runs = 0
  /** Add: the current run, `runLength` times `runDelta` (none when 0). */
  private runDelta = 0
  private runLength = 0
  private queued = false

  /** @internal */
  constructor(
    private readonly owner: HandleOwner,
    private readonly native: NativeGauge,
    /** The metric name. */
    readonly name: string,
    /** The tags of the series. */
    readonly tags: Readonly<Record<string, string>>,
  ) {}

  /** Sets the value (finite; may be negative). */
  set(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this._now('a gauge value', value, (v) => this.native.set(v))
    this._enqueue()
    this.op = GaugeOp.Set
    this.expected = value
    this.runs = 0
    this.runLength = 0
  }

  /** Adds `delta` (default 1; finite, may be negative). */
  inc(delta = 1): void {
    if (typeof delta !== 'number' || !Number.isFinite(delta)) return this._now('a gauge delta', delta, (d) => this.native.add(d))
    if (this.op === GaugeOp.None) {
      this._enqueue()
      this.op = GaugeOp.Add
      this.expected = this.native.value()
    }
    const next = this.expected + delta
    if (!Number.isFinite(next)) {
      // The core refuses an add that overflows: hand over what is pending,
      // then the delta itself, for the core's decision and error.
      this.flush()
      call(() => this.native.add(delta))
      return
    }
    this.expected = next
    if (this.op === GaugeOp.Add) this._push(delta)
  }

  /** Subtracts `delta` (default 1). */
  dec(delta = 1): void {
    checkNumber('a gauge delta', delta)
    this.inc(-delta)
  }

  /** The current value, including pending changes. */
  value(): number {
    this.flush()
    return this.native.value()
  }

  /** Hands the pending change to the native core now. */
  flush(): void {
    const op = this.op
    if (op === GaugeOp.None) return
    this.op = GaugeOp.None
    if (op === GaugeOp.Set) {
      const v = this.expected
      call(() => this.native.set(v))
    } else {
      this._sendDeltas()
    }
  }

  /** @internal The monitor's flush: the handle leaves its queue. */
  _drain(): void {
    this.queued = false
    this.flush()
  }

  /** Adds `delta` to the current run if it repeats it, else starts a run. */
  private _push(delta: number): void {
    // Object.is: +0 and -0 are different deltas (-0 + 0 is +0).
    if (this.runLength > 0 && Object.is(this.runDelta, delta)) {
      this.runLength++
      return
    }
    this._finishRun()
    this.runDelta = delta
    this.runLength = 1
  }

  /** Files the current run with the finished ones (sending them when full). */
  private _finishRun(): void {
    if (this.runLength === 0) return
    if (this.runs === GAUGE_BATCH) this._sendRuns()
    const deltas = (this.deltas ??= new Float64Array(GAUGE_BATCH))
    const repeats = (this.repeats ??= new Float64Array(GAUGE_BATCH))
    deltas[this.runs] = this.runDelta
    repeats[this.runs] = this.runLength
    this.runs++
    this.runLength = 0
  }

  private _sendDeltas(): void {
    this._finishRun()
    this._sendRuns()
  }

  private _sendRuns(): void {
    const n = this.runs
    if (n === 0) return
    this.runs = 0
    const deltas = this.deltas as Float64Array
    const repeats = this.repeats as Float64Array
    call(() => this.native.addRuns(deltas, repeats, n))
  }

  private _enqueue(): void {
    if (!this.queued) {
      this.queued = true
      this.owner._queue(this)
    }
  }

  /** Hands a value the handle does not buffer to the core at once: a `TypeError`, or the core's decision. */
  private _now(what: string, value: unknown, write: (v: number) => void): void {
    checkNumber(what, value)
    this.flush()
    call(() => write(value as number))
  }
}
