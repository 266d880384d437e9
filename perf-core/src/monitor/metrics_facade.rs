//! The `metrics` facade over a monitor (feature `metrics`):
//! [`crate::export::metrics_facade`]'s recorder, fed by the monitor's
//! series.

use std::sync::Arc;

use super::Monitor;
use crate::counter::Counter;
use crate::error::{PerfError, Result};
use crate::export::metrics_facade::{
    PerfCoreRecorder, SeriesSource, METRICS_ADAPTER_ERRORS_COUNTER,
};
use crate::gauge::Gauge;
use crate::histogram::Histogram;
use crate::series::Tag;

/// Export: the `metrics` crate's macros recording into the monitor.
impl Monitor {
    /// A [`metrics::Recorder`] that records `counter!`, `gauge!` and
    /// `histogram!` into this monitor's series, labels as tags (see
    /// [`PerfCoreRecorder`]). It holds a clone of the monitor. Use it with
    /// `metrics::with_local_recorder`, or install it globally with
    /// [`Self::install_metrics_recorder`]. Needs the `metrics` feature.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let recorder = monitor.metrics_recorder();
    /// metrics::with_local_recorder(&recorder, || {
    ///     metrics::counter!("jobs_total", "queue" => "mail").increment(2);
    /// });
    /// assert_eq!(monitor.counter("jobs_total", &[("queue", "mail")])?.value(), 2);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn metrics_recorder(&self) -> PerfCoreRecorder {
        PerfCoreRecorder::new(Arc::new(self.clone()))
    }

    /// Installs [`Self::metrics_recorder`] as the process-wide `metrics`
    /// recorder, for the rest of the process (it keeps the monitor alive).
    /// Errors with [`PerfError::InvalidConfig`] if a global recorder is
    /// already installed; the existing one stays.
    pub fn install_metrics_recorder(&self) -> Result<()> {
        metrics::set_global_recorder(self.metrics_recorder()).map_err(|_| {
            PerfError::InvalidConfig("a global `metrics` recorder is already installed".into())
        })
    }
}

/// The monitor's series, as the recorder asks for them.
impl SeriesSource for Monitor {
    fn counter(&self, name: &str, tags: &[Tag<'_>]) -> Result<Counter> {
        Monitor::counter(self, name, tags)
    }

    fn gauge(&self, name: &str, tags: &[Tag<'_>]) -> Result<Gauge> {
        Monitor::gauge(self, name, tags)
    }

    fn histogram(&self, name: &str, tags: &[Tag<'_>]) -> Result<Histogram> {
        Monitor::histogram(self, name, tags)
    }

    fn adapter_errors(&self) -> Counter {
        let registry = &self.inner.registry;
        Counter {
            core: registry.internal_counter(METRICS_ADAPTER_ERRORS_COUNTER, &[]),
        }
    }
}
