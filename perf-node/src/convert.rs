//! Conversions between JavaScript values and perf-core types: tags,
//! milliseconds, and the plain objects that statistics, alerts, emergency
//! transitions and budget reports become.
//!
//! Times cross the boundary as milliseconds (`number`): durations as
//! lengths, timestamps since the Unix epoch (or since the start of a
//! `ManualClock`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use napi_derive::napi;
use perf_core::{
    Alert, AlertEvent, AlertState, BudgetRow, EmergencySource, EmergencyStatus,
    EmergencyTransition, SeriesKey, Stats, Tag, Timestamp, TriggerValue,
};

use crate::error::{binding_error, Result};

/// Tags as the facade passes them: an object of string values.
pub type JsTags = Option<HashMap<String, String>>;

/// The tags of `tags` as perf-core takes them (borrowing the strings).
pub fn tag_slice(tags: &JsTags) -> Vec<Tag<'_>> {
    tags.iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// A duration given in milliseconds. Errors (`ERR_PERF_INVALID_VALUE`,
/// a `RangeError`): NaN, negative, infinite or beyond `u64` nanoseconds.
pub fn duration_from_ms(what: &str, ms: f64) -> Result<Duration> {
    let secs = ms / 1000.0;
    if !(secs.is_finite() && secs >= 0.0 && secs < u64::MAX as f64 / 1e9) {
        return Err(binding_error(
            "ERR_PERF_INVALID_VALUE",
            format!("{what} must be a finite, non-negative number of milliseconds, got {ms}"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A positive duration in milliseconds (a window, an interval).
pub fn positive_duration_from_ms(what: &str, ms: f64) -> Result<Duration> {
    let d = duration_from_ms(what, ms)?;
    if d.is_zero() {
        return Err(binding_error(
            "ERR_PERF_INVALID_VALUE",
            format!("{what} must be greater than zero, got {ms}"),
        ));
    }
    Ok(d)
}

/// `n` as a count: a non-negative safe integer (JavaScript numbers are
/// exact up to 2^53 - 1), else an error with `code` naming `what`.
pub fn safe_integer(code: &'static str, what: &str, n: f64) -> Result<u64> {
    if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as u64)
    } else {
        Err(binding_error(
            code,
            format!("{what} must be a non-negative safe integer, got {n}"),
        ))
    }
}

/// A timestamp given in milliseconds since the epoch.
pub fn timestamp_from_ms(what: &str, ms: f64) -> Result<Timestamp> {
    let d = duration_from_ms(what, ms)?;
    Ok(Timestamp::ZERO + d)
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A timestamp in milliseconds since the epoch.
pub fn timestamp_ms(t: Timestamp) -> f64 {
    t.as_nanos() as f64 / 1e6
}

/// A count as a JavaScript number (exact below 2^53).
pub fn count(n: u64) -> f64 {
    n as f64
}

/// The tags of a series key as an object.
pub fn tags_of(key: &SeriesKey) -> BTreeMap<String, String> {
    key.tags()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A series: its name and tags.
#[napi(object)]
pub struct SeriesObject {
    /// The metric name.
    pub name: String,
    /// The tags.
    pub tags: BTreeMap<String, String>,
    /// `histogram`, `counter` or `gauge` (set where the kind is known).
    pub kind: Option<String>,
}

impl SeriesObject {
    /// The series of `key`, of `kind` if known.
    pub fn new(key: &SeriesKey, kind: Option<String>) -> Self {
        SeriesObject {
            name: key.name().to_owned(),
            tags: tags_of(key),
            kind,
        }
    }
}

/// Summary statistics as a plain object (`monitor.stats()`); empty series
/// have `count` 0, `sum` 0 and every other value `NaN`.
#[napi(object)]
pub struct StatsObject {
    /// Number of values.
    pub count: f64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub stddev: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Values refused since the series was created.
    pub rejected: f64,
}

impl From<&Stats> for StatsObject {
    fn from(s: &Stats) -> Self {
        StatsObject {
            count: count(s.count),
            sum: s.sum,
            min: s.min,
            max: s.max,
            mean: s.mean,
            stddev: s.stddev,
            p50: s.p50,
            p75: s.p75,
            p90: s.p90,
            p95: s.p95,
            p99: s.p99,
            p999: s.p999,
            rejected: count(s.rejected),
        }
    }
}

/// A notification (`onAlert`, `evaluate()`, `alertHistory()`).
#[napi(object)]
pub struct AlertEventObject {
    /// The alert's id (for `acknowledge`).
    pub id: f64,
    /// `fired`, `escalated`, `de_escalated`, `recovered`, `relapsed`,
    /// `resolved` or `repeated`.
    pub kind: String,
    /// The rule's name.
    pub rule: String,
    /// The series.
    pub series: SeriesObject,
    /// The severity after the transition.
    pub severity: String,
    /// The severity before (escalations and de-escalations).
    pub previous_severity: Option<String>,
    /// The value read (absent when resolved for lack of data).
    pub value: Option<f64>,
    /// The threshold of the level.
    pub threshold: f64,
    /// When, in ms since the epoch.
    pub at: f64,
    /// When the alert fired, in ms since the epoch.
    pub fired_at: f64,
}

impl From<&AlertEvent> for AlertEventObject {
    fn from(e: &AlertEvent) -> Self {
        AlertEventObject {
            id: e.id.0 as f64,
            kind: e.kind.as_str().to_owned(),
            rule: e.rule.to_string(),
            series: SeriesObject::new(&e.series, None),
            severity: e.severity.as_str().to_owned(),
            previous_severity: e.previous_severity.map(|s| s.as_str().to_owned()),
            value: e.value,
            threshold: e.threshold,
            at: timestamp_ms(e.at),
            fired_at: timestamp_ms(e.fired_at),
        }
    }
}

/// An active alert (`alerts()`).
#[napi(object)]
pub struct AlertObject {
    /// The alert's id (for `acknowledge`).
    pub id: f64,
    /// The rule's name.
    pub rule: String,
    /// The series.
    pub series: SeriesObject,
    /// The current severity.
    pub severity: String,
    /// `firing` or `recovering`.
    pub state: String,
    /// The last value read.
    pub value: Option<f64>,
    /// The threshold of the level.
    pub threshold: f64,
    /// When it fired, in ms since the epoch.
    pub fired_at: f64,
    /// The last notification, in ms since the epoch.
    pub last_notified: Option<f64>,
    /// Whether it was acknowledged.
    pub acknowledged: bool,
    /// Whether a higher severity on the same series inhibits it.
    pub inhibited: bool,
}

impl From<&Alert> for AlertObject {
    fn from(a: &Alert) -> Self {
        AlertObject {
            id: a.id.0 as f64,
            rule: a.rule.to_string(),
            series: SeriesObject::new(&a.series, None),
            severity: a.severity.as_str().to_owned(),
            state: match a.state {
                AlertState::Firing => "firing",
                AlertState::Recovering => "recovering",
            }
            .to_owned(),
            value: a.value,
            threshold: a.threshold,
            fired_at: timestamp_ms(a.fired_at),
            last_notified: a.last_notified.map(timestamp_ms),
            acknowledged: a.acknowledged,
            inhibited: a.inhibited,
        }
    }
}

/// What a trigger read when the emergency mode changed.
#[napi(object)]
pub struct TriggerValueObject {
    /// The trigger's name.
    pub trigger: String,
    /// The series read, if any.
    pub series: Option<SeriesObject>,
    /// The value read, if any.
    pub value: Option<f64>,
    /// The comparison (`>`, `>=`, `<`, `<=`).
    pub op: String,
    /// The threshold.
    pub threshold: f64,
}

impl From<&TriggerValue> for TriggerValueObject {
    fn from(v: &TriggerValue) -> Self {
        TriggerValueObject {
            trigger: v.trigger.to_string(),
            series: v.series.as_ref().map(|k| SeriesObject::new(k, None)),
            value: v.value,
            op: v.op.as_str().to_owned(),
            threshold: v.threshold,
        }
    }
}

/// An emergency-mode transition (`emergency.history()`, `emergency.onChange`).
#[napi(object)]
pub struct EmergencyTransitionObject {
    /// `activated`, `held` or `deactivated`.
    pub change: String,
    /// `manual` or `triggers`.
    pub source: String,
    /// The triggers that caused it (empty for manual transitions).
    pub triggers: Vec<String>,
    /// Why.
    pub reason: String,
    /// When, in ms since the epoch.
    pub at: f64,
    /// What the triggers read.
    pub values: Vec<TriggerValueObject>,
    /// How long the mode was on (deactivations), in ms.
    pub dwell: Option<f64>,
}

impl From<&EmergencyTransition> for EmergencyTransitionObject {
    fn from(t: &EmergencyTransition) -> Self {
        let (source, triggers) = match &t.source {
            EmergencySource::Manual => ("manual", Vec::new()),
            EmergencySource::Triggers(names) => {
                ("triggers", names.iter().map(|n| n.to_string()).collect())
            }
        };
        EmergencyTransitionObject {
            change: t.change.as_str().to_owned(),
            source: source.to_owned(),
            triggers,
            reason: t.reason.clone(),
            at: timestamp_ms(t.at),
            values: t.values.iter().map(TriggerValueObject::from).collect(),
            dwell: t.dwell.map(ms),
        }
    }
}

/// One trigger's state in [`EmergencyStatusObject`].
#[napi(object)]
pub struct TriggerStatusObject {
    /// The trigger's name.
    pub name: String,
    /// Whether its condition holds now.
    pub holding: bool,
    /// Since when it holds, in ms since the epoch.
    pub true_since: Option<f64>,
    /// What it last read.
    pub last: Option<TriggerValueObject>,
}

/// The emergency mode and its triggers (`emergency.status()`).
#[napi(object)]
pub struct EmergencyStatusObject {
    /// Whether the mode is on.
    pub active: bool,
    /// Whether it is held on by hand.
    pub manual: bool,
    /// Since when it is on, in ms since the epoch.
    pub since: Option<f64>,
    /// The end of the minimum dwell, in ms since the epoch.
    pub dwell_until: Option<f64>,
    /// Each trigger.
    pub triggers: Vec<TriggerStatusObject>,
}

impl From<&EmergencyStatus> for EmergencyStatusObject {
    fn from(s: &EmergencyStatus) -> Self {
        EmergencyStatusObject {
            active: s.active,
            manual: s.manual,
            since: s.since.map(timestamp_ms),
            dwell_until: s.dwell_until.map(timestamp_ms),
            triggers: s
                .triggers
                .iter()
                .map(|t| TriggerStatusObject {
                    name: t.name.to_string(),
                    holding: t.holding,
                    true_since: t.true_since.map(timestamp_ms),
                    last: t.last.as_ref().map(TriggerValueObject::from),
                })
                .collect(),
        }
    }
}

/// One row of a budget report.
#[napi(object)]
pub struct BudgetRowObject {
    /// The budget's name.
    pub budget: String,
    /// The metric rated.
    pub metric: String,
    /// The series rated (absent when the metric has none yet).
    pub series: Option<SeriesObject>,
    /// The statistic (`p75`).
    pub stat: String,
    /// The window, in ms (absent: cumulative).
    pub window: Option<f64>,
    /// Values the statistic was computed from.
    pub count: f64,
    /// The statistic's value (absent without data).
    pub value: Option<f64>,
    /// The limit for `good`.
    pub good: f64,
    /// The limit for `poor`, if the item has a middle rating.
    pub poor: Option<f64>,
    /// `good`, `needs-improvement` or `poor` (absent without data).
    pub rating: Option<String>,
    /// `good - value`: positive while within the budget.
    pub headroom: Option<f64>,
}

impl From<&BudgetRow> for BudgetRowObject {
    fn from(r: &BudgetRow) -> Self {
        BudgetRowObject {
            budget: r.budget.clone(),
            metric: r.metric.clone(),
            series: r.series.as_ref().map(|k| SeriesObject::new(k, None)),
            stat: r.stat.to_string(),
            window: r.window.map(ms),
            count: count(r.count),
            value: r.value,
            good: r.good,
            poor: r.poor,
            rating: r.rating.map(|x| x.as_str().to_owned()),
            headroom: r.headroom,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip() {
        let d = duration_from_ms("w", 1500.0).unwrap();
        assert_eq!(d, Duration::from_millis(1500));
        assert_eq!(ms(d), 1500.0);
        assert_eq!(
            timestamp_ms(timestamp_from_ms("t", 2000.0).unwrap()),
            2000.0
        );
    }

    #[test]
    fn bad_milliseconds_are_range_errors() {
        for bad in [f64::NAN, -1.0, f64::INFINITY, 1e300] {
            let err = duration_from_ms("window", bad).unwrap_err();
            assert_eq!(err.status, "ERR_PERF_INVALID_VALUE");
        }
        assert!(positive_duration_from_ms("window", 0.0).is_err());
    }
}
