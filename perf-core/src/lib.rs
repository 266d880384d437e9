//! # perf-core
//!
//! An in-process performance telemetry engine: record latencies and other
//! values from any thread in a few nanoseconds, and read accurate percentiles,
//! cumulative or over sliding windows, with no server to run.
//!
//! ```
//! use perf_core::Monitor;
//! use std::time::Duration;
//!
//! let monitor = Monitor::builder().build()?;
//! let latency = monitor.histogram("http.server.duration", &[("route", "/users")])?;
//! for ms in [12.0, 15.5, 9.8, 230.0] {
//!     latency.record(ms)?;
//! }
//! let stats = monitor.stats("http.server.duration", &[("route", "/users")])?;
//! println!("p95 = {:.1} ms over {} requests", stats.p95, stats.count);
//! let recent = monitor.window_stats("http.server.duration", &[("route", "/users")], Duration::from_secs(60))?;
//! assert_eq!(recent.count, 4);
//! # Ok::<(), perf_core::PerfError>(())
//! ```
//!
//! ## Modules, one concept each
//!
//! * [`monitor`](Monitor) — the root object and its builder.
//! * `registry` / `series` / `series_index` — series identity (name + tags),
//!   validation, caps, and the lock-free index behind lookups.
//! * `histogram`, `counter`, `gauge` — the recording handles and their storage.
//! * `bucket` — the log-linear bucket layout and its error bound.
//! * `snapshot`, `stats` — mergeable snapshots and summary statistics.
//! * `window` — sliding windows as rings of interval deltas.
//! * `clock` — injectable time.
//! * [`rules`](Rule) — what to watch: targets, threshold ladders, `for`,
//!   hysteresis, no-data policies; `rule_state` is the per-(rule, series)
//!   state machine, `evaluation` runs it on demand and `evaluator` in the
//!   background.
//! * [`alerts`](AlertEvent) — notifications: repeats, acknowledgement,
//!   inhibition, history and subscribers.
//! * [`budget`](Budget), `budget_report` — performance budgets (Web Vitals,
//!   API latency, custom), their ratings and the report.
//! * [`config`](RulesConfig) — rules, budgets and emergency triggers as one
//!   JSON schema.
//! * [`emergency`](Emergency) — the process-wide emergency mode.
//! * [`baseline`](Baseline), [`regression`](compare) — baselines saved
//!   atomically, and a run compared against one (the CI gate).
//! * [`changepoint`](detect_change_points) — change-point detection, offline
//!   and online.
//! * `monitor` — the facade: one submodule per concept's `Monitor` methods.
//!
//! See `docs/concepts.md` for the semantics, `docs/rules.md` for rules,
//! alerts and budgets, `docs/emergency.md`, `docs/regression.md`, and
//! `docs/architecture.md` for the module map and the memory model of the
//! hot path.

#![warn(missing_docs)]

mod alerts;
mod baseline;
mod bucket;
mod budget;
mod budget_report;
mod changepoint;
mod clock;
mod config;
mod counter;
mod dispatch;
mod emergency;
mod error;
mod evaluation;
mod evaluator;
mod export;
mod gauge;
mod histogram;
mod lifecycle;
mod monitor;
mod multiproc;
mod numbers;
mod registry;
mod regression;
mod rule_state;
mod rules;
mod series;
mod series_index;
mod snapshot;
mod stats;
mod thread_slot;
mod web_vitals;
mod window;

pub use alerts::{Alert, AlertEvent, AlertId, AlertKind, AlertState, SubscriptionId};
pub use baseline::{Baseline, BaselineSeries, BASELINE_FORMAT, BASELINE_FORMAT_VERSION};
pub use bucket::{Precision, MAX_EXCLUSIVE, MIN_BUCKETED};
pub use budget::{Budget, BudgetAlerts, BudgetItem, Rating, WEB_VITALS_METRICS};
pub use budget_report::{BudgetReport, BudgetRow};
pub use changepoint::{
    detect_change_points, detect_change_points_at, ChangePoint, ChangePointConfig,
    ChangePointDetector,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::RulesConfig;
pub use counter::Counter;
pub use dispatch::DEFAULT_NOTIFICATION_CAPACITY;
pub use emergency::{
    Emergency, EmergencyChange, EmergencyConfig, EmergencySource, EmergencyStatus,
    EmergencyTransition, Trigger, TriggerCondition, TriggerSource, TriggerStatus, TriggerValue,
    DEFAULT_CLEAR_FOR, DEFAULT_FLAP_WINDOW, DEFAULT_MAX_DWELL, DEFAULT_MIN_DWELL,
};
pub use error::{ErrorCategory, ErrorCode, InvalidValueReason, MetricKind, PerfError, Result};
pub use evaluation::{NOTIFICATIONS_DROPPED_COUNTER, SUBSCRIBER_PANICS_COUNTER};
pub use export::client_model;
pub use export::exposition::{
    Exposition, ExpositionConfig, ExpositionFormat, SkippedMetric, DEFAULT_LATENCY_BUCKETS,
    DEFAULT_LATENCY_BUCKETS_SECONDS, DEFAULT_SUMMARY_QUANTILES,
};
pub use export::exposition_options::ExpositionOptions;
pub use export::format::ExportFormat;
pub use export::hdr::HdrOptions;
#[cfg(feature = "http")]
pub use export::http::{MetricsServer, ServerLimits};
pub use export::json::{JsonExportOptions, EXPORT_FORMAT, EXPORT_FORMAT_VERSION};
#[cfg(feature = "metrics")]
pub use export::metrics_facade::{PerfCoreRecorder, METRICS_ADAPTER_ERRORS_COUNTER};
pub use export::native::{BucketSpan, NativeHistogram, NATIVE_SCHEMA, NATIVE_ZERO_THRESHOLD};
pub use export::prometheus_rules::{
    PrometheusAlert, PrometheusRuleGroup, PrometheusRules, PrometheusRulesOptions, RuleRemark,
    DEFAULT_PROMETHEUS_RULES_GROUP,
};
#[cfg(feature = "remote-write")]
pub use export::remote_write::proto as prompb;
#[cfg(feature = "remote-write")]
pub use export::remote_write::{
    RemoteWriteConfig, RemoteWriteStatus, REMOTE_WRITE_BEARER_TOKEN_ENV,
    REMOTE_WRITE_BUFFER_BYTES_ENV, REMOTE_WRITE_DROPPED_COUNTER, REMOTE_WRITE_FAILED_COUNTER,
    REMOTE_WRITE_INTERVAL_ENV, REMOTE_WRITE_RETRIES_COUNTER, REMOTE_WRITE_SENT_COUNTER,
    REMOTE_WRITE_TIMEOUT_ENV, REMOTE_WRITE_URL_ENV,
};
pub use gauge::Gauge;
pub use histogram::{Histogram, HistogramTimer};
pub use monitor::{after_fork, Monitor, MonitorBuilder, SeriesInfo};
pub use multiproc::{
    GaugeMode, MultiprocessStatus, DEFAULT_PUBLISH_INTERVAL, MULTIPROC_DIR_ENV, PID_TAG,
};
pub use registry::FOLDED_COUNTER;
pub use regression::{
    compare, Comparison, Policy, RegressionReport, Verdict, DEFAULT_THRESHOLD, MAX_RESAMPLES,
    MIN_RESAMPLES, TAIL_SAMPLES,
};
pub use rules::{
    Level, NoDataPolicy, Op, RepeatIntervals, Rule, Severity, Statistic, Target, Watch,
    DEFAULT_RULE_WINDOW,
};
pub use series::{
    validate_name, validate_tags, SeriesKey, Tag, MAX_NAME_LEN, MAX_TAGS, MAX_TAG_KEY_LEN,
    MAX_TAG_VALUE_LEN, OVERFLOW_TAG,
};
pub use snapshot::HistogramSnapshot;
pub use stats::{Stats, DEFAULT_PERCENTILES};
pub use web_vitals::{WebVitals, WebVitalsRatings};

/// The Rust examples of the README and the docs, compiled and run as doctests
/// so they stay true to the API.
#[cfg(doctest)]
mod doc_examples {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/concepts.md")]
    struct Concepts;
    #[doc = include_str!("../../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../../docs/rules.md")]
    struct Rules;
    #[doc = include_str!("../../docs/emergency.md")]
    struct Emergency;
    #[doc = include_str!("../../docs/regression.md")]
    struct Regression;
    #[doc = include_str!("../../docs/export.md")]
    struct Export;
    #[doc = include_str!("../../docs/multiprocess.md")]
    struct Multiprocess;
    #[doc = include_str!("../../docs/fleet.md")]
    struct Fleet;
}
