/**
 * Regression detection: baselines (versioned, saved atomically) and the
 * comparison of a run against one, with a pass/fail verdict.
 */
import native = require('./native')
import type { BaselineSeriesObject, NativeBaseline, PolicyOptions, StatsObject } from '../native'
import { call, checkObject, checkString, invalidType } from './errors'

/** Summary statistics as a plain object. */
export type Stats = StatsObject

/** One comparison row: a series and a statistic. */
export interface ComparisonRow {
  /** The series, as `name{k="v"}`. */
  series: string
  /** The statistic (`p95`). */
  statistic: string
  /** Its value in the baseline (null if undefined). */
  baseline: number | null
  /** Values in the baseline. */
  baseline_count: number
  /** Its value now (null if undefined). */
  current: number | null
  /** Values now. */
  current_count: number
  /** Relative change (0.25 = 25 % higher), null without enough data. */
  change: number | null
  /** Lower end of the confidence interval of the ratio current / baseline. */
  ratio_low: number | null
  /** Upper end of that interval. */
  ratio_high: number | null
  /** The bootstrap p-value. */
  p_value: number
  /** The p-value adjusted for the number of comparisons (Benjamini-Hochberg). */
  q_value: number
  /** The threshold the change was held to. */
  threshold: number
  /** `regressed`, `improved`, `unchanged` or `insufficient_data`. */
  verdict: string
}

/** The result of `compare`. */
export interface RegressionReport {
  /** The baseline's version. */
  baseline_version: string
  /** The current run's version. */
  current_version: string
  /** Whether no statistic regressed. */
  passed: boolean
  /** The significance level. */
  alpha: number
  /** How many rows regressed. */
  regressions: number
  /** One row per series and statistic. */
  rows: ComparisonRow[]
  /** Series in the baseline but not in the current run. */
  missing: string[]
  /** Series in the current run but not in the baseline. */
  added: string[]
}

/** Options of a comparison (all optional; see docs/regression.md). */
export type Policy = PolicyOptions

/** A baseline: per series, the full histogram plus summary statistics. */
export class Baseline {
  /** @internal */
  constructor(readonly native: NativeBaseline) {}

  /** Reads a baseline file. */
  static load(path: string): Baseline {
    checkString('path', path)
    return new Baseline(call(() => native.NativeBaseline.load(path)))
  }

  /** Reads a baseline JSON document. */
  static fromJson(json: string): Baseline {
    checkString('json', json)
    return new Baseline(call(() => native.NativeBaseline.fromJson(json)))
  }

  /**
   * Several runs (baselines of the same benchmark) merged into one baseline
   * of `version`: per series, the histograms of every run added together;
   * metadata `runs` is the number of runs. Errors: no runs.
   */
  static fromRuns(version: string, runs: readonly Baseline[]): Baseline {
    checkString('version', version)
    if (!Array.isArray(runs) || !runs.every((run) => run instanceof Baseline)) {
      throw invalidType('runs must be an array of Baseline objects')
    }
    return new Baseline(call(() => native.NativeBaseline.fromRuns(version, runs.map((run) => run.native))))
  }

  /** The version it was taken for. */
  get version(): string {
    return this.native.version
  }

  /** When it was taken, in ms since the epoch. */
  get created(): number {
    return this.native.created
  }

  /** Its metadata (`perf_core` version, and whatever was added). */
  get metadata(): Record<string, string> {
    return this.native.metadata
  }

  /** Adds metadata (a commit, a host); returns the baseline. */
  withMetadata(key: string, value: string): this {
    checkString('metadata key', key)
    checkString('metadata value', value)
    this.native.setMetadata(key, value)
    return this
  }

  /** Every series with its statistics. */
  series(): BaselineSeriesObject[] {
    return this.native.series()
  }

  /** Writes the baseline to `path` atomically (a crash never leaves half a file). */
  save(path: string): void {
    checkString('path', path)
    call(() => this.native.save(path))
  }

  /** The baseline as a JSON document (what `save` writes). */
  toJson(): string {
    return this.native.toJson()
  }

  /** The parsed document, so `JSON.stringify(baseline)` writes it. */
  toJSON(): unknown {
    return JSON.parse(this.native.toJson())
  }
}

/**
 * Compares `current` against `baseline` under `policy`: per series and
 * statistic, the change, its significance and a verdict; `passed` is the
 * CI gate.
 */
export function compare(baseline: Baseline, current: Baseline, policy?: Policy): RegressionReport {
  if (!(baseline instanceof Baseline) || !(current instanceof Baseline)) {
    throw invalidType('compare(baseline, current) takes two Baseline objects')
  }
  if (policy !== undefined) checkObject('policy', policy)
  const json = call(() => baseline.native.compareJson(current.native, policy))
  return JSON.parse(json) as RegressionReport
}
