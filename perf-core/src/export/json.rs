//! JSON export: every series' statistics as one versioned document,
//! optionally with each histogram's buckets.
//!
//! # Document (format version 1)
//!
//! ```json
//! {
//!   "format": "perf-core-export",
//!   "format_version": 1,
//!   "timestamp_unix_nanos": 1700000000000000000,
//!   "series": [
//!     {"name": "db.query", "tags": {"table": "users"}, "kind": "histogram",
//!      "count": 2, "sum": 12.5, "min": 4.5, "max": 8.0, "mean": 6.25,
//!      "stddev": 1.75, "p50": 4.5, "p75": 8.0, "p90": 8.0, "p95": 8.0,
//!      "p99": 8.0, "p999": 8.0, "rejected": 0,
//!      "histogram": {"precision_bits": 7, "zero_count": 0,
//!                    "buckets": [[131216, 1], [131328, 1]]}},
//!     {"name": "jobs", "tags": {}, "kind": "counter", "value": 3},
//!     {"name": "queue.depth", "tags": {}, "kind": "gauge", "value": 2.5}
//!   ]
//! }
//! ```
//!
//! * `series` is sorted by name, then by the sorted tags.
//! * Statistics are cumulative (everything recorded so far), as
//!   [`crate::Monitor::stats`] reports them; NaN (an empty histogram's
//!   `min`, `mean`, percentiles…) is written as `null`.
//! * `histogram` is present only with [`JsonExportOptions::histograms`]:
//!   the bucket encoding of baseline files — `[key, count]` pairs, keys
//!   strictly increasing, key = perf-core's bucket index at
//!   `precision_bits`; values below 2^-64 counted in `zero_count`.
//!
//! `docs/export.md` describes every field.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::{exported_series, ExportedSeries, StatValue};
use crate::clock::Timestamp;
use crate::registry::Registry;

/// The `format` of JSON export documents.
pub const EXPORT_FORMAT: &str = "perf-core-export";
/// The JSON export format version this perf-core writes.
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// What [`crate::Monitor::export_json_with`] puts in the document.
///
/// ```
/// use perf_core::{JsonExportOptions, Monitor};
/// let monitor = Monitor::builder().build()?;
/// monitor.record("db.query", &[], 4.5)?;
/// let options = JsonExportOptions::new().histograms(true);
/// let doc: serde_json::Value = serde_json::from_str(&monitor.export_json_with(&options))?;
/// assert_eq!(doc["series"][0]["histogram"]["buckets"].as_array().unwrap().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonExportOptions {
    histograms: bool,
}

impl JsonExportOptions {
    /// The defaults: statistics only, no histograms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether each histogram series also carries its encoded histogram
    /// (`"histogram": {"precision_bits", "zero_count", "buckets"}`);
    /// default false.
    pub fn histograms(mut self, include: bool) -> Self {
        self.histograms = include;
        self
    }
}

/// The export document of every series of `registry` at `now`, pretty
/// printed.
pub(crate) fn export_json(
    registry: &Registry,
    now: Timestamp,
    options: &JsonExportOptions,
) -> String {
    let series = exported_series(registry);
    let doc = Document {
        format: EXPORT_FORMAT,
        format_version: EXPORT_FORMAT_VERSION,
        timestamp_unix_nanos: now.as_nanos(),
        series: series.iter().map(|s| SeriesDoc::of(s, options)).collect(),
    };
    serde_json::to_string_pretty(&doc).expect("export documents serialize")
}

/// The document, field for field.
#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    format_version: u32,
    timestamp_unix_nanos: u64,
    series: Vec<SeriesDoc<'a>>,
}

/// One entry of `series`: identity, then the statistics of its kind.
#[derive(Serialize)]
struct SeriesDoc<'a> {
    name: &'a str,
    tags: BTreeMap<&'a str, &'a str>,
    kind: String,
    #[serde(flatten)]
    stats: StatMap<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    histogram: Option<HistogramDoc<'a>>,
}

/// A histogram in the bucket encoding of baseline files.
#[derive(Serialize)]
struct HistogramDoc<'a> {
    precision_bits: u8,
    zero_count: u64,
    buckets: &'a [(u32, u64)],
}

/// The `(stat, value)` list, written as fields in its order.
struct StatMap<'a>(&'a [(&'static str, StatValue)]);

impl<'a> SeriesDoc<'a> {
    fn of(series: &'a ExportedSeries, options: &JsonExportOptions) -> Self {
        let histogram = series.snapshot.as_ref().filter(|_| options.histograms);
        SeriesDoc {
            name: series.key.name(),
            tags: series.key.tags().collect(),
            kind: series.kind.to_string(),
            stats: StatMap(&series.stats),
            histogram: histogram.map(|s| HistogramDoc {
                precision_bits: s.precision.bits(),
                zero_count: s.zero_count,
                buckets: &s.buckets,
            }),
        }
    }
}

impl Serialize for StatMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(stat, value)| (stat, value)))
    }
}

/// Integers as integers, finite numbers as numbers, NaN and ±∞ as `null`.
impl Serialize for StatValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            StatValue::Integer(n) => serializer.serialize_u64(n),
            StatValue::Number(v) if v.is_finite() => serializer.serialize_f64(v),
            StatValue::Number(_) => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::export::testing::{count, record, registry, set};

    fn doc(registry: &Registry, options: &JsonExportOptions) -> Value {
        serde_json::from_str(&export_json(registry, Timestamp::from_secs(5), options)).unwrap()
    }

    #[test]
    fn an_empty_registry_is_a_header_and_no_series() {
        let d = doc(&registry(), &JsonExportOptions::new());
        let expected = json!({"format": "perf-core-export", "format_version": 1,
            "timestamp_unix_nanos": 5_000_000_000u64, "series": []});
        assert_eq!(d, expected);
    }

    #[test]
    fn nan_statistics_are_null() {
        let r = registry();
        record(&r, "empty", &[], &[f64::NAN]);
        let s = &doc(&r, &JsonExportOptions::new())["series"][0];
        assert_eq!(
            (&s["count"], &s["sum"], &s["rejected"]),
            (&json!(0), &json!(0.0), &json!(1))
        );
        for stat in ["min", "max", "mean", "stddev", "p50", "p999"] {
            assert_eq!(s[stat], Value::Null, "{stat}");
        }
    }

    #[test]
    fn series_are_sorted_by_name_then_tags_with_their_kinds() {
        let r = registry();
        set(&r, "b", &[], -1.5);
        record(&r, "a", &[("x", "2")], &[1.0]);
        count(&r, "a2", &[], 7);
        record(&r, "a", &[("x", "1")], &[2.0]);
        let d = doc(&r, &JsonExportOptions::new());
        let order: Vec<(String, Value, String)> = d["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().into(),
                    s["tags"].clone(),
                    s["kind"].as_str().unwrap().into(),
                )
            })
            .collect();
        let expected = [
            ("a", json!({"x": "1"}), "histogram"),
            ("a", json!({"x": "2"}), "histogram"),
            ("a2", json!({}), "counter"),
            ("b", json!({}), "gauge"),
        ];
        let expected: Vec<(String, Value, String)> = expected
            .into_iter()
            .map(|(n, t, k)| (n.into(), t, k.into()))
            .collect();
        assert_eq!(order, expected);
        assert_eq!(d["series"][2]["value"], json!(7));
        assert_eq!(d["series"][3]["value"], json!(-1.5));
    }

    #[test]
    fn histograms_are_written_only_when_asked_for() {
        let r = registry();
        record(&r, "h", &[], &[0.0, 1.0, 1.0]);
        count(&r, "c", &[], 1);
        assert!(doc(&r, &JsonExportOptions::new())["series"][1]
            .get("histogram")
            .is_none());
        let d = doc(&r, &JsonExportOptions::new().histograms(true));
        assert!(
            d["series"][0].get("histogram").is_none(),
            "counters have none"
        );
        let h = &d["series"][1]["histogram"];
        assert_eq!(
            (&h["precision_bits"], &h["zero_count"]),
            (&json!(7), &json!(1))
        );
        let key = crate::bucket::Precision::DEFAULT.key_of_bits(1.0f64.to_bits());
        assert_eq!(h["buckets"], json!([[key, 2]]));
    }

    #[test]
    fn tag_values_are_escaped_as_json_strings() {
        let r = registry();
        count(&r, "c", &[("q", "say \"hi\", \\ ✓")], 1);
        let text = export_json(&r, Timestamp::ZERO, &JsonExportOptions::new());
        let d: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(d["series"][0]["tags"]["q"], "say \"hi\", \\ ✓");
    }
}
