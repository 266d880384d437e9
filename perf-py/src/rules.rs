//! `Rule` and `Budget` objects. Both are read and written by the core as
//! one item of the rules-document schema (`docs/rules.md`:
//! `Rule::from_json` / `to_json`, `Budget::from_json` / `to_json`), so an
//! object, a dict and a document loaded from a file mean exactly the same
//! thing and fail with the same messages.

use perf_core::{Budget, Rule};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{document, json_loads};
use crate::errors::IntoPyResult;

/// `{name, metric, **fields}` as a dict.
fn with_fields<'py>(
    py: Python<'py>,
    base: &[(&str, &str)],
    fields: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in base {
        dict.set_item(k, v)?;
    }
    if let Some(fields) = fields {
        dict.update(fields.as_mapping())?;
    }
    Ok(dict)
}

/// An alerting rule: a statistic of a metric against a ladder of
/// thresholds. Built like one entry of `rules` in a rules document:
/// `Rule("slow", "http.server.duration", stat="p95", threshold=500, for_="1m")`
/// (durations as strings, seconds, or timedeltas).
#[pyclass(name = "Rule", module = "perf_core._native", frozen)]
pub(crate) struct PyRule {
    pub(crate) inner: Rule,
}

impl PyRule {
    /// Reads (and checks, once) a rule given as a dict or JSON str.
    fn parse(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        let json = document("rule", value)?;
        let inner = Rule::from_json(&json).py_err(py)?;
        Ok(PyRule { inner })
    }
}

#[pymethods]
impl PyRule {
    #[new]
    #[pyo3(signature = (name, metric, **fields))]
    fn new(
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        metric: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let name = crate::convert::text("name", name)?;
        let metric = crate::convert::text("metric", metric)?;
        let dict = with_fields(py, &[("name", name), ("metric", metric)], fields)?;
        Self::parse(py, dict.as_any())
    }

    /// A rule from a dict (or JSON str) in the rules-document schema.
    #[staticmethod]
    fn from_dict(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::parse(py, value)
    }

    /// The rule's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// The metric the rule watches.
    #[getter]
    fn metric(&self) -> &str {
        self.inner.watch.target.metric()
    }

    /// The rule in the rules-document schema.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.to_json())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyRule>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Rule({})", self.to_dict(py)?.repr()?))
    }
}

/// A performance budget: metrics rated good / needs-improvement / poor.
/// Built like one entry of `budgets` in a rules document, or with the
/// presets `Budget.web_vitals()` and `Budget.api_latency(...)`.
#[pyclass(name = "Budget", module = "perf_core._native", frozen)]
pub(crate) struct PyBudget {
    pub(crate) inner: Budget,
}

impl PyBudget {
    /// Reads (and checks, once) a budget given as a dict or JSON str.
    fn parse(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        let json = document("budget", value)?;
        let inner = Budget::from_json(&json).py_err(py)?;
        Ok(PyBudget { inner })
    }
}

#[pymethods]
impl PyBudget {
    #[new]
    #[pyo3(signature = (name, **fields))]
    fn new(
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let name = crate::convert::text("name", name)?;
        let dict = with_fields(py, &[("name", name)], fields)?;
        Self::parse(py, dict.as_any())
    }

    /// A budget from a dict (or JSON str) in the rules-document schema.
    #[staticmethod]
    fn from_dict(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::parse(py, value)
    }

    /// Google's Web Vitals thresholds at p75 (LCP, INP, CLS, FCP, TTFB, FID).
    #[staticmethod]
    fn web_vitals() -> Self {
        PyBudget {
            inner: Budget::web_vitals(),
        }
    }

    /// p50 / p95 / p99 of `metric` at most the given limits.
    #[staticmethod]
    fn api_latency(
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        metric: &Bound<'_, PyAny>,
        p50: f64,
        p95: f64,
        p99: f64,
    ) -> PyResult<Self> {
        let name = crate::convert::text("name", name)?;
        let metric = crate::convert::text("metric", metric)?;
        let inner = Budget::api_latency(name, metric, p50, p95, p99);
        inner.validate().py_err(py)?;
        Ok(PyBudget { inner })
    }

    /// This budget raising alerts: `alerts` as in the schema
    /// (`needs_improvement`, `poor`, `window`, `for_`, `clear_for`, ...).
    #[pyo3(signature = (**alerts))]
    fn with_alerts(&self, py: Python<'_>, alerts: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let dict = self.to_dict(py)?;
        let alerts = match alerts {
            Some(a) => a.clone(),
            None => PyDict::new(py),
        };
        dict.set_item("alerts", alerts)?;
        Self::parse(py, &dict)
    }

    /// The budget's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// The budget in the rules-document schema.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.to_json())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyBudget>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Budget({})", self.to_dict(py)?.repr()?))
    }
}

/// A rule given as a `Rule` or a dict.
pub(crate) fn rule_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Rule> {
    match value.cast::<PyRule>() {
        Ok(rule) => Ok(rule.get().inner.clone()),
        Err(_) if value.cast::<PyString>().is_ok() || value.cast::<PyDict>().is_ok() => {
            Ok(PyRule::parse(py, value)?.inner)
        }
        Err(_) => Err(crate::errors::wrong_type(
            py,
            "rule",
            "a Rule or a dict",
            value,
        )),
    }
}

/// A budget given as a `Budget` or a dict.
pub(crate) fn budget_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Budget> {
    match value.cast::<PyBudget>() {
        Ok(budget) => Ok(budget.get().inner.clone()),
        Err(_) if value.cast::<PyString>().is_ok() || value.cast::<PyDict>().is_ok() => {
            Ok(PyBudget::parse(py, value)?.inner)
        }
        Err(_) => Err(crate::errors::wrong_type(
            py,
            "budget",
            "a Budget or a dict",
            value,
        )),
    }
}
