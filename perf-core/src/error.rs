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

/// Shorthand for `Result<T, PerfError>`.
pub type Result<T, E = PerfError> = std::result::Result<T, E>;

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
