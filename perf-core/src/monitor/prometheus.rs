//! Prometheus and OpenMetrics exposition of a monitor:
//! [`crate::export::exposition`] over its registry.

use super::Monitor;
use crate::export::exposition::{self, Exposition, ExpositionConfig, ExpositionFormat};

/// Export: Prometheus text exposition 0.0.4 and OpenMetrics 1.0.
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
}
