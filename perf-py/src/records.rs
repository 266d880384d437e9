//! The engine's plain data (alerts, transitions, report rows, series keys)
//! as the frozen dataclasses of `perf_core._records`: attributes, `repr`,
//! equality and `to_dict()` for free, typed in Python.

use perf_core::{
    Alert, AlertEvent, AlertState, BudgetReport, BudgetRow, Comparison, EmergencySource,
    EmergencyStatus, EmergencyTransition, MultiprocessStatus, SeriesInfo, SeriesKey, TriggerStatus,
    TriggerValue,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::convert::{seconds, tags_dict};
use crate::errors::IntoPyResult;

/// Keyword arguments for one record class.
struct Fields<'py> {
    class: &'static str,
    dict: Bound<'py, PyDict>,
}

impl<'py> Fields<'py> {
    fn new(py: Python<'py>, class: &'static str) -> Self {
        Fields {
            class,
            dict: PyDict::new(py),
        }
    }

    fn set<V: IntoPyObject<'py>>(self, key: &str, value: V) -> PyResult<Self> {
        self.dict.set_item(key, value)?;
        Ok(self)
    }

    fn build(self) -> PyResult<Bound<'py, PyAny>> {
        static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
        let py = self.dict.py();
        let module = MODULE.get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("perf_core._records")?.unbind())
        })?;
        module
            .bind(py)
            .getattr(self.class)?
            .call((), Some(&self.dict))
    }
}

/// Converts each item with `f` into a list.
pub(crate) fn list<'py, T>(
    py: Python<'py>,
    items: &[T],
    f: impl Fn(Python<'py>, &T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in items {
        list.append(f(py, item)?)?;
    }
    Ok(list)
}

/// `MultiprocessStatus(...)`: the process group as this process sees it.
pub(crate) fn multiprocess_status<'py>(
    py: Python<'py>,
    s: &MultiprocessStatus,
) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "MultiprocessStatus")
        .set("dir", s.dir.display().to_string())?
        .set("pid", s.pid)?
        .set("instance", s.instance)?
        .set("leader", s.leader)?
        .set("processes", s.processes)?
        .set("live_processes", s.live_processes)?
        .set("archived", s.archived)?
        .set("publishes", s.publishes)?
        .set("publish_errors", s.publish_errors)?
        .set("skipped_files", s.skipped_files)?
        .set("dropped_series", s.dropped_series)?
        .set("last_error", s.last_error.clone())?
        .build()
}

/// `SeriesKey(name, tags)`.
pub(crate) fn series_key<'py>(py: Python<'py>, key: &SeriesKey) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "SeriesKey")
        .set("name", key.name())?
        .set("tags", tags_dict(py, key)?)?
        .build()
}

/// `str(SeriesKey(name, tags))`: the key as the core prints a
/// [`SeriesKey`] (`name{k="v",...}`, tags sorted, `\\` and `"` in values
/// escaped), checked as a monitor checks names and tags.
#[pyfunction(name = "_series_text")]
pub(crate) fn py_series_text(
    name: &Bound<'_, PyAny>,
    tags: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let py = name.py();
    let name = crate::convert::text("name", name)?;
    let tags = crate::convert::Tags::from_mapping(tags)?;
    let key = tags.with(|t| SeriesKey::from_parts(name, t))?;
    key.map(|key| key.to_string()).py_err(py)
}

/// `SeriesInfo(name, tags, kind)`.
pub(crate) fn series_info<'py>(py: Python<'py>, info: &SeriesInfo) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "SeriesInfo")
        .set("name", info.key.name())?
        .set("tags", tags_dict(py, &info.key)?)?
        .set("kind", info.kind.to_string())?
        .build()
}

/// `AlertEvent(...)`: one notification.
pub(crate) fn alert_event<'py>(py: Python<'py>, e: &AlertEvent) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "AlertEvent")
        .set("id", e.id.0)?
        .set("kind", e.kind.as_str())?
        .set("rule", &*e.rule)?
        .set("series", series_key(py, &e.series)?)?
        .set("severity", e.severity.as_str())?
        .set("previous_severity", e.previous_severity.map(|s| s.as_str()))?
        .set("value", e.value)?
        .set("threshold", e.threshold)?
        .set("at", seconds(e.at))?
        .set("fired_at", seconds(e.fired_at))?
        .build()
}

/// `Alert(...)`: one active alert.
pub(crate) fn alert<'py>(py: Python<'py>, a: &Alert) -> PyResult<Bound<'py, PyAny>> {
    let state = match a.state {
        AlertState::Firing => "firing",
        AlertState::Recovering => "recovering",
    };
    Fields::new(py, "Alert")
        .set("id", a.id.0)?
        .set("rule", &*a.rule)?
        .set("series", series_key(py, &a.series)?)?
        .set("severity", a.severity.as_str())?
        .set("state", state)?
        .set("value", a.value)?
        .set("threshold", a.threshold)?
        .set("fired_at", seconds(a.fired_at))?
        .set("last_notified", a.last_notified.map(seconds))?
        .set("acknowledged", a.acknowledged)?
        .set("inhibited", a.inhibited)?
        .build()
}

/// `TriggerValue(...)`: what a trigger read.
fn trigger_value<'py>(py: Python<'py>, v: &TriggerValue) -> PyResult<Bound<'py, PyAny>> {
    let series = v.series.as_ref().map(|k| series_key(py, k)).transpose()?;
    Fields::new(py, "TriggerValue")
        .set("trigger", &*v.trigger)?
        .set("series", series)?
        .set("value", v.value)?
        .set("op", v.op.as_str())?
        .set("threshold", v.threshold)?
        .build()
}

/// `EmergencyTransition(...)`.
pub(crate) fn transition<'py>(
    py: Python<'py>,
    t: &EmergencyTransition,
) -> PyResult<Bound<'py, PyAny>> {
    let (source, triggers): (&str, Vec<&str>) = match &t.source {
        EmergencySource::Manual => ("manual", Vec::new()),
        EmergencySource::Triggers(names) => ("triggers", names.iter().map(|n| &**n).collect()),
    };
    Fields::new(py, "EmergencyTransition")
        .set("change", t.change.as_str())?
        .set("source", source)?
        .set("triggers", triggers)?
        .set("reason", &t.reason)?
        .set("at", seconds(t.at))?
        .set("values", list(py, &t.values, trigger_value)?)?
        .set("dwell", t.dwell.map(|d| d.as_secs_f64()))?
        .build()
}

/// `TriggerStatus(...)`.
fn trigger_status<'py>(py: Python<'py>, s: &TriggerStatus) -> PyResult<Bound<'py, PyAny>> {
    let last = s.last.as_ref().map(|v| trigger_value(py, v)).transpose()?;
    Fields::new(py, "TriggerStatus")
        .set("name", &*s.name)?
        .set("holding", s.holding)?
        .set("true_since", s.true_since.map(seconds))?
        .set("last", last)?
        .build()
}

/// `EmergencyStatus(...)`.
pub(crate) fn emergency_status<'py>(
    py: Python<'py>,
    s: &EmergencyStatus,
) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "EmergencyStatus")
        .set("active", s.active)?
        .set("manual", s.manual)?
        .set("since", s.since.map(seconds))?
        .set("dwell_until", s.dwell_until.map(seconds))?
        .set("triggers", list(py, &s.triggers, trigger_status)?)?
        .build()
}

/// `BudgetRow(...)`.
fn budget_row<'py>(py: Python<'py>, r: &BudgetRow) -> PyResult<Bound<'py, PyAny>> {
    let series = r.series.as_ref().map(|k| series_key(py, k)).transpose()?;
    Fields::new(py, "BudgetRow")
        .set("budget", &r.budget)?
        .set("metric", &r.metric)?
        .set("series", series)?
        .set("stat", r.stat.to_string())?
        .set("window", r.window.map(|w| w.as_secs_f64()))?
        .set("count", r.count)?
        .set("value", r.value)?
        .set("good", r.good)?
        .set("poor", r.poor)?
        .set("rating", r.rating.map(|x| x.as_str()))?
        .set("headroom", r.headroom)?
        .build()
}

/// `BudgetReport(at, rows, worst)`.
pub(crate) fn budget_report<'py>(
    py: Python<'py>,
    report: &BudgetReport,
) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "BudgetReport")
        .set("at", seconds(report.at))?
        .set("rows", list(py, &report.rows, budget_row)?)?
        .set("worst", report.worst().map(|x| x.as_str()))?
        .set("text", report.to_string())?
        .build()
}

/// `Comparison(...)`: one row of a regression report.
pub(crate) fn comparison<'py>(py: Python<'py>, c: &Comparison) -> PyResult<Bound<'py, PyAny>> {
    Fields::new(py, "Comparison")
        .set("series", series_key(py, &c.series)?)?
        .set("statistic", c.statistic.to_string())?
        .set("baseline", c.baseline)?
        .set("baseline_count", c.baseline_count)?
        .set("current", c.current)?
        .set("current_count", c.current_count)?
        .set("change", c.change)?
        .set("ratio_low", c.ratio_low)?
        .set("ratio_high", c.ratio_high)?
        .set("p_value", c.p_value)?
        .set("q_value", c.q_value)?
        .set("threshold", c.threshold)?
        .set("verdict", c.verdict.as_str())?
        .build()
}
