//! The one error type of perf-core.
//!
//! Every fallible public entry point returns [`PerfError`]. Bindings map its
//! variants to their language's idioms (Python exception classes, Node error
//! codes, C status codes) in one conversion module each.

use std::fmt;
use std::time::Duration;

/// Why a value was refused by a histogram or gauge.
///
/// ```
/// use perf_core::{Monitor, PerfError, InvalidValueReason};
/// let monitor = Monitor::builder().build().unwrap();
/// let h = monitor.histogram("latency", &[]).unwrap();
/// match h.record(f64::NAN) {
///     Err(PerfError::InvalidValue { reason, .. }) => assert_eq!(reason, InvalidValueReason::NaN),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidValueReason {
    /// The value is NaN.
    NaN,
    /// The value is +∞ or −∞.
    Infinite,
    /// The value is below zero (histograms take non-negative values only).
    Negative,
    /// The value is at or above 2^64, the top of the trackable range.
    TooLarge,
}

impl fmt::Display for InvalidValueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NaN => "NaN is not a measurement",
            Self::Infinite => "infinite values are not measurements",
            Self::Negative => "histogram values must be non-negative",
            Self::TooLarge => "values must be below 2^64 (1.8e19)",
        })
    }
}

/// The kind of a metric: every series of one metric name has the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A distribution of values ([`crate::Histogram`]).
    Histogram,
    /// A monotonic count ([`crate::Counter`]).
    Counter,
    /// A value that goes up and down ([`crate::Gauge`]).
    Gauge,
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Histogram => "histogram",
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        })
    }
}

/// Everything that can go wrong in perf-core.
///
/// No variant is ever produced by a panic: bad input is reported here and the
/// statistics it would have touched are left as they were.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PerfError {
    /// A metric name broke the naming rules (see `docs/concepts.md`).
    #[error("invalid metric name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A tag key or value broke the tag rules.
    #[error("invalid tag {key:?}: {reason}")]
    InvalidTag {
        /// The tag key as given.
        key: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A value was NaN, infinite, negative (histograms) or too large.
    #[error("invalid value {value}: {reason}")]
    InvalidValue {
        /// The value as given.
        value: f64,
        /// Why it was refused.
        reason: InvalidValueReason,
    },
    /// A metric name is already used by a metric of another kind.
    #[error("metric {name:?} is a {existing}, not a {requested}")]
    KindMismatch {
        /// The metric name.
        name: String,
        /// The kind it was registered with.
        existing: MetricKind,
        /// The kind that was asked for.
        requested: MetricKind,
    },
    /// No series with this name and tag set has been created.
    #[error("no series {series}")]
    UnknownSeries {
        /// The series, printed as `name{k="v",...}`.
        series: String,
    },
    /// The number of distinct metric names reached the configured limit.
    #[error("too many metric names: the limit is {limit}")]
    TooManyMetrics {
        /// The configured limit ([`crate::MonitorBuilder::max_metrics`]).
        limit: usize,
    },
    /// A percentile outside `[0, 100]` (or NaN) was asked for.
    #[error("invalid percentile {q}: must be within [0, 100]")]
    InvalidPercentile {
        /// The percentile as given.
        q: f64,
    },
    /// A sliding window that is zero or longer than the configured retention.
    #[error("invalid window {window:?}: must be > 0 and at most the retention {retention:?}")]
    InvalidWindow {
        /// The window as given.
        window: Duration,
        /// The configured retention ([`crate::MonitorBuilder::window_retention`]).
        retention: Duration,
    },
    /// Sliding windows were disabled for this monitor.
    #[error("sliding windows are disabled for this monitor")]
    WindowsDisabled,
    /// A rule (or budget) is malformed.
    #[error("invalid rule {rule:?}: {field}: {reason}")]
    InvalidRule {
        /// The rule's name.
        rule: String,
        /// The offending field, as the JSON schema spells it (`levels[1].clear`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rules document could not be read; `path` locates the offending
    /// field (`rules[2].for`).
    #[error("invalid rules JSON at {path}: {reason}")]
    InvalidRulesJson {
        /// Where in the document (`rules[2].for`; `.` for the whole).
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// A rule or budget with this name is already registered.
    #[error("a rule named {name:?} already exists")]
    DuplicateRule {
        /// The name.
        name: String,
    },
    /// No active alert has this id (it resolved, or never existed).
    #[error("no active alert with id {id}")]
    UnknownAlert {
        /// The id as given.
        id: u64,
    },
    /// An emergency configuration (or a manual reason) that cannot be
    /// used; `field` is as JSON spells it (`triggers[0].threshold`).
    #[error("invalid emergency configuration: {field}: {reason}")]
    InvalidEmergency {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A baseline file (or a baseline document) cannot be used: unreadable,
    /// truncated, corrupt, or of an unknown format version.
    #[error("invalid baseline {path}: {reason}")]
    InvalidBaseline {
        /// The file (`-` for a document not read from a file).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O operation failed: a file could not be written (the previous
    /// file at `path`, if any, is intact) or a socket could not be bound
    /// (`path` is then the address).
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        reason: String,
    },
    /// An HdrHistogram interchange string that cannot be decoded, or a
    /// histogram that cannot be encoded with the options given.
    #[error("invalid HdrHistogram snapshot: {reason}")]
    InvalidHdr {
        /// What is wrong.
        reason: String,
    },
    /// Two things that must agree do not (e.g. baselines of different
    /// precisions merged, a comparison policy with an invalid setting).
    #[error("invalid comparison: {0}")]
    InvalidComparison(String),
    /// A builder setting is out of its range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

/// Shorthand for `Result<T, PerfError>`.
pub type Result<T, E = PerfError> = std::result::Result<T, E>;
