//! Baselines of a monitor: [`crate::baseline`] over its histogram series.

use super::Monitor;
use crate::baseline::Baseline;
use crate::registry::Metric;

/// Regression detection: baselines.
impl Monitor {
    /// A baseline of `version` from every histogram series as recorded so
    /// far (cumulative, not a window), taken at the clock's now. Metadata
    /// `perf_core` records the library version; add your own (commit,
    /// host) with [`Baseline::with_metadata`]. Save it with
    /// [`Baseline::save`], compare with [`crate::compare`].
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("db.query", &[("table", "users")], 4.2)?;
    /// monitor.counter("jobs", &[])?.increment(1); // counters are not in baselines
    /// let baseline = monitor.baseline("v3.1.0").with_metadata("commit", "9c1d2e7");
    /// assert_eq!(baseline.series.len(), 1);
    /// assert_eq!(baseline.get("db.query", &[("table", "users")]).unwrap().snapshot.count(), 1);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn baseline(&self, version: impl Into<String>) -> Baseline {
        let mut baseline = Baseline::new(version, self.now())
            .with_metadata("perf_core", env!("CARGO_PKG_VERSION"));
        self.view().for_each(|key, series| {
            if let Metric::Histogram(core) = &series.metric {
                baseline.add(key.clone(), core.snapshot());
            }
        });
        baseline
    }
}
