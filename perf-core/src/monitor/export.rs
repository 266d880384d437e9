//! JSON and CSV exports of a monitor: [`crate::export::json`] and
//! [`crate::export::csv`] over its registry, at the clock's now.

use base64::prelude::{Engine, BASE64_STANDARD};

use super::Monitor;
use crate::export::csv::export_csv;
use crate::export::format::ExportFormat;
use crate::export::json::{export_json, JsonExportOptions};

/// Exports: JSON and CSV documents of every series.
impl Monitor {
    /// The whole monitor in `format`: what [`Monitor::export_prometheus`],
    /// [`Monitor::export_openmetrics`], [`Monitor::export_json`] or
    /// [`Monitor::export_csv`] return; serve it with
    /// [`ExportFormat::content_type`]. [`ExportFormat::Protobuf`] is
    /// binary: it comes back as the standard base64 (padded) of
    /// [`Monitor::export_protobuf`]'s bytes, which is what to serve.
    ///
    /// ```
    /// use perf_core::{ExportFormat, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("api", &[], 12.0)?;
    /// let format: ExportFormat = "csv".parse()?;
    /// assert_eq!(monitor.export(format), monitor.export_csv());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export(&self, format: ExportFormat) -> String {
        match format {
            ExportFormat::Prometheus => self.export_prometheus(),
            ExportFormat::OpenMetrics => self.export_openmetrics(),
            ExportFormat::Json => self.export_json(),
            ExportFormat::Csv => self.export_csv(),
            ExportFormat::Protobuf => BASE64_STANDARD.encode(self.export_protobuf()),
        }
    }

    /// Every series' cumulative statistics as a versioned JSON document
    /// (format `perf-core-export`, version 1; see `docs/export.md`), taken at
    /// the clock's now, without histograms. Series are sorted by name then
    /// tags; values that do not exist (an empty histogram's percentiles) are
    /// `null`.
    ///
    /// ```
    /// use perf_core::{ManualClock, Monitor, Timestamp};
    /// let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
    /// let monitor = Monitor::builder().clock(clock).build()?;
    /// monitor.record("db.query", &[("table", "users")], 4.5)?;
    /// monitor.counter("jobs", &[])?.increment(3);
    /// let doc: serde_json::Value = serde_json::from_str(&monitor.export_json())?;
    /// assert_eq!(doc["format"], "perf-core-export");
    /// assert_eq!(doc["timestamp_unix_nanos"], 1_700_000_000_000_000_000u64);
    /// assert_eq!(doc["series"][0]["tags"]["table"], "users");
    /// assert_eq!(doc["series"][0]["p99"], 4.5);
    /// assert_eq!(doc["series"][1]["value"], 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_json(&self) -> String {
        self.export_json_with(&JsonExportOptions::new())
    }

    /// [`Monitor::export_json`] with `options`: with
    /// [`JsonExportOptions::histograms`], each histogram series also carries
    /// its buckets.
    ///
    /// ```
    /// use perf_core::{JsonExportOptions, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("db.query", &[], 4.5)?;
    /// monitor.record("db.query", &[], 0.0)?;
    /// let json = monitor.export_json_with(&JsonExportOptions::new().histograms(true));
    /// let doc: serde_json::Value = serde_json::from_str(&json)?;
    /// let histogram = &doc["series"][0]["histogram"];
    /// assert_eq!(histogram["precision_bits"], 7);
    /// assert_eq!(histogram["zero_count"], 1);
    /// assert_eq!(histogram["buckets"][0][1], 1); // [key, count]
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_json_with(&self, options: &JsonExportOptions) -> String {
        export_json(&self.view(), self.now(), options)
    }

    /// Every series' cumulative statistics as CSV: a header
    /// `timestamp,metric,tags,stat,value`, then one row per series and
    /// statistic, sorted by metric then tags. The timestamp is the clock's
    /// now in RFC 3339 UTC with milliseconds; tags are `k=v;k2=v2` with `\`
    /// and `;` in values escaped by `\`; fields with `,`, `"` or line breaks
    /// are quoted (RFC 4180); no value is an empty field. See
    /// `docs/export.md`.
    ///
    /// ```
    /// use perf_core::{ManualClock, Monitor, Timestamp};
    /// let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
    /// let monitor = Monitor::builder().clock(clock).build()?;
    /// monitor.counter("jobs", &[("queue", "mail"), ("host", "a,b")])?.increment(3);
    /// assert_eq!(
    ///     monitor.export_csv(),
    ///     "timestamp,metric,tags,stat,value\n\
    ///      2023-11-14T22:13:20.000Z,jobs,\"host=a,b;queue=mail\",value,3\n"
    /// );
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_csv(&self) -> String {
        export_csv(&self.view(), self.now())
    }
}
