//! Recording handles: `Histogram`, `Counter`, `Gauge`, and the `Timer`
//! context manager. A handle skips the name + tags lookup, so it is the
//! fast path for hot code.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use perf_core::{Counter, Gauge, Histogram, Monitor};
use pyo3::prelude::*;

use crate::convert::{count, real};
use crate::errors::{wrong_type, IntoPyResult};
use crate::stats::PyStats;

/// A histogram series: `record(value)`, `time()`, `stats()`.
#[pyclass(name = "Histogram", module = "perf_core._native", frozen)]
pub(crate) struct PyHistogram {
    pub(crate) inner: Histogram,
    pub(crate) monitor: Monitor,
}

#[pymethods]
impl PyHistogram {
    /// Records one value: a finite, non-negative real number.
    #[inline]
    fn record(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = real("value", value)?;
        self.inner.record(value).arg_err(py, "value")
    }

    /// Records `value` `n` times (a non-negative int), as `n` calls of
    /// `record` would.
    fn record_n(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        n: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let value = real("value", value)?;
        let n = count("n", n)?;
        self.inner.record_n(value, n).arg_err(py, "value")
    }

    /// Records every value of an iterable of real numbers in one call.
    /// Every valid value is recorded; invalid ones are counted in
    /// `rejected`, and the first is raised after the rest are recorded.
    fn record_many(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let items = values
            .try_iter()
            .map_err(|_| wrong_type(py, "values", "an iterable of real numbers", values))?;
        let mut batch = Vec::with_capacity(values.len().unwrap_or(0));
        for (i, item) in items.enumerate() {
            let item = item?;
            let value = item
                .extract::<f64>()
                .map_err(|_| wrong_type(py, &format!("values[{i}]"), "a real number", &item))?;
            batch.push(value);
        }
        let h = &self.inner;
        py.detach(|| h.record_many(&batch)).arg_err(py, "values")
    }

    /// A context manager that records the elapsed milliseconds on exit.
    fn time(&self) -> PyTimer {
        PyTimer::new(self.inner.clone(), self.monitor.clone())
    }

    /// Cumulative statistics of everything recorded so far.
    fn stats(&self, py: Python<'_>) -> PyStats {
        let h = &self.inner;
        PyStats::new(py.detach(|| h.stats()))
    }

    /// Number of values refused by `record`.
    #[getter]
    fn rejected(&self) -> u64 {
        self.inner.rejected()
    }

    fn __repr__(&self) -> String {
        format!("Histogram(count={})", self.inner.snapshot().count())
    }
}

/// A monotonic counter series: `inc(n)`, `value`.
#[pyclass(name = "Counter", module = "perf_core._native", frozen)]
pub(crate) struct PyCounter {
    pub(crate) inner: Counter,
}

#[pymethods]
impl PyCounter {
    /// Adds `n` (a non-negative int, default 1).
    #[pyo3(signature = (n = None))]
    #[inline]
    fn inc(&self, n: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let n = match n {
            Some(n) => count("n", n)?,
            None => 1,
        };
        self.inner.increment(n);
        Ok(())
    }

    /// The current count.
    #[getter]
    fn value(&self) -> u64 {
        self.inner.value()
    }

    fn __repr__(&self) -> String {
        format!("Counter(value={})", self.inner.value())
    }
}

/// A gauge series: a value that goes up and down.
#[pyclass(name = "Gauge", module = "perf_core._native", frozen)]
pub(crate) struct PyGauge {
    pub(crate) inner: Gauge,
}

#[pymethods]
impl PyGauge {
    /// Sets the value (any finite real number).
    #[inline]
    fn set(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = real("value", value)?;
        self.inner.set(value).arg_err(py, "value")
    }

    /// Adds `delta` (may be negative) to the value.
    fn add(&self, py: Python<'_>, delta: &Bound<'_, PyAny>) -> PyResult<()> {
        let delta = real("delta", delta)?;
        self.inner.add(delta).arg_err(py, "delta")
    }

    /// The current value.
    #[getter]
    fn value(&self) -> f64 {
        self.inner.value()
    }

    fn __repr__(&self) -> String {
        format!("Gauge(value={})", self.inner.value())
    }
}

/// Marks a timer that has not been entered.
const NOT_STARTED: u64 = u64::MAX;

/// Times a `with` block on the monitor's clock and records the elapsed
/// milliseconds into its histogram on exit, also when the block raises.
/// One timer can be entered again after it exits.
#[pyclass(name = "Timer", module = "perf_core._native", frozen)]
pub(crate) struct PyTimer {
    histogram: Histogram,
    monitor: Monitor,
    /// Start, in nanoseconds on the monitor's clock.
    start: AtomicU64,
    /// Last elapsed time, in nanoseconds.
    elapsed: AtomicU64,
}

impl PyTimer {
    pub(crate) fn new(histogram: Histogram, monitor: Monitor) -> Self {
        PyTimer {
            histogram,
            monitor,
            start: AtomicU64::new(NOT_STARTED),
            elapsed: AtomicU64::new(0),
        }
    }
}

#[pymethods]
impl PyTimer {
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        let timer = slf.get();
        let now = timer.monitor.now().as_nanos();
        timer.start.store(now, Ordering::Relaxed);
        slf
    }

    #[inline]
    fn __exit__(
        &self,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        let start = self.start.swap(NOT_STARTED, Ordering::Relaxed);
        if start != NOT_STARTED {
            let elapsed = self.monitor.now().as_nanos().saturating_sub(start);
            self.elapsed.store(elapsed, Ordering::Relaxed);
            // A duration is finite, non-negative and below 2^64 ms.
            let _ = self
                .histogram
                .record_duration(Duration::from_nanos(elapsed));
        }
        false
    }

    /// Milliseconds the last completed `with` block took (0.0 before).
    #[getter]
    fn elapsed_ms(&self) -> f64 {
        self.elapsed.load(Ordering::Relaxed) as f64 / 1e6
    }
}
