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

/// The most characters of user input an error message quotes: a 1 MiB
/// name gives a short message, not a 1 MiB one.
pub const MAX_QUOTED_CHARS: usize = 64;
/// The most characters of any other text an error message shows (reasons
/// and paths, which may quote input themselves).
const MAX_TEXT_CHARS: usize = 256;

/// `text` in quotes (escaped as `{:?}` does), cut after
/// [`MAX_QUOTED_CHARS`] characters with its full length said.
fn quoted(text: &str) -> Shown<'_> {
    Shown {
        text,
        max: MAX_QUOTED_CHARS,
        quote: true,
    }
}

/// `text` as it is, cut after `MAX_TEXT_CHARS` characters.
fn clipped(text: &str) -> Shown<'_> {
    Shown {
        text,
        max: MAX_TEXT_CHARS,
        quote: false,
    }
}

/// Text in an error message, bounded.
struct Shown<'a> {
    text: &'a str,
    max: usize,
    quote: bool,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = self.text.char_indices().nth(self.max).map(|(i, _)| i);
        let shown = &self.text[..cut.unwrap_or(self.text.len())];
        if self.quote {
            write!(f, "{shown:?}")?;
        } else {
            f.write_str(shown)?;
        }
        if cut.is_some() {
            write!(f, "… ({} bytes in all)", self.text.len())?;
        }
        Ok(())
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
    #[error("invalid metric name {}: {reason}", quoted(.name))]
    InvalidName {
        /// The name as given.
        name: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A tag key or value broke the tag rules.
    #[error("invalid tag {}: {reason}", quoted(.key))]
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
    #[error("metric {} is a {existing}, not a {requested}", quoted(.name))]
    KindMismatch {
        /// The metric name.
        name: String,
        /// The kind it was registered with.
        existing: MetricKind,
        /// The kind that was asked for.
        requested: MetricKind,
    },
    /// No series with this name and tag set has been created.
    #[error("no series {}", clipped(.series))]
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
    #[error("invalid rule {}: {}: {}", quoted(.rule), clipped(.field), clipped(.reason))]
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
    #[error("invalid rules JSON at {}: {}", clipped(.path), clipped(.reason))]
    InvalidRulesJson {
        /// Where in the document (`rules[2].for`; `.` for the whole).
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// A rule or budget with this name is already registered.
    #[error("a rule named {} already exists", quoted(.name))]
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
    #[error("invalid emergency configuration: {}: {}", clipped(.field), clipped(.reason))]
    InvalidEmergency {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A baseline file (or a baseline document) cannot be used: unreadable,
    /// truncated, corrupt, or of an unknown format version.
    #[error("invalid baseline {}: {}", clipped(.path), clipped(.reason))]
    InvalidBaseline {
        /// The file (`-` for a document not read from a file).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O operation failed: a file could not be written (the previous
    /// file at `path`, if any, is intact) or a socket could not be bound
    /// (`path` is then the address).
    #[error("I/O error on {}: {}", clipped(.path), clipped(.reason))]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        reason: String,
    },
    /// An HdrHistogram interchange string that cannot be decoded, or a
    /// histogram that cannot be encoded with the options given.
    #[error("invalid HdrHistogram snapshot: {}", clipped(.reason))]
    InvalidHdr {
        /// What is wrong.
        reason: String,
    },
    /// Two things that must agree do not (e.g. baselines of different
    /// precisions merged, a comparison policy with an invalid setting).
    #[error("invalid comparison: {}", clipped(.0))]
    InvalidComparison(String),
    /// A builder setting is out of its range.
    #[error("invalid configuration: {}", clipped(.0))]
    InvalidConfig(String),
}

/// Every kind of [`PerfError`], as a stable code for bindings.
///
/// `PerfError` is `#[non_exhaustive]`, so code outside perf-core must match
/// it with a wildcard and a new variant would slip through silently. This
/// enum is **exhaustive on purpose**: a binding matches
/// [`PerfError::code`] without a wildcard, and a new kind of error fails to
/// compile in every binding until each has decided what it is.
///
/// ```
/// use perf_core::{ErrorCategory, ErrorCode, PerfError};
/// let err = PerfError::TooManyMetrics { limit: 10 };
/// assert_eq!(err.code(), ErrorCode::TooManyMetrics);
/// assert_eq!(err.code().as_str(), "too_many_metrics");
/// assert_eq!(err.code().category(), ErrorCategory::Limit);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// [`PerfError::InvalidName`].
    InvalidName,
    /// [`PerfError::InvalidTag`].
    InvalidTag,
    /// [`PerfError::InvalidValue`].
    InvalidValue,
    /// [`PerfError::KindMismatch`].
    KindMismatch,
    /// [`PerfError::UnknownSeries`].
    UnknownSeries,
    /// [`PerfError::TooManyMetrics`].
    TooManyMetrics,
    /// [`PerfError::InvalidPercentile`].
    InvalidPercentile,
    /// [`PerfError::InvalidWindow`].
    InvalidWindow,
    /// [`PerfError::WindowsDisabled`].
    WindowsDisabled,
    /// [`PerfError::InvalidRule`].
    InvalidRule,
    /// [`PerfError::InvalidRulesJson`].
    InvalidRulesJson,
    /// [`PerfError::DuplicateRule`].
    DuplicateRule,
    /// [`PerfError::UnknownAlert`].
    UnknownAlert,
    /// [`PerfError::InvalidEmergency`].
    InvalidEmergency,
    /// [`PerfError::InvalidBaseline`].
    InvalidBaseline,
    /// [`PerfError::Io`].
    Io,
    /// [`PerfError::InvalidHdr`].
    InvalidHdr,
    /// [`PerfError::InvalidComparison`].
    InvalidComparison,
    /// [`PerfError::InvalidConfig`].
    InvalidConfig,
}

/// What kind of mistake an [`ErrorCode`] reports, for bindings that group
/// errors (exception base classes, `RangeError` vs `TypeError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// An argument or a value is not acceptable (names, tags, values,
    /// percentiles, windows, HDR strings).
    InvalidInput,
    /// A rule, rules document, emergency, comparison or builder setting is
    /// not acceptable.
    InvalidConfig,
    /// Something asked for does not exist (a series, an alert).
    NotFound,
    /// A limit was reached (the metric cap).
    Limit,
    /// The request does not fit the monitor's state (windows disabled, a
    /// name taken by another kind or rule).
    Conflict,
    /// A file could not be read or written, or is not what it should be.
    Storage,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::InvalidName,
        ErrorCode::InvalidTag,
        ErrorCode::InvalidValue,
        ErrorCode::KindMismatch,
        ErrorCode::UnknownSeries,
        ErrorCode::TooManyMetrics,
        ErrorCode::InvalidPercentile,
        ErrorCode::InvalidWindow,
        ErrorCode::WindowsDisabled,
        ErrorCode::InvalidRule,
        ErrorCode::InvalidRulesJson,
        ErrorCode::DuplicateRule,
        ErrorCode::UnknownAlert,
        ErrorCode::InvalidEmergency,
        ErrorCode::InvalidBaseline,
        ErrorCode::Io,
        ErrorCode::InvalidHdr,
        ErrorCode::InvalidComparison,
        ErrorCode::InvalidConfig,
    ];

    /// The snake_case name, stable across releases (`"too_many_metrics"`):
    /// Node's codes are `ERR_PERF_` and its upper case.
    ///
    /// ```
    /// assert_eq!(perf_core::ErrorCode::InvalidRulesJson.as_str(), "invalid_rules_json");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidTag => "invalid_tag",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::KindMismatch => "kind_mismatch",
            ErrorCode::UnknownSeries => "unknown_series",
            ErrorCode::TooManyMetrics => "too_many_metrics",
            ErrorCode::InvalidPercentile => "invalid_percentile",
            ErrorCode::InvalidWindow => "invalid_window",
            ErrorCode::WindowsDisabled => "windows_disabled",
            ErrorCode::InvalidRule => "invalid_rule",
            ErrorCode::InvalidRulesJson => "invalid_rules_json",
            ErrorCode::DuplicateRule => "duplicate_rule",
            ErrorCode::UnknownAlert => "unknown_alert",
            ErrorCode::InvalidEmergency => "invalid_emergency",
            ErrorCode::InvalidBaseline => "invalid_baseline",
            ErrorCode::Io => "io",
            ErrorCode::InvalidHdr => "invalid_hdr",
            ErrorCode::InvalidComparison => "invalid_comparison",
            ErrorCode::InvalidConfig => "invalid_config",
        }
    }

    /// The category.
    ///
    /// ```
    /// use perf_core::{ErrorCategory, ErrorCode};
    /// assert_eq!(ErrorCode::UnknownAlert.category(), ErrorCategory::NotFound);
    /// ```
    pub const fn category(self) -> ErrorCategory {
        match self {
            ErrorCode::InvalidName
            | ErrorCode::InvalidTag
            | ErrorCode::InvalidValue
            | ErrorCode::InvalidPercentile
            | ErrorCode::InvalidWindow
            | ErrorCode::InvalidHdr => ErrorCategory::InvalidInput,
            ErrorCode::InvalidRule
            | ErrorCode::InvalidRulesJson
            | ErrorCode::InvalidEmergency
            | ErrorCode::InvalidComparison
            | ErrorCode::InvalidConfig => ErrorCategory::InvalidConfig,
            ErrorCode::UnknownSeries | ErrorCode::UnknownAlert => ErrorCategory::NotFound,
            ErrorCode::TooManyMetrics => ErrorCategory::Limit,
            ErrorCode::KindMismatch | ErrorCode::WindowsDisabled | ErrorCode::DuplicateRule => {
                ErrorCategory::Conflict
            }
            ErrorCode::InvalidBaseline | ErrorCode::Io => ErrorCategory::Storage,
        }
    }
}

impl PerfError {
    /// The error's [`ErrorCode`]: what bindings map, exhaustively.
    ///
    /// ```
    /// use perf_core::{ErrorCode, PerfError};
    /// assert_eq!(PerfError::WindowsDisabled.code(), ErrorCode::WindowsDisabled);
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            PerfError::InvalidName { .. } => ErrorCode::InvalidName,
            PerfError::InvalidTag { .. } => ErrorCode::InvalidTag,
            PerfError::InvalidValue { .. } => ErrorCode::InvalidValue,
            PerfError::KindMismatch { .. } => ErrorCode::KindMismatch,
            PerfError::UnknownSeries { .. } => ErrorCode::UnknownSeries,
            PerfError::TooManyMetrics { .. } => ErrorCode::TooManyMetrics,
            PerfError::InvalidPercentile { .. } => ErrorCode::InvalidPercentile,
            PerfError::InvalidWindow { .. } => ErrorCode::InvalidWindow,
            PerfError::WindowsDisabled => ErrorCode::WindowsDisabled,
            PerfError::InvalidRule { .. } => ErrorCode::InvalidRule,
            PerfError::InvalidRulesJson { .. } => ErrorCode::InvalidRulesJson,
            PerfError::DuplicateRule { .. } => ErrorCode::DuplicateRule,
            PerfError::UnknownAlert { .. } => ErrorCode::UnknownAlert,
            PerfError::InvalidEmergency { .. } => ErrorCode::InvalidEmergency,
            PerfError::InvalidBaseline { .. } => ErrorCode::InvalidBaseline,
            PerfError::Io { .. } => ErrorCode::Io,
            PerfError::InvalidHdr { .. } => ErrorCode::InvalidHdr,
            PerfError::InvalidComparison(_) => ErrorCode::InvalidComparison,
            PerfError::InvalidConfig(_) => ErrorCode::InvalidConfig,
        }
    }
}

/// Shorthand for `Result<T, PerfError>`.
pub type Result<T, E = PerfError> = std::result::Result<T, E>;

#[cfg(test)]
mod code_tests {
    use super::ErrorCode;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_listed_once_with_a_distinct_name() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        let codes: HashSet<ErrorCode> = ErrorCode::ALL.into_iter().collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            // Declaration order: the list is the enum, nothing skipped.
            assert_eq!(ErrorCode::ALL[code as usize], code);
        }
    }
}

#[cfg(test)]
mod bounded_message_tests {
    use super::PerfError;

    #[test]
    fn messages_quote_a_short_prefix_of_huge_input() {
        let name = "x".repeat(1 << 20);
        let err = PerfError::InvalidName {
            name: name.clone(),
            reason: "must start with a letter",
        };
        let message = err.to_string();
        assert!(message.len() < 200, "{} bytes", message.len());
        assert!(message.contains("1048576 bytes in all"), "{message}");
        let io = PerfError::Io {
            path: name,
            reason: "denied".into(),
        };
        assert!(io.to_string().len() < 400);
    }

    #[test]
    fn short_input_is_quoted_whole() {
        let err = PerfError::InvalidName {
            name: "9lives".into(),
            reason: "must start with a letter",
        };
        assert_eq!(
            err.to_string(),
            r#"invalid metric name "9lives": must start with a letter"#
        );
        // Cut on a character boundary, never inside a multi-byte one.
        let err = PerfError::InvalidTag {
            key: "é".repeat(100),
            reason: "too long",
        };
        assert!(err.to_string().contains("… (200 bytes in all)"));
    }
}
