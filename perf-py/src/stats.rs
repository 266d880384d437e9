//! `Stats`: the summary of a histogram series, cumulative or over a window.

use perf_core::Stats;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;

/// Summary statistics of a histogram series: count, sum, min, max, mean,
/// stddev, p50 … p99.9 as attributes, any other percentile with
/// `percentile(q)`. An empty series has count 0, sum 0 and NaN elsewhere.
#[pyclass(name = "Stats", module = "perf_core._native", frozen)]
pub(crate) struct PyStats {
    inner: Stats,
}

impl PyStats {
    pub(crate) fn new(inner: Stats) -> Self {
        PyStats { inner }
    }
}

/// The attributes `to_dict()` lists, in order.
const FIELDS: [&str; 13] = [
    "count", "sum", "min", "max", "mean", "stddev", "p50", "p75", "p90", "p95", "p99", "p999",
    "rejected",
];

#[pymethods]
impl PyStats {
    /// Number of values.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count
    }
    /// Sum of the values.
    #[getter]
    fn sum(&self) -> f64 {
        self.inner.sum
    }
    /// Smallest value.
    #[getter]
    fn min(&self) -> f64 {
        self.inner.min
    }
    /// Largest value.
    #[getter]
    fn max(&self) -> f64 {
        self.inner.max
    }
    /// Arithmetic mean.
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean
    }
    /// Population standard deviation.
    #[getter]
    fn stddev(&self) -> f64 {
        self.inner.stddev
    }
    /// Median.
    #[getter]
    fn p50(&self) -> f64 {
        self.inner.p50
    }
    /// 75th percentile.
    #[getter]
    fn p75(&self) -> f64 {
        self.inner.p75
    }
    /// 90th percentile.
    #[getter]
    fn p90(&self) -> f64 {
        self.inner.p90
    }
    /// 95th percentile.
    #[getter]
    fn p95(&self) -> f64 {
        self.inner.p95
    }
    /// 99th percentile.
    #[getter]
    fn p99(&self) -> f64 {
        self.inner.p99
    }
    /// 99.9th percentile.
    #[getter]
    fn p999(&self) -> f64 {
        self.inner.p999
    }
    /// Values refused (NaN, infinite, negative, too large) since the series
    /// was created; never part of the other fields.
    #[getter]
    fn rejected(&self) -> u64 {
        self.inner.rejected
    }

    /// Any percentile `q` in [0, 100]; NaN for an empty series.
    fn percentile(&self, py: Python<'_>, q: &Bound<'_, PyAny>) -> PyResult<f64> {
        let q = crate::convert::real("q", q)?;
        self.inner.percentile(q).arg_err(py, "q")
    }

    /// Whether no value was recorded.
    fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The attributes as a dict.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(slf.py());
        for field in FIELDS {
            dict.set_item(field, slf.getattr(field)?)?;
        }
        Ok(dict)
    }

    fn __len__(&self) -> usize {
        usize::try_from(self.inner.count).unwrap_or(usize::MAX)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyStats>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Stats(count={}, sum={}, min={}, max={}, mean={}, p50={}, p95={}, p99={})",
            s.count, s.sum, s.min, s.max, s.mean, s.p50, s.p95, s.p99
        )
    }
}
