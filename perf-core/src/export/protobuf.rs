//! The Prometheus protobuf exposition: a stream of length-delimited
//! `io.prometheus.client.MetricFamily` messages ([`super::client_model`]),
//! the format Prometheus asks for first when its native histograms are on.
//!
//! The families are the text exposition's ([`super::exposition::families`]:
//! the same names, labels, help texts, units, order and collision rules);
//! only the encoding differs:
//!
//! * a counter family is named with its `_total` (as client_golang names
//!   it; Prometheus takes the name as is), its value a `double`;
//! * a histogram carries both its classic buckets (the bounds the text
//!   exposition uses, from the same [`ExpositionConfig`], without the
//!   implied `+Inf`) and its native histogram ([`NativeHistogram`]), so a
//!   scraper that ignores the native fields still reads the classic ones;
//! * a histogram configured as a summary is a `SUMMARY`;
//! * the help text is written as is (no escaping), the unit in
//!   `MetricFamily.unit` when one is configured.
//!
//! Invariant: the output is the concatenation, in family order, of each
//! `MetricFamily` prefixed by its length as a varint; the same monitor
//! gives the same bytes.

use prost::Message;

use super::client_model as pb;
use super::exposition::{
    cumulative_counts, families, Family, Labels, Rendering, Sample, SkippedMetric,
};
use super::native::{NativeHistogram, NATIVE_SCHEMA, NATIVE_ZERO_THRESHOLD};
use crate::error::MetricKind;
use crate::export::exposition::{collect, ExpositionConfig};
use crate::registry::Registry;
use crate::series::SeriesKey;
use crate::snapshot::HistogramSnapshot;

/// The media type of the delimited protobuf exposition, as Prometheus
/// names it in `Accept`.
pub(crate) const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// Every series of `registry` as delimited `MetricFamily` messages, and the
/// metrics left out because their names collide.
pub(crate) fn render(
    registry: &Registry,
    config: &ExpositionConfig,
) -> (Vec<u8>, Vec<SkippedMetric>) {
    render_samples(collect(registry), config)
}

/// [`render`] over series already read.
pub(crate) fn render_samples(
    samples: Vec<(SeriesKey, Sample)>,
    config: &ExpositionConfig,
) -> (Vec<u8>, Vec<SkippedMetric>) {
    let (families, skipped) = families(samples, config);
    let mut out = Vec::new();
    for family in &families {
        metric_family(family)
            .encode_length_delimited(&mut out)
            .expect("a Vec grows as needed");
    }
    (out, skipped)
}

/// One family as a message.
fn metric_family(family: &Family) -> pb::MetricFamily {
    let (name, kind) = match (family.kind, &family.rendering) {
        (MetricKind::Counter, _) => (format!("{}_total", family.name), pb::MetricType::Counter),
        (MetricKind::Gauge, _) => (family.name.clone(), pb::MetricType::Gauge),
        (MetricKind::Histogram, Rendering::Buckets(_)) => {
            (family.name.clone(), pb::MetricType::Histogram)
        }
        (MetricKind::Histogram, Rendering::Summary(_)) => {
            (family.name.clone(), pb::MetricType::Summary)
        }
    };
    pb::MetricFamily {
        name: Some(name),
        help: Some(family.help.clone()),
        r#type: Some(kind as i32),
        metric: family
            .series
            .iter()
            .map(|(labels, sample)| metric(labels, sample, &family.rendering))
            .collect(),
        unit: family.unit.clone(),
    }
}

/// One series as a message.
fn metric(labels: &Labels, sample: &Sample, rendering: &Rendering) -> pb::Metric {
    let mut metric = pb::Metric {
        label: labels
            .iter()
            .map(|(name, value)| pb::LabelPair {
                name: Some(name.clone()),
                value: Some(value.clone()),
            })
            .collect(),
        ..pb::Metric::default()
    };
    match (sample, rendering) {
        (Sample::Counter(v), _) => {
            metric.counter = Some(pb::Counter {
                value: Some(*v as f64),
                ..pb::Counter::default()
            });
        }
        (Sample::Gauge(v), _) => metric.gauge = Some(pb::Gauge { value: Some(*v) }),
        (Sample::Histogram(s), Rendering::Buckets(bounds)) => {
            metric.histogram = Some(histogram(s, bounds));
        }
        (Sample::Histogram(s), Rendering::Summary(qs)) => metric.summary = Some(summary(s, qs)),
    }
    metric
}

/// A histogram with its classic buckets at `bounds` and its native buckets.
fn histogram(snapshot: &HistogramSnapshot, bounds: &[f64]) -> pb::Histogram {
    let classic = bounds
        .iter()
        .zip(cumulative_counts(snapshot, bounds))
        .map(|(&bound, count)| pb::Bucket {
            cumulative_count: Some(count),
            upper_bound: Some(bound),
            ..pb::Bucket::default()
        })
        .collect();
    let native = NativeHistogram::from_snapshot(snapshot);
    pb::Histogram {
        sample_count: Some(native.count()),
        sample_sum: Some(native.sum()),
        bucket: classic,
        schema: Some(NATIVE_SCHEMA),
        zero_threshold: Some(NATIVE_ZERO_THRESHOLD),
        zero_count: Some(native.zero_count()),
        positive_span: native
            .spans()
            .iter()
            .map(|span| pb::BucketSpan {
                offset: Some(span.offset),
                length: Some(span.length),
            })
            .collect(),
        positive_delta: native.deltas().to_vec(),
        ..pb::Histogram::default()
    }
}

/// A summary with nearest-rank quantiles (NaN when empty), as the text
/// exposition writes it.
fn summary(snapshot: &HistogramSnapshot, quantiles: &[f64]) -> pb::Summary {
    let percents: Vec<f64> = quantiles.iter().map(|q| q * 100.0).collect();
    let values = snapshot
        .percentiles(&percents)
        .unwrap_or_else(|_| vec![f64::NAN; quantiles.len()]); // checked in the config
    pb::Summary {
        sample_count: Some(snapshot.count()),
        sample_sum: Some(snapshot.sum()),
        quantile: quantiles
            .iter()
            .zip(values)
            .map(|(&q, v)| pb::Quantile {
                quantile: Some(q),
                value: Some(v),
            })
            .collect(),
        ..pb::Summary::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::Precision;

    fn key(name: &str, tags: &[(&str, &str)]) -> SeriesKey {
        SeriesKey::detached(name, tags)
    }

    fn hist(values: &[f64]) -> Sample {
        Sample::Histogram(HistogramSnapshot::from_values(Precision::DEFAULT, values).unwrap())
    }

    fn decode(mut bytes: &[u8]) -> Vec<pb::MetricFamily> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            out.push(pb::MetricFamily::decode_length_delimited(&mut bytes).unwrap());
        }
        out
    }

    fn families_of(
        samples: Vec<(SeriesKey, Sample)>,
        config: &ExpositionConfig,
    ) -> Vec<pb::MetricFamily> {
        decode(&render_samples(samples, config).0)
    }

    #[test]
    fn counters_gauges_and_histograms_have_their_types_and_values() {
        let samples = vec![
            (key("jobs.done", &[("queue", "mail")]), Sample::Counter(42)),
            (key("queue.depth", &[]), Sample::Gauge(3.5)),
            (
                key("lat", &[("route", "/a")]),
                hist(&[0.0, 0.5, 3.0, 20000.0]),
            ),
        ];
        let out = families_of(samples, &ExpositionConfig::new());
        let names: Vec<&str> = out.iter().map(|f| f.name()).collect();
        assert_eq!(names, ["jobs_done_total", "lat", "queue_depth"]);
        assert_eq!(out[0].r#type(), pb::MetricType::Counter);
        assert_eq!(out[0].help(), "perf-core counter jobs.done");
        let label = &out[0].metric[0].label[0];
        assert_eq!((label.name(), label.value()), ("queue", "mail"));
        assert_eq!(out[0].metric[0].counter.as_ref().unwrap().value(), 42.0);
        assert_eq!(out[2].metric[0].gauge.as_ref().unwrap().value(), 3.5);

        let h = out[1].metric[0].histogram.as_ref().unwrap();
        assert_eq!(out[1].r#type(), pb::MetricType::Histogram);
        assert_eq!((h.sample_count(), h.sample_sum()), (4, 20003.5));
        let classic: Vec<(f64, u64)> = h
            .bucket
            .iter()
            .map(|b| (b.upper_bound(), b.cumulative_count()))
            .collect();
        assert_eq!(classic.len(), 13, "no +Inf bucket: {classic:?}");
        assert_eq!(classic[0], (1.0, 2));
        assert_eq!(classic[2], (5.0, 3));
        assert_eq!(classic[12], (10000.0, 3));
        assert_eq!((h.schema(), h.zero_threshold()), (8, crate::MIN_BUCKETED));
        assert_eq!(h.zero_count(), 1);
        assert_eq!(absolute_counts(&h.positive_delta), [1, 1, 1]);
        let native_total: i64 = absolute_counts(&h.positive_delta).iter().sum();
        assert_eq!(native_total as u64 + h.zero_count(), h.sample_count());
        assert_eq!(h.positive_span.len(), 3);
    }

    fn absolute_counts(deltas: &[i64]) -> Vec<i64> {
        let mut running = 0;
        deltas
            .iter()
            .map(|d| {
                running += d;
                running
            })
            .collect()
    }

    #[test]
    fn names_labels_help_units_and_collisions_follow_the_text_exposition() {
        let samples = vec![
            (key("db.query", &[]), hist(&[0.002])),
            (key("db_query", &[]), Sample::Gauge(1.0)),
            (key("g", &[("zone", "b")]), Sample::Gauge(1.0)),
        ];
        let config = ExpositionConfig::new()
            .unit("db.query", "seconds")
            .unwrap()
            .help("g", "Line one\nline \"two\"")
            .global_label("env", "prod")
            .unwrap();
        let (bytes, skipped) = render_samples(samples, &config);
        assert!(skipped.is_empty(), "{skipped:?}"); // the unit sets them apart
        let out = decode(&bytes);
        assert_eq!(out[0].name(), "db_query");
        assert_eq!(out[1].name(), "db_query_seconds");
        assert_eq!(out[1].unit.as_deref(), Some("seconds"));
        let h = out[1].metric[0].histogram.as_ref().unwrap();
        assert_eq!(h.bucket[1].upper_bound(), 0.0025);
        assert_eq!(h.bucket[1].cumulative_count(), 1);
        assert_eq!(out[2].help(), "Line one\nline \"two\"");
        let labels: Vec<(&str, &str)> = out[2].metric[0]
            .label
            .iter()
            .map(|l| (l.name(), l.value()))
            .collect();
        assert_eq!(labels, [("env", "prod"), ("zone", "b")]);

        let colliding = vec![
            (key("a.b", &[]), Sample::Gauge(1.0)),
            (key("a_b", &[]), Sample::Gauge(2.0)),
        ];
        let (bytes, skipped) = render_samples(colliding, &ExpositionConfig::new());
        assert_eq!(skipped[0].metric, "a_b");
        assert_eq!(decode(&bytes).len(), 1);
    }

    #[test]
    fn summaries_are_summaries() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let config = ExpositionConfig::new().summary("q", &[0.5, 1.0]).unwrap();
        let out = families_of(vec![(key("q", &[]), hist(&values))], &config);
        assert_eq!(out[0].r#type(), pb::MetricType::Summary);
        let s = out[0].metric[0].summary.as_ref().unwrap();
        assert_eq!((s.sample_count(), s.sample_sum()), (100, 5050.0));
        assert_eq!(s.quantile[1].quantile(), 1.0);
        assert_eq!(s.quantile[1].value(), 100.0); // the max, exact
    }

    #[test]
    fn an_empty_histogram_is_still_native_and_an_empty_registry_writes_nothing() {
        let empty = Sample::Histogram(HistogramSnapshot::empty(Precision::DEFAULT));
        let out = families_of(vec![(key("e", &[]), empty)], &ExpositionConfig::new());
        let h = out[0].metric[0].histogram.as_ref().unwrap();
        assert_eq!(h.sample_count(), 0);
        // A zero threshold above 0 marks it native (no no-op span needed).
        assert!(h.zero_threshold() > 0.0 && h.positive_span.is_empty());
        assert!(render_samples(Vec::new(), &ExpositionConfig::new())
            .0
            .is_empty());
    }

    #[test]
    fn the_deltas_are_written_unpacked_as_proto2_declares_them() {
        let h = pb::Histogram {
            positive_delta: vec![1, -1],
            ..pb::Histogram::default()
        };
        // Field 13, wire type 0 (varint), once per element; zigzag 1 = 2, -1 = 1.
        assert_eq!(h.encode_to_vec(), [13 << 3, 2, 13 << 3, 1]);
    }
}
