//! A registry's series as one remote-write request: the families of the
//! text exposition ([`crate::export::exposition::families`]: the same
//! names, labels and collision rules) written as time series at one
//! timestamp.
//!
//! * a counter is `<name>_total`;
//! * a gauge is `<name>`;
//! * a histogram is its classic series `<name>_bucket{le}` (the
//!   exposition's bounds and `+Inf`), `<name>_sum` and `<name>_count`, and,
//!   unless turned off, its native histogram ([`NativeHistogram`]) as the
//!   series `<name>`; a histogram configured as a summary is
//!   `<name>{quantile}`, `<name>_sum` and `<name>_count`.
//!
//! Invariant: every series' labels are sorted by name (byte order) and
//! include `__name__`, as the protocol requires; `le` and `quantile` values
//! are written as the Prometheus text format writes them.

use super::proto::{
    histogram, BucketSpan, Histogram, Label, Sample as PbSample, TimeSeries, WriteRequest,
};
use crate::error::MetricKind;
use crate::export::exposition::{
    collect, cumulative_counts, families, format_float, ExpositionConfig, ExpositionFormat, Family,
    Labels, Rendering, Sample,
};
use crate::export::native::{NativeHistogram, NATIVE_SCHEMA, NATIVE_ZERO_THRESHOLD};
use crate::registry::Registry;
use crate::snapshot::HistogramSnapshot;

/// Every series of `registry` at `timestamp` (ms since the Unix epoch).
pub(crate) fn write_request(
    registry: &Registry,
    config: &ExpositionConfig,
    native: bool,
    timestamp: i64,
) -> WriteRequest {
    let (families, _skipped) = families(collect(registry), config);
    let mut out = Vec::new();
    for family in &families {
        for (labels, sample) in &family.series {
            series_of(&mut out, family, labels, sample, native, timestamp);
        }
    }
    WriteRequest { timeseries: out }
}

/// The float samples and histograms of a request (each counts one).
pub(crate) fn sample_count(request: &WriteRequest) -> u64 {
    request
        .timeseries
        .iter()
        .map(|s| (s.samples.len() + s.histograms.len()) as u64)
        .sum()
}

/// Appends the series of one perf-core series.
fn series_of(
    out: &mut Vec<TimeSeries>,
    family: &Family,
    labels: &Labels,
    sample: &Sample,
    native: bool,
    at: i64,
) {
    let name = &family.name;
    match (sample, &family.rendering) {
        (Sample::Counter(v), _) => {
            out.push(float(&format!("{name}_total"), labels, None, *v as f64, at))
        }
        (Sample::Gauge(v), _) => out.push(float(name, labels, None, *v, at)),
        (Sample::Histogram(s), Rendering::Buckets(bounds)) => {
            classic(out, name, labels, s, bounds, at);
            if native && family.kind == MetricKind::Histogram {
                out.push(native_series(name, labels, s, at));
            }
        }
        (Sample::Histogram(s), Rendering::Summary(quantiles)) => {
            summary(out, name, labels, s, quantiles, at)
        }
    }
}

/// `_bucket{le}` for each bound and `+Inf`, `_sum`, `_count`.
fn classic(
    out: &mut Vec<TimeSeries>,
    name: &str,
    labels: &Labels,
    s: &HistogramSnapshot,
    bounds: &[f64],
    at: i64,
) {
    let bucket = format!("{name}_bucket");
    for (&bound, count) in bounds.iter().zip(cumulative_counts(s, bounds)) {
        let le = ("le", format_float(bound, ExpositionFormat::Prometheus));
        out.push(float(&bucket, labels, Some(le), count as f64, at));
    }
    let inf = ("le", "+Inf".to_owned());
    out.push(float(&bucket, labels, Some(inf), s.count() as f64, at));
    sum_count(out, name, labels, s, at);
}

/// `{quantile}` for each quantile (nearest rank, NaN when empty), `_sum`, `_count`.
fn summary(
    out: &mut Vec<TimeSeries>,
    name: &str,
    labels: &Labels,
    s: &HistogramSnapshot,
    quantiles: &[f64],
    at: i64,
) {
    let percents: Vec<f64> = quantiles.iter().map(|q| q * 100.0).collect();
    let values = s
        .percentiles(&percents)
        .unwrap_or_else(|_| vec![f64::NAN; quantiles.len()]); // checked in the config
    for (&q, v) in quantiles.iter().zip(values) {
        let quantile = ("quantile", format_float(q, ExpositionFormat::Prometheus));
        out.push(float(name, labels, Some(quantile), v, at));
    }
    sum_count(out, name, labels, s, at);
}

fn sum_count(
    out: &mut Vec<TimeSeries>,
    name: &str,
    labels: &Labels,
    s: &HistogramSnapshot,
    at: i64,
) {
    out.push(float(&format!("{name}_sum"), labels, None, s.sum(), at));
    out.push(float(
        &format!("{name}_count"),
        labels,
        None,
        s.count() as f64,
        at,
    ));
}

/// The native histogram of `s` as the series `name`.
fn native_series(name: &str, labels: &Labels, s: &HistogramSnapshot, at: i64) -> TimeSeries {
    let native = NativeHistogram::from_snapshot(s);
    let histogram = Histogram {
        count: Some(histogram::Count::CountInt(native.count())),
        sum: native.sum(),
        schema: NATIVE_SCHEMA,
        zero_threshold: NATIVE_ZERO_THRESHOLD,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(native.zero_count())),
        positive_spans: native
            .spans()
            .iter()
            .map(|span| BucketSpan {
                offset: span.offset,
                length: span.length,
            })
            .collect(),
        positive_deltas: native.deltas().to_vec(),
        timestamp: at,
        ..Histogram::default()
    };
    TimeSeries {
        labels: label_set(name, labels, None),
        samples: Vec::new(),
        histograms: vec![histogram],
    }
}

/// One float sample.
fn float(
    name: &str,
    labels: &Labels,
    extra: Option<(&str, String)>,
    value: f64,
    at: i64,
) -> TimeSeries {
    TimeSeries {
        labels: label_set(name, labels, extra),
        samples: vec![PbSample {
            value,
            timestamp: at,
        }],
        histograms: Vec::new(),
    }
}

/// `__name__`, the series' labels and `extra`, sorted by name.
fn label_set(name: &str, labels: &Labels, extra: Option<(&str, String)>) -> Vec<Label> {
    let label = |name: &str, value: &str| Label {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    let mut out: Vec<Label> = labels.iter().map(|(n, v)| label(n, v)).collect();
    out.push(label("__name__", name));
    if let Some((n, v)) = extra {
        out.push(label(n, &v));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testing::{count, record, registry, set};

    fn names(series: &TimeSeries) -> Vec<(&str, &str)> {
        series
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    #[test]
    fn counters_gauges_and_histograms_become_sorted_series() {
        let r = registry();
        count(&r, "jobs.done", &[("Queue", "mail")], 7);
        set(&r, "depth", &[], 2.5);
        record(&r, "lat", &[("route", "/a")], &[0.0, 3.0, 20000.0]);
        let request = write_request(&r, &ExpositionConfig::new(), true, 1234);
        let all: Vec<Vec<(&str, &str)>> = request.timeseries.iter().map(names).collect();
        assert_eq!(all[0], [("__name__", "depth")]);
        // 'Q' sorts before '_': byte order, not `__name__` first.
        assert_eq!(all[1], [("Queue", "mail"), ("__name__", "jobs_done_total")]);
        assert_eq!(request.timeseries[1].samples[0].value, 7.0);
        assert_eq!(request.timeseries[1].samples[0].timestamp, 1234);
        // 13 bounds + +Inf, _sum, _count, then the native series.
        let lat = &request.timeseries[2..];
        assert_eq!(lat.len(), 17);
        assert_eq!(
            names(&lat[0]),
            [("__name__", "lat_bucket"), ("le", "1"), ("route", "/a")]
        );
        assert_eq!(lat[0].samples[0].value, 1.0);
        assert_eq!(
            names(&lat[13]),
            [("__name__", "lat_bucket"), ("le", "+Inf"), ("route", "/a")]
        );
        assert_eq!(lat[13].samples[0].value, 3.0);
        assert_eq!(lat[14].samples[0].value, 20003.0);
        assert_eq!(names(&lat[15])[0], ("__name__", "lat_count"));
        let h = &lat[16].histograms[0];
        assert_eq!(names(&lat[16]), [("__name__", "lat"), ("route", "/a")]);
        assert_eq!(h.count, Some(histogram::Count::CountInt(3)));
        assert_eq!(h.zero_count, Some(histogram::ZeroCount::ZeroCountInt(1)));
        assert_eq!((h.schema, h.sum, h.timestamp), (8, 20003.0, 1234));
        assert_eq!(h.positive_deltas.iter().sum::<i64>(), 1);
        assert_eq!(sample_count(&request), 2 + 16 + 1);
    }

    #[test]
    fn native_histograms_can_be_left_out_and_summaries_have_quantiles() {
        let r = registry();
        record(&r, "q", &[], &[1.0, 2.0]);
        let plain = write_request(&r, &ExpositionConfig::new(), false, 0);
        assert!(plain.timeseries.iter().all(|s| s.histograms.is_empty()));
        let config = ExpositionConfig::new().summary("q", &[0.5]).unwrap();
        let summary = write_request(&r, &config, true, 0);
        assert_eq!(summary.timeseries.len(), 3);
        assert_eq!(
            names(&summary.timeseries[0]),
            [("__name__", "q"), ("quantile", "0.5")]
        );
        assert!(summary.timeseries.iter().all(|s| s.histograms.is_empty()));
    }
}
