/**
 * Recording handles. The hot path stays in JavaScript: a histogram keeps a
 * `Float64Array` of pending values, a counter a pending sum and a gauge its
 * pending change; they reach the native core in one call per batch: when
 * a histogram's batch is full, when the monitor flushes (before every read,
 * and every `flushInterval` ms), or when the handle's own `flush()` is
 * called.
 */
import native = require('./native')
import type { NativeCounter, NativeGauge, NativeHistogram } from '../native'
import { call, checkNumber, describe, invalidType, invalidValue } from './errors'

/** Something with pending records, queued with its monitor. */
export interface Flushable {
  /** Hands the pending records to the native core and leaves the monitor's queue. */
  drain(): void
}

/** What a handle needs from its monitor. */
export interface HandleOwner {
  /** Queues a handle that has pending records, to flush before reads. */
  queue(handle: Flushable): void
  /** The monitor's clock in ms, for timers. */
  clockNow(): number
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
    if (typeof value !== 'number' || !(value >= 0 && value < MAX_VALUE)) return this.reject(value)
    if (!this.queued) {
      this.queued = true
      this.owner.queue(this)
    }
    const n = this.pending
    this.buffer[n] = value
    this.pending = n + 1
    if (n + 1 === this.capacity) this.send()
  }

  /**
   * Starts a timer on the monitor's clock; calling the returned function
   * records the elapsed milliseconds and returns them. Only the first call
   * records; later calls return the same elapsed time.
   */
  startTimer(): () => number {
    const owner = this.owner
    const start = owner.clockNow()
    let elapsed = -1
    return () => {
      if (elapsed < 0) {
        elapsed = Math.max(0, owner.clockNow() - start)
        this.record(elapsed)
      }
      return elapsed
    }
  }

  /** Hands the pending values to the native core now. */
  flush(): void {
    if (this.pending > 0) this.send()
  }

  /** @internal The monitor's flush: the handle leaves its queue. */
  drain(): void {
    this.queued = false
    this.flush()
  }

  /** Values refused so far (NaN, negative, …). */
  rejected(): number {
    return this.native.rejected()
  }

  private send(): void {
    const n = this.pending
    this.pending = 0
    call(() => this.native.recordBatch(this.buffer, n))
  }

  /** Throws the error for a value `record` refused. */
  private reject(value: unknown): never {
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
    if (!(Number.isSafeInteger(n) && n >= 0)) return this.reject(n)
    if (!this.queued) {
      this.queued = true
      this.owner.queue(this)
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
  drain(): void {
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

  private reject(n: unknown): never {
    checkNumber('a counter increment', n)
    throw invalidValue(`a counter increment must be a non-negative safe integer, got ${n}`)
  }
}

/** What a gauge has pending: nothing, a value to set, or a delta to add. */
const enum GaugeOp {
  None,
  Set,
  Add,
}

/**
 * A gauge series: `monitor.gauge(name, tags)`. Like the other handles it
 * buffers: the last `set` (plus any `inc` / `dec` after it), or the sum of
 * the deltas since the last hand-over, reaches the core on the next flush.
 * Integer deltas add up exactly; fractional ones are summed before they are
 * added, which may round differently from adding them one by one.
 */
export class Gauge implements Flushable {
  private op = GaugeOp.None
  private pending = 0
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
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.reject('a gauge value', value, (v) => this.native.set(v))
    this.enqueue()
    this.op = GaugeOp.Set
    this.pending = value
  }

  /** Adds `delta` (default 1; finite, may be negative). */
  inc(delta = 1): void {
    if (typeof delta !== 'number' || !Number.isFinite(delta)) return this.reject('a gauge delta', delta, (d) => this.native.add(d))
    const next = this.pending + delta
    if (!Number.isFinite(next)) {
      // Let the core decide on the overflow, with its own error.
      this.flush()
      call(() => this.native.add(delta))
      return
    }
    this.enqueue()
    if (this.op === GaugeOp.None) this.op = GaugeOp.Add
    this.pending = next
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
    const v = this.pending
    this.op = GaugeOp.None
    this.pending = 0
    call(() => (op === GaugeOp.Set ? this.native.set(v) : this.native.add(v)))
  }

  /** @internal The monitor's flush: the handle leaves its queue. */
  drain(): void {
    this.queued = false
    this.flush()
  }

  private enqueue(): void {
    if (!this.queued) {
      this.queued = true
      this.owner.queue(this)
    }
  }

  /** Throws the error for a refused value: a TypeError, or the core's own. */
  private reject(what: string, value: unknown, write: (v: number) => void): never {
    checkNumber(what, value)
    call(() => write(value as number))
    throw invalidValue(`${what} must be finite, got ${value}`)
  }
}
