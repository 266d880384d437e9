//! Exports: the monitor's series in the formats other tools read.
//!
//! * `format` — the formats by name, with their media types.
//! * `exposition` — Prometheus text exposition 0.0.4 and OpenMetrics 1.0.
//! * `native` — a histogram as a Prometheus native (exponential) histogram.
//! * `client_model`, `protobuf` — the Prometheus protobuf exposition: the
//!   `io.prometheus.client` messages, and the families written in them.
//! * `json`, `csv` — every series' statistics as documents.
//! * `hdr` — one histogram as an HdrHistogram V2 interchange string.
//! * `prometheus_rules` — a rules document as Prometheus alerting rules.
//! * `http` — the `/metrics` endpoint (feature `http`).
//! * `metrics_facade` — a recorder for the `metrics` crate (feature `metrics`).
//! * `remote_write` — pushing to a Prometheus remote-write receiver
//!   (feature `remote-write`).

pub mod client_model;
pub(crate) mod csv;
pub(crate) mod exposition;
pub(crate) mod exposition_options;
pub(crate) mod format;
pub(crate) mod hdr;
#[cfg(feature = "http")]
pub(crate) mod http;
pub(crate) mod json;
#[cfg(feature = "metrics")]
pub(crate) mod metrics_facade;
pub(crate) mod native;
pub(crate) mod prometheus_rules;
pub(crate) mod protobuf;
#[cfg(feature = "remote-write")]
pub(crate) mod remote_write;

use crate::error::MetricKind;
use crate::registry::{Metric, Registry};
use crate::series::SeriesKey;
use crate::snapshot::HistogramSnapshot;
use crate::stats::Stats;

/// One statistic's value as the JSON and CSV exports write it: counts stay
/// integers, the rest are `f64` (NaN and ±∞ are written as "no value").
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum StatValue {
    Integer(u64),
    Number(f64),
}

/// One series as the JSON and CSV exports see it.
pub(crate) struct ExportedSeries {
    pub(crate) key: SeriesKey,
    pub(crate) kind: MetricKind,
    /// `(stat, value)` in the order both formats write them.
    pub(crate) stats: Vec<(&'static str, StatValue)>,
    /// The histogram the statistics were computed from (histograms only).
    pub(crate) snapshot: Option<HistogramSnapshot>,
}

/// Every series of `registry` with its statistics, sorted by name then tags.
pub(crate) fn exported_series(registry: &Registry) -> Vec<ExportedSeries> {
    let mut all = Vec::new();
    registry.for_each(|key, series| all.push(export_one(key, &series.metric)));
    all.sort_by(|a, b| a.key.cmp(&b.key));
    all
}

/// The statistics of one series.
fn export_one(key: &SeriesKey, metric: &Metric) -> ExportedSeries {
    let (stats, snapshot) = match metric {
        Metric::Histogram(core) => {
            let stats = Stats::from_snapshot(core.snapshot(), core.rejected());
            (histogram_stats(&stats), Some(stats.snapshot().clone()))
        }
        Metric::Counter(core) => (vec![("value", StatValue::Integer(core.value()))], None),
        Metric::Gauge(core) => (vec![("value", StatValue::Number(core.value()))], None),
    };
    ExportedSeries {
        key: key.clone(),
        kind: metric.kind(),
        stats,
        snapshot,
    }
}

/// A histogram's exported statistics: count, sum, min, max, mean, stddev,
/// p50, p75, p90, p95, p99, p999, rejected.
fn histogram_stats(s: &Stats) -> Vec<(&'static str, StatValue)> {
    use StatValue::{Integer, Number};
    vec![
        ("count", Integer(s.count)),
        ("sum", Number(s.sum)),
        ("min", Number(s.min)),
        ("max", Number(s.max)),
        ("mean", Number(s.mean)),
        ("stddev", Number(s.stddev)),
        ("p50", Number(s.p50)),
        ("p75", Number(s.p75)),
        ("p90", Number(s.p90)),
        ("p95", Number(s.p95)),
        ("p99", Number(s.p99)),
        ("p999", Number(s.p999)),
        ("rejected", Integer(s.rejected)),
    ]
}

/// A registry to export in the json and csv unit tests, with helpers that
/// record into it (the concept modules never build a monitor).
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use crate::bucket::Precision;
    use crate::clock::{ManualClock, Timestamp};
    use crate::error::MetricKind;
    use crate::gauge::Gauge;
    use crate::registry::{Limits, Metric, Registry};
    use crate::series::Tag;

    /// An empty registry at the default precision.
    pub(crate) fn registry() -> Registry {
        let limits = Limits {
            max_metrics: 100,
            max_series_per_metric: 100,
        };
        let clock = Arc::new(ManualClock::new(Timestamp::ZERO));
        Registry::new(limits, Precision::DEFAULT, clock)
    }

    /// Records each of `values` (rejected ones count as rejected).
    pub(crate) fn record(r: &Registry, name: &str, tags: &[Tag<'_>], values: &[f64]) {
        r.with_series(name, tags, MetricKind::Histogram, |s| match &s.metric {
            Metric::Histogram(core) => values.iter().for_each(|&v| drop(core.record(v))),
            _ => unreachable!(),
        })
        .unwrap();
    }

    /// Adds `n` to a counter.
    pub(crate) fn count(r: &Registry, name: &str, tags: &[Tag<'_>], n: u64) {
        r.with_series(name, tags, MetricKind::Counter, |s| match &s.metric {
            Metric::Counter(core) => core.increment(n),
            _ => unreachable!(),
        })
        .unwrap();
    }

    /// Sets a gauge.
    pub(crate) fn set(r: &Registry, name: &str, tags: &[Tag<'_>], value: f64) {
        r.with_series(name, tags, MetricKind::Gauge, |s| match &s.metric {
            Metric::Gauge(core) => Gauge { core: core.clone() }.set(value).unwrap(),
            _ => unreachable!(),
        })
        .unwrap();
    }
}
