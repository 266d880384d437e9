/**
 * `Monitor`: the root object. Creates handles, reads statistics, runs rules
 * and budgets, delivers alerts, holds the emergency mode, takes baselines
 * and exports. Every read flushes the handles' pending records first, so
 * nothing read is ever stale.
 */
import { performance } from 'node:perf_hooks'

import native = require('./native')
import type {
  AlertEventObject,
  AlertObject,
  BudgetReportObject,
  EmergencyStatusObject,
  EmergencyTransitionObject,
  MonitorOptions as NativeMonitorOptions,
  MultiprocessStatusObject,
  NativeMonitor,
  PolicyOptions,
  SeriesObject,
  StatsObject,
  WebVitalsRatings,
} from '../native'
import { Baseline, Policy } from './baseline'
import { ManualClock } from './clock'
import { call, checkFunction, checkNumber, checkObject, checkString, describe, invalidType, perfError } from './errors'
import { Counter, Flushable, Gauge, HandleOwner, Histogram } from './handles'
import { HandleCache } from './cache'
import { normalizeTags, Tags } from './tags'

/** Summary statistics: count, sum, min, max, mean, stddev, p50…p999, rejected. */
export type Stats = StatsObject
/** A notification: fired, escalated, de_escalated, recovered, relapsed, resolved, repeated. */
export type AlertEvent = AlertEventObject
/** An active alert. */
export type Alert = AlertObject
/** A budget report. */
export type BudgetReport = BudgetReportObject
/** An emergency-mode transition. */
export type EmergencyTransition = EmergencyTransitionObject
/** The emergency mode and its triggers. */
export type EmergencyStatus = EmergencyStatusObject
/** A series: name, tags and kind. */
export type SeriesInfo = SeriesObject
/** Ratings of Web Vitals: `good`, `needs-improvement` or `poor`. */
export type WebVitalsRatingsResult = WebVitalsRatings
/** The process group of a monitor in multi-process mode (`monitor.multiprocess()`). */
export type MultiprocessStatus = MultiprocessStatusObject
/** How a gauge of the group's live processes combines in the merged view. */
export type GaugeMode = 'sum' | 'max' | 'min' | 'latest' | 'per_process'
const GAUGE_MODES: readonly string[] = ['sum', 'max', 'min', 'latest', 'per_process']

/** Web Vitals as the `web-vitals` package reports them (ms; CLS unitless). */
export interface WebVitals {
  lcp?: number
  inp?: number
  cls?: number
  fcp?: number
  ttfb?: number
  fid?: number
}

/** An alert severity. */
export type Severity = 'info' | 'warning' | 'error' | 'critical'

/**
 * Options of the Prometheus, OpenMetrics and protobuf expositions
 * (`exportPrometheus`, `exportOpenMetrics`, `exportProtobuf`, `export`,
 * `metrics`); all optional. The core checks
 * them (`ExpositionOptions`); errors name the option.
 */
export interface ExpositionOptions {
  /** Labels added to every series (`{ service: 'api' }`). */
  globalLabels?: Record<string, string>
  /** `# HELP` text per metric name. */
  help?: Record<string, string>
  /** Unit per metric name (`{ 'db.query': 'milliseconds' }`). */
  units?: Record<string, string>
  /** Bucket upper bounds per histogram, in place of the default layout. */
  buckets?: Record<string, number[]>
  /** Summary quantiles (0…1) per histogram, in place of buckets. */
  summaries?: Record<string, number[]>
  /** Bucket upper bounds of every other histogram. */
  defaultBuckets?: number[]
  /** Summary quantiles of every other histogram. */
  defaultSummary?: number[]
}

/** Where a callback that threw was registered. */
export type CallbackSource = 'onAlert' | 'emergency.onChange'

/** Settings of a monitor; all optional. */
export interface MonitorOptions {
  /** Histogram precision in bits, 2-10 (default 7: percentiles within 0.39 %). */
  precision?: number
  /** Most distinct metric names (default 10 000). */
  maxMetrics?: number
  /** Most tag sets per metric before new ones fold into the overflow series (default 1 000). */
  maxSeriesPerMetric?: number
  /** Length of the intervals sliding windows are made of, in ms (default 1 000). */
  windowInterval?: number
  /** Longest window that can be asked for, in ms (default 300 000). */
  windowRetention?: number
  /** Whether to keep sliding-window history (default true). */
  windows?: boolean
  /** Notifications and emergency transitions kept in history (default 1 000). */
  alertHistory?: number
  /**
   * Notifications that may wait for callbacks (default 10 000, 1 to
   * 10 000 000); past it new ones are dropped and counted
   * (`notificationsDropped()`), never waited for.
   */
  notificationCapacity?: number
  /** The clock (default: the system clock). */
  clock?: ManualClock
  /** Values a histogram handle buffers before one native call (default 1 024). */
  batchSize?: number
  /**
   * How often pending records are handed to the core even without a read,
   * in ms (default: the window interval; 0: only on reads and full batches).
   * The timer is unref'd: it never keeps the process alive.
   */
  flushInterval?: number
  /**
   * Called when an `onAlert` or `emergency.onChange` callback throws (or its
   * promise rejects). Default: `process.emitWarning`. Either way the engine
   * and the other callbacks go on.
   */
  onCallbackError?: (error: unknown, source: CallbackSource) => void
  /**
   * Multi-process mode (Node `cluster`, PM2, several instances on a host):
   * the process group's shared directory. Each process publishes its state
   * there and every read and export shows the whole group. Without it, the
   * environment variable `PERF_CORE_MULTIPROC_DIR` does the same. See
   * docs/multiprocess.md.
   */
  multiprocessDir?: string
  /** How often this process publishes its state to the group, in ms (default 1 000). */
  publishInterval?: number
  /** How gauges combine across the group's live processes (default `sum`). */
  defaultGaugeMode?: GaugeMode
  /** Gauge modes per metric name. */
  gaugeModes?: Record<string, GaugeMode>
  /**
   * How long to wait before repeating a notification of a still-active
   * alert, per severity, in ms (defaults: critical 5 min, error 15 min,
   * warning 1 h, info 4 h); rules can override it.
   */
  repeatIntervals?: Partial<Record<Severity, number>>
}

/** How HdrHistogram strings scale values: `{ scale: 1000, significantDigits: 3 }` by default. */
export interface HdrOptions {
  /** Integers per unit of the series (default 1000: microseconds for milliseconds). */
  scale?: number
  /** Significant decimal digits kept, 1-5 (default 3). */
  significantDigits?: number
}

/** The text formats of `export()` (and of `metrics()`, which returns them as strings). */
export type ExportFormat = 'prometheus' | 'openmetrics' | 'json' | 'csv'

/**
 * The formats of `metrics()`: the text formats, and `protobuf`, the
 * Prometheus protobuf exposition with native histograms, which is binary
 * (a `Buffer`; `exportProtobuf()` synchronously).
 */
export type MetricsFormat = ExportFormat | 'protobuf'

/** The Content-Type of each format of `metrics()`, from the core. */
export const CONTENT_TYPES: Readonly<Record<MetricsFormat, string>> = Object.freeze(
  Object.fromEntries(native.exportFormats().map((f) => [f.name, f.contentType])) as Record<MetricsFormat, string>,
)

/**
 * Flushes `monitor` when the process exits normally, so the core's exit
 * hook publishes every record (a weak reference: it never keeps the
 * monitor alive).
 */
function flushOnExit(monitor: Monitor): void {
  const ref = new WeakRef(monitor)
  process.once('exit', () => ref.deref()?.flush())
}

/** Handle caches hold at most this many entries; then they start over. */
const CACHE_LIMIT = 10_000
/** The Web Vitals' short names, from the core (`lcp`, `inp`, …). */
const WEB_VITALS_NAMES: readonly string[] = native.NativeMonitor.webVitalsNames()

/** A rule (see docs/rules.md for every field). */
export type Rule = Record<string, unknown>
/** A budget (see docs/rules.md), or `'web_vitals'` for Google's thresholds. */
export type BudgetSpec = Record<string, unknown> | 'web_vitals'
/** An emergency configuration (see docs/emergency.md). */
export type EmergencyConfig = Record<string, unknown>

/** A whole number in range, or a `TypeError` / `RangeError`. */
function checkCount(what: string, value: unknown, min: number): number {
  const n = checkNumber(what, value)
  if (!Number.isInteger(n) || n < min || n > 0xffff_ffff) {
    throw perfError('ERR_PERF_INVALID_CONFIG', `${what} must be an integer from ${min} to 4294967295, got ${n}`)
  }
  return n
}

/** The native options of `options`, type-checked. */
function nativeOptions(options: MonitorOptions): NativeMonitorOptions {
  const out: NativeMonitorOptions = {}
  if (options.precision !== undefined) out.precision = checkCount('precision', options.precision, 0)
  if (options.maxMetrics !== undefined) out.maxMetrics = checkCount('maxMetrics', options.maxMetrics, 0)
  if (options.maxSeriesPerMetric !== undefined) {
    out.maxSeriesPerMetric = checkCount('maxSeriesPerMetric', options.maxSeriesPerMetric, 0)
  }
  if (options.windowInterval !== undefined) out.windowInterval = checkNumber('windowInterval', options.windowInterval)
  if (options.windowRetention !== undefined) out.windowRetention = checkNumber('windowRetention', options.windowRetention)
  if (options.windows !== undefined) {
    if (typeof options.windows !== 'boolean') throw invalidType(`windows must be a boolean, got ${describe(options.windows)}`)
    out.windows = options.windows
  }
  if (options.alertHistory !== undefined) out.alertHistory = checkCount('alertHistory', options.alertHistory, 0)
  if (options.notificationCapacity !== undefined) {
    out.notificationCapacity = checkCount('notificationCapacity', options.notificationCapacity, 1)
  }
  if (options.multiprocessDir !== undefined) out.multiprocessDir = checkString('multiprocessDir', options.multiprocessDir)
  if (options.publishInterval !== undefined) out.publishInterval = checkNumber('publishInterval', options.publishInterval)
  if (options.defaultGaugeMode !== undefined) out.defaultGaugeMode = checkGaugeMode('defaultGaugeMode', options.defaultGaugeMode)
  if (options.gaugeModes !== undefined) {
    const modes: Record<string, string> = {}
    for (const [name, mode] of Object.entries(checkObject('gaugeModes', options.gaugeModes))) {
      modes[name] = checkGaugeMode(`gaugeModes.${name}`, mode)
    }
    out.gaugeModes = modes
  }
  if (options.repeatIntervals !== undefined) {
    out.repeatIntervals = checkObject('repeatIntervals', options.repeatIntervals) as Record<string, number>
  }
  return out
}

/**
 * Exposition options as the core reads them (`ExpositionOptions` as JSON):
 * the camelCase keys become the core's snake_case names; the core checks
 * everything else and names the option in its errors.
 */
function expositionJson(options: ExpositionOptions | undefined): string | undefined {
  if (options === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(checkObject('options', options))) {
    if (key.includes('_')) {
      throw perfError('ERR_PERF_INVALID_CONFIG', `unknown exposition option ${describe(key)}: options are camelCase`)
    }
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value
  }
  return JSON.stringify(out)
}

/** The error of `export('protobuf')`: the synchronous export is text. */
function protobufIsBinary(): Error {
  return perfError(
    'ERR_PERF_INVALID_CONFIG',
    "unknown export format \"protobuf\": export() is text; protobuf is binary: use exportProtobuf() or metrics('protobuf')",
  )
}

/** A rules-document item (a rule, a budget, an emergency section) as JSON text. */
function itemJson(what: string, item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(checkObject(what, item))
}

/** A gauge mode name, or a `TypeError`. */
function checkGaugeMode(what: string, value: unknown): string {
  if (typeof value !== 'string' || !GAUGE_MODES.includes(value)) {
    throw invalidType(`${what} must be one of ${GAUGE_MODES.join(', ')}, got ${describe(value)}`)
  }
  return value
}

/** The emergency mode of a monitor: `monitor.emergency`. */
export class Emergency {
  /** One byte the native core keeps at 1 while the mode is on. */
  private readonly flag: Uint8Array

  /** @internal */
  constructor(private readonly monitor: Monitor) {
    this.flag = monitor.native.emergencyFlag()
  }

  /** Whether the mode is on: one memory read, cheap enough for every request. */
  isActive(): boolean {
    return this.flag[0] === 1
  }

  /** Turns the mode on by hand until `deactivate`; returns whether anything changed. */
  activate(reason: string): boolean {
    checkString('reason', reason)
    return call(() => this.monitor.native.emergencyActivate(reason))
  }

  /** Turns the mode off by hand; returns whether it was on. */
  deactivate(reason: string): boolean {
    checkString('reason', reason)
    return call(() => this.monitor.native.emergencyDeactivate(reason))
  }

  /** The latest transitions, oldest first. */
  history(): EmergencyTransition[] {
    return this.monitor.native.emergencyHistory()
  }

  /** The mode and each trigger, now. */
  status(): EmergencyStatus {
    this.monitor.flush()
    return this.monitor.native.emergencyStatus()
  }

  /**
   * Replaces the configuration: `config` is the `emergency` section of a
   * rules document (triggers, clear_for, min_dwell, …), as an object or
   * JSON text. Errors name the field (`triggers[0].threshold`).
   */
  configure(config: EmergencyConfig | string): void {
    const json = itemJson('emergency configuration', config)
    call(() => this.monitor.native.emergencyConfigure(json))
  }

  /** The configuration in effect, as the `emergency` section of a rules document (`{}`: the default). */
  config(): EmergencyConfig {
    return JSON.parse(this.monitor.native.emergencyConfig()) as EmergencyConfig
  }

  /**
   * Calls `callback` with every transition, on the JavaScript thread, soon
   * after it happens. Returns a function that unsubscribes. A callback that
   * throws is reported (see `onCallbackError`) and does not affect others.
   */
  onChange(callback: (transition: EmergencyTransition) => void): () => void {
    checkFunction('callback', callback)
    const guarded = this.monitor._guard(callback, 'emergency.onChange')
    const id = call(() => this.monitor.native.onEmergency(guarded))
    return () => {
      this.monitor.native.offEmergency(id)
    }
  }

  /**
   * Resolves once every transition made so far has reached the listeners
   * (the monitor's `flushNotifications`: one queue carries both).
   */
  flushNotifications(timeoutMs = 5000): Promise<boolean> {
    return this.monitor.flushNotifications(timeoutMs)
  }
}

/** The root object: `new Monitor(options)`. */
export class Monitor implements HandleOwner {
  /** @internal */
  readonly native: NativeMonitor
  private readonly emergencyMode: Emergency
  private readonly histograms = new HandleCache<Histogram>(CACHE_LIMIT)
  private readonly counters = new HandleCache<Counter>(CACHE_LIMIT)
  private readonly gauges = new HandleCache<Gauge>(CACHE_LIMIT)
  private readonly dirty: Flushable[] = []
  private readonly batchSize: number
  private readonly clock: ManualClock | undefined
  private readonly onCallbackError: (error: unknown, source: CallbackSource) => void
  private flushTimer: NodeJS.Timeout | undefined
  private callbackErrorCount = 0

  constructor(options: MonitorOptions = {}) {
    checkObject('options', options)
    if (options.clock !== undefined && !(options.clock instanceof ManualClock)) {
      throw invalidType(`clock must be a ManualClock, got ${describe(options.clock)}`)
    }
    this.clock = options.clock
    this.batchSize = options.batchSize === undefined ? 1024 : checkCount('batchSize', options.batchSize, 1)
    this.onCallbackError = options.onCallbackError === undefined
      ? defaultCallbackErrorHandler
      : checkFunction('onCallbackError', options.onCallbackError)
    const settings = nativeOptions(options)
    this.native = call(() => new native.NativeMonitor(settings, this.clock?.native))
    const multiprocess = this.native.multiprocess() !== null
    // In multi-process mode pending records must reach the core before it
    // publishes: flush twice per publish interval.
    const flushInterval = options.flushInterval !== undefined
      ? checkNumber('flushInterval', options.flushInterval)
      : multiprocess
        ? Math.min(options.windowInterval ?? 1000, options.publishInterval ?? 1000) / 2
        : (options.windowInterval ?? 1000)
    this.emergencyMode = new Emergency(this)
    this.clock?._attach(this)
    if (flushInterval > 0 && this.clock === undefined) this._startFlushTimer(flushInterval)
    if (multiprocess) flushOnExit(this)
  }

  /** The emergency mode. */
  get emergency(): Emergency {
    return this.emergencyMode
  }

  // ---- recording ----------------------------------------------------------

  /** The histogram series `name{tags}` (created on first use; the same handle each time). */
  histogram(name: string, tags?: Tags): Histogram {
    return this.histograms.get(name, tags) ?? this._createHistogram(name, tags)
  }

  /** Records `value` into `name{tags}` without keeping a handle. */
  record(name: string, value: number, tags?: Tags): void {
    const h = this.histograms.get(name, tags) ?? this._createHistogram(name, tags)
    h.record(value)
  }

  /** The counter series `name{tags}`. */
  counter(name: string, tags?: Tags): Counter {
    let c = this.counters.get(name, tags)
    if (c === undefined) {
      checkString('name', name)
      const normalized = normalizeTags(tags)
      const handle = call(() => this.native.counter(name, normalized))
      c = new Counter(this, handle, name, Object.freeze({ ...normalized }))
      this._remember(this.counters, name, tags, c)
    }
    return c
  }

  /** The gauge series `name{tags}`. */
  gauge(name: string, tags?: Tags): Gauge {
    let g = this.gauges.get(name, tags)
    if (g === undefined) {
      checkString('name', name)
      const normalized = normalizeTags(tags)
      const handle = call(() => this.native.gauge(name, normalized))
      g = new Gauge(this, handle, name, Object.freeze({ ...normalized }))
      this._remember(this.gauges, name, tags, g)
    }
    return g
  }

  /**
   * Records Web Vitals (ms; CLS unitless) into `web_vitals.lcp`, … with
   * `tags`, and returns each one's rating under Google's thresholds (a value
   * on a boundary gets the better rating). All or nothing: the core checks
   * every value before it records any, and counts a refused one as
   * rejected. Pending records are handed over first, so the vitals land
   * after everything recorded before.
   */
  recordWebVitals(vitals: WebVitals, tags?: Tags): WebVitalsRatingsResult {
    const object = checkWebVitals(vitals)
    const normalized = normalizeTags(tags)
    this.flush()
    return call(() => this.native.recordWebVitals(object, normalized))
  }

  /** The ratings of Web Vitals under Google's thresholds, recording nothing. */
  static rateWebVitals(vitals: WebVitals): WebVitalsRatingsResult {
    const object = checkWebVitals(vitals)
    return call(() => native.NativeMonitor.rateWebVitals(object))
  }

  // ---- reading ------------------------------------------------------------

  /** Hands every pending record to the native core. Reads do this themselves. */
  flush(): void {
    const dirty = this.dirty
    let error: unknown
    for (let i = 0; i < dirty.length; i++) {
      try {
        dirty[i]._drain()
      } catch (e) {
        error ??= e
      }
    }
    dirty.length = 0
    if (error !== undefined) throw error
  }

  /** Cumulative statistics of the histogram `name{tags}`. */
  stats(name: string, tags?: Tags): Stats {
    return this._read(name, tags, (n, t) => this.native.stats(n, t))
  }

  /** Statistics of the values recorded into `name{tags}` over the last `windowMs` ms. */
  windowStats(name: string, tags: Tags | undefined, windowMs: number): Stats {
    checkNumber('windowMs', windowMs)
    return this._read(name, tags, (n, t) => this.native.windowStats(n, t, windowMs))
  }

  /** Any percentile `q` in [0, 100] of `name{tags}`, cumulative or over the last `windowMs` ms. */
  percentile(name: string, q: number, tags?: Tags, windowMs?: number): number {
    checkNumber('q', q)
    if (windowMs !== undefined) checkNumber('windowMs', windowMs)
    return this._read(name, tags, (n, t) => this.native.percentile(n, t, q, windowMs))
  }

  /** The rate per second of the counter `name{tags}` over the last `windowMs` ms. */
  counterRate(name: string, tags: Tags | undefined, windowMs: number): number {
    checkNumber('windowMs', windowMs)
    return this._read(name, tags, (n, t) => this.native.counterRate(n, t, windowMs))
  }

  /** Every series, sorted by name and tags. */
  series(): SeriesInfo[] {
    this.flush()
    return this.native.series()
  }

  /** The monitor's clock, in ms since the epoch. */
  now(): number {
    return this.native.now()
  }

  /** The histogram precision in bits (the `precision` option, or the default 7). */
  get precision(): number {
    return this.native.precision
  }

  /** The window interval in ms (the `windowInterval` option), or null without windows. */
  get windowInterval(): number | null {
    return this.native.windowInterval ?? null
  }

  /**
   * Files everything recorded so far (pending records included) under the
   * current window interval. The real clock and `ManualClock` do this
   * themselves; call it only with windows read right after recording on a
   * clock that does neither.
   */
  tick(): void {
    this.flush()
    this.native.tick()
  }

  // ---- rules, budgets, alerts --------------------------------------------

  /**
   * Adds the rules and budgets of a rules document (JSON text or an object),
   * all or none, and applies its `emergency` section. Returns how many rules
   * and budgets were added. Errors name the offending field (`rules[2].for`).
   */
  loadRules(document: string | Record<string, unknown>): number {
    const json = typeof document === 'string' ? document : JSON.stringify(checkObject('rules document', document))
    return call(() => this.native.loadRules(json))
  }

  /** `loadRules` with the contents of the file `path` (unreadable: `ERR_PERF_INVALID_RULES_JSON`). */
  loadRulesFile(path: string): number {
    checkString('path', path)
    return call(() => this.native.loadRulesFile(path))
  }

  /**
   * Adds one rule, written as an entry of a rules document's `rules` (an
   * object, or its JSON text). Errors (`ERR_PERF_INVALID_RULE`) name the
   * rule and the field as the entry spells it (`for`, `levels[1].clear`).
   */
  addRule(rule: Rule | string): void {
    const json = itemJson('rule', rule)
    call(() => this.native.addRule(json))
  }

  /**
   * Adds one budget, written as an entry of a rules document's `budgets`
   * (an object or its JSON text), or `'web_vitals'` for Google's
   * thresholds; with `alerts`, the rules that raise them too.
   */
  addBudget(budget: BudgetSpec): void {
    const json = budget === 'web_vitals'
      ? JSON.stringify({ name: 'web_vitals', preset: 'web_vitals' })
      : JSON.stringify(checkObject('budget', budget))
    call(() => this.native.addBudget(json))
  }

  /** Removes a rule; returns whether it existed. */
  removeRule(name: string): boolean {
    return this.native.removeRule(checkString('name', name))
  }

  /** Removes a budget; returns whether it existed. */
  removeBudget(name: string): boolean {
    return this.native.removeBudget(checkString('name', name))
  }

  /**
   * The rules in the order they were added, each as a rules document's
   * entry: those that budgets with `alerts` generate included.
   */
  rules(): Rule[] {
    return this.native.rules().map((json) => JSON.parse(json) as Rule)
  }

  /** The budgets in the order they were added, each as a rules document's entry. */
  budgets(): Record<string, unknown>[] {
    return this.native.budgets().map((json) => JSON.parse(json) as Record<string, unknown>)
  }

  /**
   * The regression policy of the last rules document loaded with a
   * `regression` section (else the default), every setting given: what
   * `compare(baseline, current, policy)` takes.
   */
  regressionPolicy(): Required<Policy> {
    return this.native.regressionPolicy() as Required<PolicyOptions>
  }

  /** The rules, budgets and emergency configuration as one JSON document. */
  rulesJson(): string {
    return this.native.rulesJson()
  }

  /** Every budget rated now: value, limit, rating and headroom per metric. */
  budgetReport(): BudgetReport {
    this.flush()
    return this.native.budgetReport()
  }

  /**
   * Evaluates every rule at the clock's now; returns the notifications it
   * produced. `onAlert` callbacks get them too, asynchronously.
   */
  evaluate(): AlertEvent[] {
    this.flush()
    return this.native.evaluate()
  }

  /**
   * Starts evaluating in the background every `intervalMs` ms (default
   * 1 000), on a native thread. Values recorded in JavaScript reach it
   * within `flushInterval`. The thread never keeps the process alive.
   */
  start(intervalMs = 1000): void {
    checkNumber('intervalMs', intervalMs)
    this.flush()
    call(() => this.native.start(intervalMs))
  }

  /** Stops the background evaluator. */
  stop(): void {
    this.native.stop()
  }

  /** Whether the background evaluator runs. */
  isEvaluating(): boolean {
    return this.native.isEvaluating()
  }

  /**
   * Calls `callback` with every notification, on the JavaScript thread,
   * soon after it happens. Returns a function that unsubscribes. A callback
   * that throws (or whose promise rejects) is reported through
   * `onCallbackError` and does not affect the engine or other callbacks.
   */
  onAlert(callback: (event: AlertEvent) => unknown): () => void {
    checkFunction('callback', callback)
    const id = call(() => this.native.onAlert(this._guard(callback, 'onAlert')))
    return () => {
      this.native.offAlert(id)
    }
  }

  /**
   * Resolves once every notification made so far (alert events and
   * emergency transitions) has reached its callbacks, with whether all did
   * within `timeoutMs` (default 5 000). Evaluation never waits for
   * callbacks; tests await this between `evaluate()` and their checks.
   */
  async flushNotifications(timeoutMs = 5000): Promise<boolean> {
    checkNumber('timeoutMs', timeoutMs)
    const handedOver = this.native.flushNotifications(timeoutMs)
    // The callbacks run from the event loop's queue: let it drain.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    return handedOver
  }

  /** Notifications dropped because callbacks fell `notificationCapacity` behind. */
  notificationsDropped(): number {
    return this.native.notificationsDropped()
  }

  /** The active alerts. */
  alerts(): Alert[] {
    return this.native.alerts()
  }

  /** The latest notifications, oldest first. */
  alertHistory(): AlertEvent[] {
    return this.native.alertHistory()
  }

  /** Acknowledges an active alert: its repeats stop until it resolves. */
  acknowledge(id: number): void {
    checkNumber('id', id)
    call(() => this.native.acknowledge(id))
  }

  /** How many callbacks threw so far. */
  callbackErrors(): number {
    return this.callbackErrorCount
  }

  // ---- regression ---------------------------------------------------------

  /** A baseline of every histogram as recorded so far, for `version`. */
  baseline(version: string): Baseline {
    checkString('version', version)
    this.flush()
    return new Baseline(this.native.baseline(version))
  }

  // ---- exports ------------------------------------------------------------

  /** Prometheus text exposition (0.0.4) of every series, now, with `options`. */
  exportPrometheus(options?: ExpositionOptions): string {
    return this.export('prometheus', options)
  }

  /** OpenMetrics text of every series, now, with `options`. */
  exportOpenMetrics(options?: ExpositionOptions): string {
    return this.export('openmetrics', options)
  }

  /** perf-core's JSON export of every series, now. */
  exportJson(): string {
    return this.export('json')
  }

  /** CSV of every series, now. */
  exportCsv(): string {
    return this.export('csv')
  }

  /**
   * The Prometheus protobuf exposition of every series, now, with
   * `options`: length-delimited `io.prometheus.client.MetricFamily`
   * messages, histograms with both their classic buckets and their native
   * histogram. Serve it with `CONTENT_TYPES.protobuf`.
   */
  exportProtobuf(options?: ExpositionOptions): Buffer {
    const json = expositionJson(options)
    this.flush()
    return call(() => this.native.exportProtobufSync(json))
  }

  /**
   * The export in `format`, computed now on this thread; `options` apply
   * to the `prometheus` and `openmetrics` formats. Text only: `protobuf`
   * is an `ERR_PERF_INVALID_CONFIG` (use `exportProtobuf()`).
   */
  export(format: ExportFormat, options?: ExpositionOptions): string {
    checkString('format', format)
    if ((format as string) === 'protobuf') throw protobufIsBinary()
    const json = expositionJson(options)
    this.flush()
    return call(() => this.native.exportSync(format, json))
  }

  /**
   * The export in `format` (default Prometheus text) with `options`
   * (Prometheus, OpenMetrics and protobuf), computed off the main thread;
   * pending records are flushed first, synchronously. Serve it with
   * `CONTENT_TYPES[format]`. A string, except for `protobuf`: a `Buffer`.
   */
  metrics(format: 'protobuf', options?: ExpositionOptions): Promise<Buffer>
  metrics(format?: ExportFormat, options?: ExpositionOptions): Promise<string>
  metrics(format: MetricsFormat, options?: ExpositionOptions): Promise<string | Buffer>
  metrics(format: MetricsFormat = 'prometheus', options?: ExpositionOptions): Promise<string | Buffer> {
    try {
      checkString('format', format)
      const json = expositionJson(options)
      this.flush()
      if (format === 'protobuf') return call(() => this.native.exportProtobufAsync(json))
      return call(() => this.native.exportAsync(format, json))
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /**
   * The histogram `name{tags}` as an HdrHistogram V2 string (base64 of the
   * compressed encoding, `HISTF…`): integers are thousandths of the unit by
   * default (`scale`), so microseconds for milliseconds. Other processes
   * merge it exactly with `importHdr`; HdrHistogram's own implementations
   * decode it.
   */
  exportHdr(name: string, tags?: Tags, options?: HdrOptions): string {
    if (options !== undefined) checkObject('options', options)
    return this._read(name, tags, (n, t) => this.native.exportHdr(n, t, options))
  }

  /**
   * Merges an HdrHistogram V2 string (from `exportHdr` or any HdrHistogram
   * implementation) into the histogram `name{tags}`, created if needed.
   * All or nothing: a string that does not decode records nothing.
   */
  importHdr(name: string, encoded: string, tags?: Tags, options?: HdrOptions): void {
    checkString('name', name)
    checkString('encoded', encoded)
    if (options !== undefined) checkObject('options', options)
    const normalized = normalizeTags(tags)
    this.flush()
    call(() => this.native.importHdr(name, normalized, encoded, options))
  }

  // ---- multi-process mode --------------------------------------------------

  /**
   * Publishes this process's state (pending records included) to the group
   * now. The core publishes every `publishInterval` and at exit by itself;
   * call this after recording what the other processes must see at once.
   */
  publish(): void {
    this.flush()
    call(() => this.native.publish())
  }

  /** Moves dead processes' files into the group's archive now; returns how many it archived. */
  compactMultiprocess(): number {
    return call(() => this.native.compactMultiprocess())
  }

  /** The process group as this process sees it, or null outside multi-process mode. */
  multiprocess(): MultiprocessStatus | null {
    this.flush()
    return this.native.multiprocess()
  }

  /**
   * This monitor seen from this process alone: in multi-process mode, reads
   * and exports of the returned monitor leave out the other processes.
   * It shares this monitor's handles and its emergency mode (the group's).
   */
  local(): Monitor {
    const view = Object.create(Monitor.prototype) as Monitor
    Object.assign(view, this, { native: this.native.local(), flushTimer: undefined })
    return view
  }

  /** Stops the background evaluator and the flush timer, and flushes. */
  close(): void {
    this.stop()
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer)
    this.flushTimer = undefined
    this.flush()
  }

  // ---- internals ----------------------------------------------------------

  /** @internal Queues a handle with pending records. */
  _queue(handle: Flushable): void {
    this.dirty.push(handle)
  }

  /** @internal The clock in ms, for timers. */
  _clockNow(): number {
    return this.clock === undefined ? performance.now() : this.clock.now()
  }

  /** @internal `callback`, made unable to throw into the engine. */
  _guard<T>(callback: (value: T) => unknown, source: CallbackSource): (value: T) => void {
    return (value: T) => {
      try {
        const result = callback(value)
        if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
          ;(result as Promise<unknown>).then(undefined, (e: unknown) => this._callbackFailed(e, source))
        }
      } catch (e) {
        this._callbackFailed(e, source)
      }
    }
  }

  private _callbackFailed(error: unknown, source: CallbackSource): void {
    this.callbackErrorCount++
    try {
      this.onCallbackError(error, source)
    } catch {
      // An error handler that throws is ignored: nothing may reach the engine.
    }
  }

  private _createHistogram(name: string, tags: Tags | undefined): Histogram {
    checkString('name', name)
    const normalized = normalizeTags(tags)
    const handle = call(() => this.native.histogram(name, normalized))
    const h = new Histogram(this, handle, name, Object.freeze({ ...normalized }), this.batchSize)
    this._remember(this.histograms, name, tags, h)
    return h
  }

  /** Caches a new handle (validated: its tags are well-typed). */
  private _remember<H>(cache: HandleCache<H>, name: string, tags: Tags | undefined, handle: H): void {
    // A full cache starts over; the handles dropped from it hand over
    // their pending records now, so none lingers in the queue.
    if (!cache.set(name, tags, handle)) this.flush()
  }

  private _read<T>(name: string, tags: Tags | undefined, f: (name: string, tags: Record<string, string> | undefined) => T): T {
    checkString('name', name)
    const normalized = normalizeTags(tags)
    this.flush()
    return call(() => f(name, normalized))
  }

  private _startFlushTimer(intervalMs: number): void {
    const self = new WeakRef<Monitor>(this)
    const timer = setInterval(() => {
      const monitor = self.deref()
      if (monitor === undefined) clearInterval(timer)
      else monitor.flush()
    }, intervalMs)
    timer.unref()
    this.flushTimer = timer
  }
}

/** `vitals` if it is an object of Web Vitals only (the core checks the values). */
function checkWebVitals(vitals: WebVitals): WebVitals {
  const object = checkObject('vitals', vitals)
  for (const key of Object.keys(object)) {
    if (!WEB_VITALS_NAMES.includes(key)) {
      throw invalidType(`unknown Web Vital ${describe(key)}: use ${WEB_VITALS_NAMES.join(', ')}`)
    }
    if (object[key] !== undefined) checkNumber(key, object[key])
  }
  return object as WebVitals
}

function defaultCallbackErrorHandler(error: unknown, source: CallbackSource): void {
  const detail = error instanceof Error ? error.stack ?? error.message : String(error)
  process.emitWarning(`a ${source} callback threw: ${detail}`, { code: 'ERR_PERF_CALLBACK' })
}
