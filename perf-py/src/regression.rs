//! Regression detection: `Baseline` (capture, save, load, merge runs),
//! `Policy`, `compare` and its `RegressionReport`.

use std::path::PathBuf;

use perf_core::{compare, Baseline, Policy, RegressionReport, Statistic};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{json_loads, seconds, Tags};
use crate::errors::{invalid_argument, IntoPyResult};
use crate::records;
use crate::stats::PyStats;

/// Per series, the full histogram and summary statistics of a run, with a
/// version, a creation time and metadata. Save it with `save(path)`
/// (atomic), read it back with `Baseline.load(path)`.
#[pyclass(name = "Baseline", module = "perf_core._native", frozen)]
pub(crate) struct PyBaseline {
    pub(crate) inner: Baseline,
}

#[pymethods]
impl PyBaseline {
    /// The version it was captured as.
    #[getter]
    fn version(&self) -> &str {
        &self.inner.version
    }

    /// When it was captured, in seconds on the monitor's clock.
    #[getter]
    fn created(&self) -> f64 {
        seconds(self.inner.created)
    }

    /// Metadata (the perf_core version, and whatever was added).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in &self.inner.metadata {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// The series it holds.
    #[getter]
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys: Vec<_> = self.inner.series.iter().map(|s| s.key.clone()).collect();
        records::list(py, &keys, records::series_key)
    }

    /// Statistics of one series, or None if the baseline has no such series.
    #[pyo3(signature = (name, tags = None, /, **kwargs))]
    fn stats(
        &self,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<PyStats>> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let found = tags.with(|t| self.inner.get(name, t).map(|s| s.stats()))?;
        Ok(found.map(PyStats::new))
    }

    /// A copy with one more metadata entry.
    fn with_metadata(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        let key = crate::convert::text("key", key)?;
        let value = crate::convert::text("value", value)?;
        Ok(PyBaseline {
            inner: self.inner.clone().with_metadata(key, value),
        })
    }

    /// Writes the baseline to `path` atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let b = &self.inner;
        py.detach(|| b.save(&path)).py_err(py)
    }

    /// Reads a baseline file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| Baseline::load(&path)).py_err(py)?;
        Ok(PyBaseline { inner })
    }

    /// The baseline as a JSON document (the file format).
    fn to_json(&self, py: Python<'_>) -> String {
        let b = &self.inner;
        py.detach(|| b.to_json())
    }

    /// Reads a baseline document.
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &Bound<'_, PyAny>) -> PyResult<Self> {
        let json = crate::convert::text("json", json)?;
        let inner = py
            .detach(|| Baseline::from_json(json))
            .arg_err(py, "json")?;
        Ok(PyBaseline { inner })
    }

    /// One baseline of several runs: their histograms added together.
    #[staticmethod]
    fn from_runs(
        py: Python<'_>,
        version: &Bound<'_, PyAny>,
        runs: Vec<PyRef<'_, PyBaseline>>,
    ) -> PyResult<Self> {
        let version = crate::convert::text("version", version)?;
        let runs: Vec<Baseline> = runs.iter().map(|r| r.inner.clone()).collect();
        let inner = py
            .detach(|| Baseline::from_runs(version, &runs))
            .arg_err(py, "runs")?;
        Ok(PyBaseline { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.series.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Baseline(version={:?}, series={})",
            self.inner.version,
            self.inner.series.len()
        )
    }
}

/// How `compare` judges a change: statistics, relative thresholds, a
/// significance level and the resampling settings.
#[pyclass(name = "Policy", module = "perf_core._native", frozen)]
pub(crate) struct PyPolicy {
    pub(crate) inner: Policy,
}

/// A statistic written as in rules (`p95`, `mean`).
fn statistic(py: Python<'_>, arg: &str, text: &str) -> PyResult<Statistic> {
    text.parse()
        .map_err(|reason: String| invalid_argument(py, arg, reason))
}

#[pymethods]
impl PyPolicy {
    #[new]
    #[pyo3(signature = (*, statistics = None, threshold = None, thresholds = None, alpha = None,
                        min_samples = None, noise = None, resamples = None, seed = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        statistics: Option<Vec<String>>,
        threshold: Option<f64>,
        thresholds: Option<std::collections::BTreeMap<String, f64>>,
        alpha: Option<f64>,
        min_samples: Option<u64>,
        noise: Option<f64>,
        resamples: Option<u32>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let mut policy = Policy::default();
        if let Some(names) = statistics {
            let stats = names
                .iter()
                .map(|s| statistic(py, "statistics", s))
                .collect::<PyResult<Vec<_>>>()?;
            policy = policy.statistics(&stats);
        }
        if let Some(t) = threshold {
            policy = policy.default_threshold(t);
        }
        for (name, t) in thresholds.unwrap_or_default() {
            policy = policy.threshold(statistic(py, "thresholds", &name)?, t);
        }
        if let Some(a) = alpha {
            policy = policy.alpha(a);
        }
        if let Some(n) = min_samples {
            policy = policy.min_samples(n);
        }
        if let Some(n) = noise {
            policy = policy.noise(n);
        }
        if let Some(n) = resamples {
            policy = policy.resamples(n);
        }
        if let Some(s) = seed {
            policy = policy.seed(s);
        }
        policy.validate().py_err(py)?;
        Ok(PyPolicy { inner: policy })
    }

    /// The settings as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.inner;
        let dict = PyDict::new(py);
        let stats: Vec<String> = p.statistics.iter().map(ToString::to_string).collect();
        let thresholds = PyDict::new(py);
        for (s, t) in &p.thresholds {
            thresholds.set_item(s.to_string(), t)?;
        }
        dict.set_item("statistics", stats)?;
        dict.set_item("threshold", p.default_threshold)?;
        dict.set_item("thresholds", thresholds)?;
        dict.set_item("alpha", p.alpha)?;
        dict.set_item("min_samples", p.min_samples)?;
        dict.set_item("noise", p.noise)?;
        dict.set_item("resamples", p.resamples)?;
        dict.set_item("seed", p.seed)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Policy({})", self.to_dict(py)?.repr()?))
    }
}

/// Compares `current` against `baseline` per series and statistic.
#[pyfunction(name = "compare")]
#[pyo3(signature = (baseline, current, policy = None))]
pub(crate) fn py_compare(
    py: Python<'_>,
    baseline: PyRef<'_, PyBaseline>,
    current: PyRef<'_, PyBaseline>,
    policy: Option<PyRef<'_, PyPolicy>>,
) -> PyResult<PyRegressionReport> {
    let default = Policy::default();
    let policy = policy.as_ref().map_or(&default, |p| &p.inner);
    let (b, c) = (&baseline.inner, &current.inner);
    let inner = py.detach(|| compare(b, c, policy)).py_err(py)?;
    Ok(PyRegressionReport { inner })
}

/// The outcome of `compare`: a row per series and statistic, and the
/// verdict (`passed`: no row regressed).
#[pyclass(name = "RegressionReport", module = "perf_core._native", frozen)]
pub(crate) struct PyRegressionReport {
    inner: RegressionReport,
}

#[pymethods]
impl PyRegressionReport {
    /// Whether no row regressed.
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed()
    }

    /// `"pass"` or `"fail"`.
    #[getter]
    fn verdict(&self) -> &'static str {
        if self.inner.passed() {
            "pass"
        } else {
            "fail"
        }
    }

    /// The baseline's version.
    #[getter]
    fn baseline_version(&self) -> &str {
        &self.inner.baseline_version
    }

    /// The current run's version.
    #[getter]
    fn current_version(&self) -> &str {
        &self.inner.current_version
    }

    /// The significance level used.
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha
    }

    /// Every row (`Comparison`).
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        records::list(py, &self.inner.rows, records::comparison)
    }

    /// The rows that regressed.
    fn regressions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows: Vec<_> = self.inner.regressions().cloned().collect();
        records::list(py, &rows, records::comparison)
    }

    /// Series only in the baseline.
    #[getter]
    fn missing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        records::list(py, &self.inner.missing, records::series_key)
    }

    /// Series only in the current run.
    #[getter]
    fn added<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        records::list(py, &self.inner.added, records::series_key)
    }

    /// The row of one series and statistic (`"p95"`), or None.
    #[pyo3(signature = (name, statistic, tags = None, /, **kwargs))]
    fn row<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'_, PyAny>,
        statistic: &str,
        tags: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let row = tags.with(|t| self.inner.row(name, t, statistic).cloned())?;
        row.map(|r| records::comparison(py, &r)).transpose()
    }

    /// The report as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The report as a dict (the JSON parsed).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.to_json())
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "RegressionReport(verdict={:?}, rows={})",
            self.verdict(),
            self.inner.rows.len()
        )
    }
}
