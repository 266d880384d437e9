/**
 * perf-core for Node.js: in-process performance telemetry on a Rust core.
 *
 * ```js
 * const { Monitor } = require('perf-core')
 * const monitor = new Monitor()
 * const latency = monitor.histogram('http.server.duration', { route: '/users' })
 * const end = latency.startTimer()
 * // … handle the request …
 * end()
 * console.log(monitor.stats('http.server.duration', { route: '/users' }).p95)
 * ```
 */
export { Baseline, compare } from './baseline'
export type { ComparisonRow, Policy, RegressionReport } from './baseline'
export { ManualClock } from './clock'
export type { PerfError } from './errors'
export { Counter, Gauge, Histogram } from './handles'
export { CONTENT_TYPES, Emergency, Monitor } from './monitor'
export type {
  Alert,
  AlertEvent,
  BudgetReport,
  BudgetSpec,
  CallbackSource,
  EmergencyConfig,
  EmergencyStatus,
  EmergencyTransition,
  ExportFormat,
  ExpositionOptions,
  GaugeMode,
  HdrOptions,
  MetricsFormat,
  MonitorOptions,
  MultiprocessStatus,
  Rule,
  SeriesInfo,
  Severity,
  Stats,
  WebVitals,
  WebVitalsRatingsResult,
} from './monitor'
export type { Tags } from './tags'
