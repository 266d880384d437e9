//! Prometheus and OpenMetrics exposition of a monitor:
//! [`crate::export::exposition`] and [`crate::export::protobuf`] over its
//! registry.

use super::Monitor;
use crate::export::exposition::{self, Exposition, ExpositionConfig, ExpositionFormat};
use crate::export::protobuf;

/// Export: Prometheus text exposition 0.0.4, OpenMetrics 1.0 and the
/// Prometheus protobuf exposition.
impl Monitor {
    /// Every series in the Prometheus text exposition format 0.0.4, with
    /// the default [`ExpositionConfig`]: serve it with
    /// [`ExpositionFormat::content_type`] from a `/metrics` endpoint. See
    /// `docs/export.md` for names, units, buckets and collisions.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// monitor.counter("jobs.done", &[("queue", "mail")])?.increment(3);
    /// let text = monitor.export_prometheus();
    /// assert!(text.contains("# TYPE jobs_done_total counter\n"));
    /// assert!(text.contains("jobs_done_total{queue=\"mail\"} 3\n"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_prometheus(&self) -> String {
        self.export_prometheus_with(&ExpositionConfig::new())
    }

    /// [`Self::export_prometheus`] with global labels, help texts, units
    /// and histogram layouts from `config`.
    pub fn export_prometheus_with(&self, config: &ExpositionConfig) -> String {
        self.exposition(ExpositionFormat::Prometheus, config).text
    }

    /// Every series in the OpenMetrics 1.0 text format, with the default
    /// [`ExpositionConfig`]; the document ends with `# EOF`.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// monitor.counter("jobs.done", &[])?.increment(3);
    /// let text = monitor.export_openmetrics();
    /// assert!(text.contains("# TYPE jobs_done counter\njobs_done_total 3\n"));
    /// assert!(text.ends_with("# EOF\n"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_openmetrics(&self) -> String {
        self.export_openmetrics_with(&ExpositionConfig::new())
    }

    /// [`Self::export_openmetrics`] with global labels, help texts, units
    /// and histogram layouts from `config`.
    pub fn export_openmetrics_with(&self, config: &ExpositionConfig) -> String {
        self.exposition(ExpositionFormat::OpenMetrics, config).text
    }

    /// The exposition in `format`, with the list of metrics left out
    /// because their exported names collided with an earlier metric's.
    ///
    /// ```
    /// use perf_core::{ExpositionConfig, ExpositionFormat, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("api.latency", &[], 3.0)?;
    /// let out = monitor.exposition(ExpositionFormat::OpenMetrics, &ExpositionConfig::new());
    /// assert!(out.skipped.is_empty());
    /// assert!(out.text.contains("api_latency_count 1\n"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn exposition(&self, format: ExpositionFormat, config: &ExpositionConfig) -> Exposition {
        exposition::render(&self.view(), config, format)
    }

    /// Every series in the Prometheus protobuf exposition, with the default
    /// [`ExpositionConfig`]: length-delimited `io.prometheus.client.MetricFamily`
    /// messages ([`crate::client_model`]), to serve with
    /// [`crate::ExportFormat::Protobuf`]'s content type. Histograms carry
    /// both their classic buckets (as in the text exposition) and a native
    /// histogram ([`crate::NativeHistogram`]: schema 8, quantiles within
    /// 0.66 % at the default precision); names, labels and collisions are
    /// the text exposition's. See `docs/export.md`.
    ///
    /// ```
    /// use perf_core::client_model::MetricFamily;
    /// use perf_core::Monitor;
    /// use prost::Message;
    ///
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("api.latency", &[("route", "/login")], 12.0)?;
    /// let bytes = monitor.export_protobuf();
    /// let family = MetricFamily::decode_length_delimited(&bytes[..]).unwrap();
    /// assert_eq!(family.name(), "api_latency");
    /// let histogram = family.metric[0].histogram.as_ref().unwrap();
    /// assert_eq!((histogram.sample_count(), histogram.schema()), (1, 8));
    /// assert_eq!(histogram.bucket.len(), 13); // the classic bounds, 1 to 10000
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_protobuf(&self) -> Vec<u8> {
        self.export_protobuf_with(&ExpositionConfig::new())
    }

    /// [`Self::export_protobuf`] with global labels, help texts, units and
    /// histogram layouts from `config` (the classic buckets use its bounds;
    /// a histogram configured as a summary is a summary).
    ///
    /// ```
    /// use perf_core::client_model::MetricFamily;
    /// use perf_core::{ExpositionConfig, Monitor};
    /// use prost::Message;
    ///
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("api.latency", &[], 12.0)?;
    /// let config = ExpositionConfig::new().buckets("api.latency", &[10.0, 100.0])?;
    /// let bytes = monitor.export_protobuf_with(&config);
    /// let family = MetricFamily::decode_length_delimited(&bytes[..]).unwrap();
    /// let buckets = &family.metric[0].histogram.as_ref().unwrap().bucket;
    /// assert_eq!((buckets[1].upper_bound(), buckets[1].cumulative_count()), (100.0, 1));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_protobuf_with(&self, config: &ExpositionConfig) -> Vec<u8> {
        protobuf::render(&self.view(), config).0
    }
}
