//! `Monitor`: the root object — series, statistics, rules, alerts,
//! emergency mode, baselines and exports — and its background `Evaluator`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use perf_core::{
    AlertId, GaugeMode, HdrOptions, JsonExportOptions, Monitor, MonitorBuilder, Precision,
    RepeatIntervals, Severity, SubscriptionId,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::callbacks::Callback;
use crate::clock::PyManualClock;
use crate::convert::{count, duration, opt_duration, real, seconds, Tags};
use crate::emergency::PyEmergency;
use crate::errors::{invalid_argument, wrong_type, IntoPyResult};
use crate::handles::{PyCounter, PyGauge, PyHistogram, PyTimer};
use crate::records;
use crate::regression::{PyBaseline, PyPolicy};
use crate::rules::{budget_arg, rule_arg, PyBudget, PyRule};
use crate::server::{Limits, PyMetricsServer};
use crate::stats::PyStats;

/// The root object: creates and finds series (a name plus tags, given as
/// keyword arguments or a dict), computes statistics, evaluates rules and
/// exports. Safe to share between threads.
#[pyclass(
    name = "Monitor",
    module = "perf_core._native",
    subclass,
    frozen,
    weakref
)]
pub(crate) struct PyMonitor {
    inner: Monitor,
    /// Exceptions raised by this monitor's callbacks so far.
    callback_errors: Arc<AtomicU64>,
}

/// The work of `Monitor.record` and `Monitor.timer`, whose argument
/// parsing is in [`crate::fastcall`].
impl PyMonitor {
    /// Records `value` into the histogram `name{tags}`.
    pub(crate) fn record_with(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        tags: &Tags<'_>,
    ) -> PyResult<()> {
        let name = crate::convert::name(name)?;
        let value = real("value", value)?;
        tags.with(|t| self.inner.record(name, t, value))?
            .map_err(|err| crate::errors::for_value(py, "value", err))
    }

    /// A timer recording into the histogram `name{tags}`.
    pub(crate) fn timer_with(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: &Tags<'_>,
    ) -> PyResult<PyTimer> {
        let name = crate::convert::name(name)?;
        let histogram = tags.with(|t| self.inner.histogram(name, t))?.py_err(py)?;
        Ok(PyTimer::new(histogram, self.inner.clone()))
    }
}

/// Adopts every multi-process monitor in a child just forked (perf_core
/// registers it with `os.register_at_fork`).
#[pyfunction(name = "after_fork")]
pub(crate) fn py_after_fork(py: Python<'_>) {
    py.detach(perf_core::after_fork);
}

/// The builder options of `Monitor(...)`, applied one by one.
fn configure(
    py: Python<'_>,
    builder: MonitorBuilder,
    options: &Bound<'_, PyDict>,
) -> PyResult<MonitorBuilder> {
    let mut builder = builder;
    for (key, value) in options.iter() {
        if value.is_none() {
            continue;
        }
        let key: String = key.extract()?;
        builder = match key.as_str() {
            "clock" => {
                let clock = value
                    .cast::<PyManualClock>()
                    .map_err(|_| wrong_type(py, "clock", "a ManualClock or None", &value))?;
                builder.clock(clock.get().inner.clone())
            }
            "precision" => {
                let bits = count("precision", &value)?;
                let bits = u8::try_from(bits).unwrap_or(u8::MAX);
                builder.precision(Precision::new(bits).arg_err(py, "precision")?)
            }
            "max_metrics" => builder.max_metrics(usize_arg("max_metrics", &value)?),
            "max_series_per_metric" => {
                builder.max_series_per_metric(usize_arg("max_series_per_metric", &value)?)
            }
            "window_interval" => builder.window_interval(duration("window_interval", &value)?),
            "window_retention" => builder.window_retention(duration("window_retention", &value)?),
            "windows" => builder.windows(value.is_truthy()?),
            "alert_history" => builder.alert_history(usize_arg("alert_history", &value)?),
            "notification_capacity" => {
                builder.notification_capacity(usize_arg("notification_capacity", &value)?)
            }
            "repeat_intervals" => builder.repeat_intervals(repeat_intervals(&value)?),
            "multiprocess_dir" => {
                let dir: PathBuf = value.extract().map_err(|_| {
                    wrong_type(py, "multiprocess_dir", "a str or os.PathLike", &value)
                })?;
                builder.multiprocess_dir(dir)
            }
            "publish_interval" => builder.publish_interval(duration("publish_interval", &value)?),
            "default_gauge_mode" => {
                builder.default_gauge_mode(gauge_mode("default_gauge_mode", &value)?)
            }
            "gauge_modes" => gauge_modes(builder, &value)?,
            other => {
                let message = format!("Monitor() got an unexpected keyword argument {other:?}");
                return Err(crate::errors::new_err(
                    py,
                    crate::errors::Class::ArgumentType,
                    message,
                ));
            }
        };
    }
    Ok(builder)
}

/// A gauge mode by name: `"sum"`, `"max"`, `"min"`, `"latest"` or
/// `"per_process"`.
fn gauge_mode(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<GaugeMode> {
    let py = value.py();
    let name: String = value
        .extract()
        .map_err(|_| wrong_type(py, arg, "a gauge mode name (str)", value))?;
    name.parse().arg_err(py, arg)
}

/// `{"rss_bytes": "per_process", ...}`: gauge modes per metric name.
fn gauge_modes(builder: MonitorBuilder, value: &Bound<'_, PyAny>) -> PyResult<MonitorBuilder> {
    let py = value.py();
    let dict = value.cast::<PyDict>().map_err(|_| {
        wrong_type(
            py,
            "gauge_modes",
            "a dict of metric name to gauge mode",
            value,
        )
    })?;
    let mut builder = builder;
    for (name, mode) in dict.iter() {
        let name: String = name
            .extract()
            .map_err(|_| wrong_type(py, "gauge_modes", "metric names (str)", &name))?;
        builder = builder.gauge_mode(&name, gauge_mode("gauge_modes", &mode)?);
    }
    Ok(builder)
}

/// A count that fits in `usize`.
fn usize_arg(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<usize> {
    let n = count(arg, value)?;
    usize::try_from(n).map_err(|_| invalid_argument(value.py(), arg, "is too large"))
}

/// `{"critical": 300, "warning": "..."}`: repeat intervals per severity.
fn repeat_intervals(value: &Bound<'_, PyAny>) -> PyResult<RepeatIntervals> {
    let py = value.py();
    let dict = value.cast::<PyDict>().map_err(|_| {
        wrong_type(
            py,
            "repeat_intervals",
            "a dict of severity to seconds",
            value,
        )
    })?;
    let mut intervals = RepeatIntervals::default();
    for (k, v) in dict.iter() {
        let name: String = k.extract()?;
        let severity: Severity = name
            .parse()
            .map_err(|reason: String| invalid_argument(py, "repeat_intervals", reason))?;
        intervals.set(severity, duration("repeat_intervals", &v)?);
    }
    Ok(intervals)
}

#[pymethods]
impl PyMonitor {
    /// A monitor. Options (all keyword, all optional): `clock`
    /// (a ManualClock), `precision` (bits, 2..=10, default 7),
    /// `max_metrics`, `max_series_per_metric`, `window_interval` and
    /// `window_retention` (seconds or timedelta), `windows` (bool),
    /// `alert_history`, `notification_capacity` (callbacks' queue, default
    /// 10 000), `repeat_intervals` ({severity: seconds}), and for
    /// multi-process mode `multiprocess_dir` (else the environment's
    /// `PERF_CORE_MULTIPROC_DIR`), `publish_interval` (seconds),
    /// `default_gauge_mode` and `gauge_modes` ({name: mode}).
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        // `Monitor(_local_of=m)`: `m` seen from this process alone (what
        // `Monitor.local()` returns, as the caller's class).
        if let Some(of) = options.and_then(|o| o.get_item("_local_of").ok().flatten()) {
            let of = of
                .cast::<PyMonitor>()
                .map_err(|_| wrong_type(py, "_local_of", "a Monitor", &of))?;
            return Ok(PyMonitor {
                inner: of.get().inner.local(),
                callback_errors: of.get().callback_errors.clone(),
            });
        }
        let builder = match options {
            Some(options) => configure(py, Monitor::builder(), options)?,
            None => Monitor::builder(),
        };
        let inner = builder.build().py_err(py)?;
        Ok(PyMonitor {
            inner,
            callback_errors: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The histogram series `name{tags}`, created on first use.
    #[pyo3(signature = (name, tags = None, /, **kwargs))]
    fn histogram(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyHistogram> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let inner = tags.with(|t| self.inner.histogram(name, t))?.py_err(py)?;
        Ok(PyHistogram {
            inner,
            monitor: self.inner.clone(),
        })
    }

    /// The counter series `name{tags}`, created on first use.
    #[pyo3(signature = (name, tags = None, /, **kwargs))]
    fn counter(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyCounter> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let inner = tags.with(|t| self.inner.counter(name, t))?.py_err(py)?;
        Ok(PyCounter { inner })
    }

    /// The gauge series `name{tags}`, created on first use.
    #[pyo3(signature = (name, tags = None, /, **kwargs))]
    fn gauge(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyGauge> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let inner = tags.with(|t| self.inner.gauge(name, t))?.py_err(py)?;
        Ok(PyGauge { inner })
    }

    /// Cumulative statistics of the histogram `name{tags}`.
    #[pyo3(signature = (name, tags = None, /, **kwargs))]
    fn stats(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyStats> {
        let name = crate::convert::name(name)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        let stats = tags.with(|t| py.detach(|| m.stats(name, t)))?.py_err(py)?;
        Ok(PyStats::new(stats))
    }

    /// Statistics of the values recorded into `name{tags}` within the last
    /// `window` (seconds or timedelta).
    #[pyo3(signature = (name, window, tags = None, /, **kwargs))]
    fn window_stats(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        window: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyStats> {
        let name = crate::convert::name(name)?;
        let window = duration("window", window)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        let stats = tags
            .with(|t| py.detach(|| m.window_stats(name, t, window)))?
            .py_err(py)?;
        Ok(PyStats::new(stats))
    }

    /// The rate per second of the counter `name{tags}` over `window`.
    #[pyo3(signature = (name, window, tags = None, /, **kwargs))]
    fn counter_rate(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        window: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<f64> {
        let name = crate::convert::name(name)?;
        let window = duration("window", window)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        tags.with(|t| py.detach(|| m.counter_rate(name, t, window)))?
            .py_err(py)
    }

    /// Every series (`SeriesInfo`: name, tags, kind), sorted.
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let m = &self.inner;
        let all = py.detach(|| m.series());
        records::list(py, &all, records::series_info)
    }

    /// The current time on the monitor's clock, in seconds.
    fn now(&self) -> f64 {
        seconds(self.inner.now())
    }

    /// Publishes this process's state to the group's directory now
    /// (multi-process mode; otherwise nothing).
    fn publish(&self, py: Python<'_>) -> PyResult<()> {
        let m = &self.inner;
        py.detach(|| m.publish()).py_err(py)
    }

    /// Moves dead processes' files into the group's archive now; returns
    /// how many processes it archived.
    fn compact_multiprocess(&self, py: Python<'_>) -> PyResult<usize> {
        let m = &self.inner;
        py.detach(|| m.compact_multiprocess()).py_err(py)
    }

    /// Adopts a monitor inherited through `os.fork()` (perf_core calls it
    /// from `os.register_at_fork`); nothing in the process that made it.
    fn after_fork(&self, py: Python<'_>) {
        let m = &self.inner;
        py.detach(|| m.after_fork());
    }

    /// The process group's state, or None outside multi-process mode.
    #[getter]
    fn multiprocess<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let m = &self.inner;
        match py.detach(|| m.multiprocess()) {
            Some(status) => records::multiprocess_status(py, &status).map(Some),
            None => Ok(None),
        }
    }

    /// Histogram precision in bits.
    #[getter]
    fn precision(&self) -> u8 {
        self.inner.precision().bits()
    }

    /// The window interval in seconds, or None without windows.
    #[getter]
    fn window_interval(&self) -> Option<f64> {
        self.inner.window_interval().map(|d| d.as_secs_f64())
    }

    /// Files what was recorded so far under the current window interval
    /// (needed only with custom clocks; ManualClock and the real clock do it).
    fn tick(&self, py: Python<'_>) {
        let m = &self.inner;
        py.detach(|| m.tick());
    }

    // ---- rules and budgets ----

    /// Adds a rule (a `Rule` or a dict in the rules-document schema).
    fn add_rule(&self, py: Python<'_>, rule: &Bound<'_, PyAny>) -> PyResult<()> {
        let rule = rule_arg(py, rule)?;
        let m = &self.inner;
        py.detach(|| m.add_rule(rule)).py_err(py)
    }

    /// Removes the rule `name`. Returns whether it existed.
    fn remove_rule(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let name = crate::convert::text("name", name)?;
        let m = &self.inner;
        Ok(py.detach(|| m.remove_rule(name)))
    }

    /// The rules, in the order they were added.
    fn rules(&self, py: Python<'_>) -> Vec<PyRule> {
        let m = &self.inner;
        let rules = py.detach(|| m.rules());
        rules.into_iter().map(|inner| PyRule { inner }).collect()
    }

    /// Adds a budget (a `Budget` or a dict in the rules-document schema).
    fn add_budget(&self, py: Python<'_>, budget: &Bound<'_, PyAny>) -> PyResult<()> {
        let budget = budget_arg(py, budget)?;
        let m = &self.inner;
        py.detach(|| m.add_budget(budget)).py_err(py)
    }

    /// Removes the budget `name` and its rules. Returns whether it existed.
    fn remove_budget(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let name = crate::convert::text("name", name)?;
        let m = &self.inner;
        Ok(py.detach(|| m.remove_budget(name)))
    }

    /// The budgets, in the order they were added.
    fn budgets(&self, py: Python<'_>) -> Vec<PyBudget> {
        let m = &self.inner;
        let budgets = py.detach(|| m.budgets());
        budgets
            .into_iter()
            .map(|inner| PyBudget { inner })
            .collect()
    }

    /// Adds the rules and budgets of a rules document (JSON str or dict),
    /// all or none, and applies its `emergency` section. Returns how many
    /// rules and budgets were added.
    fn load_rules(&self, py: Python<'_>, document: &Bound<'_, PyAny>) -> PyResult<usize> {
        let json = crate::convert::document("document", document)?;
        let m = &self.inner;
        py.detach(|| m.load_rules(&json)).py_err(py)
    }

    /// `load_rules` with the contents of the file `path`.
    fn load_rules_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        let m = &self.inner;
        py.detach(|| m.load_rules_file(&path)).py_err(py)
    }

    /// The rules, budgets and emergency configuration as a rules document.
    fn rules_json(&self, py: Python<'_>) -> String {
        let m = &self.inner;
        py.detach(|| m.rules_json())
    }

    /// Every budget item rated on every series it applies to.
    fn budget_report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let m = &self.inner;
        let report = py.detach(|| m.budget_report());
        records::budget_report(py, &report)
    }

    // ---- evaluation and alerts ----

    /// Evaluates every rule and the emergency triggers now; delivers and
    /// returns the alert notifications (`AlertEvent`).
    fn evaluate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let m = &self.inner;
        let events = py.detach(|| m.evaluate());
        records::list(py, &events, records::alert_event)
    }

    /// Starts the background evaluator (every `interval` seconds, default
    /// 1), replacing a running one. The returned `Evaluator` is a context
    /// manager that stops it.
    #[pyo3(signature = (interval = None))]
    fn start(&self, py: Python<'_>, interval: Option<&Bound<'_, PyAny>>) -> PyResult<PyEvaluator> {
        let interval = opt_duration("interval", interval)?.unwrap_or(Duration::from_secs(1));
        let m = &self.inner;
        py.detach(|| m.start(interval)).arg_err(py, "interval")?;
        Ok(PyEvaluator {
            monitor: self.inner.clone(),
        })
    }

    /// Stops the background evaluator (waits for a running evaluation).
    fn stop(&self, py: Python<'_>) {
        let m = &self.inner;
        py.detach(|| m.stop());
    }

    /// Whether the background evaluator runs.
    #[getter]
    fn is_evaluating(&self) -> bool {
        self.inner.is_evaluating()
    }

    /// Calls `callback(event)` with every alert notification, in order, on
    /// the monitor's notification thread: evaluation never waits for it
    /// (see `flush_notifications`). An exception is logged on the
    /// `perf_core` logger and counted in `callback_errors`. Returns an id
    /// for `remove_alert_callback`.
    fn on_alert(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<u64> {
        let cb = Callback::new(callback, "on_alert", self.callback_errors.clone())?;
        let m = &self.inner;
        let id = py.detach(|| {
            m.subscribe(move |event| {
                cb.call(|py| records::alert_event(py, event));
            })
        });
        Ok(id.0)
    }

    /// Removes an alert callback. Returns whether it was subscribed.
    fn remove_alert_callback(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = count("id", id)?;
        let m = &self.inner;
        Ok(py.detach(|| m.unsubscribe(SubscriptionId(id))))
    }

    /// Waits (at most `timeout` seconds, default 5) until every
    /// notification made so far — alert events and emergency transitions —
    /// has reached its callbacks; returns whether all have. The GIL is
    /// released meanwhile, so the callbacks can run.
    #[pyo3(signature = (timeout = None))]
    fn flush_notifications(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        flush_notifications(py, &self.inner, timeout)
    }

    /// Notifications dropped because callbacks fell `notification_capacity`
    /// behind.
    #[getter]
    fn notifications_dropped(&self) -> u64 {
        self.inner.notifications_dropped()
    }

    /// Exceptions raised by this monitor's callbacks so far.
    #[getter]
    fn callback_errors(&self) -> u64 {
        self.callback_errors.load(Ordering::Relaxed)
    }

    /// The active alerts (`Alert`), by rule then series.
    fn alerts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let m = &self.inner;
        let alerts = py.detach(|| m.alerts());
        records::list(py, &alerts, records::alert)
    }

    /// The latest notifications (`AlertEvent`), oldest first.
    fn alert_history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let m = &self.inner;
        let events = py.detach(|| m.alert_history());
        records::list(py, &events, records::alert_event)
    }

    /// Acknowledges an active alert: its repeats stop until it escalates
    /// or resolves.
    fn acknowledge(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = count("id", id)?;
        let m = &self.inner;
        py.detach(|| m.acknowledge(AlertId(id))).arg_err(py, "id")
    }

    /// The emergency mode.
    #[getter]
    fn emergency(&self) -> PyEmergency {
        PyEmergency {
            monitor: self.inner.clone(),
            callback_errors: self.callback_errors.clone(),
        }
    }

    // ---- baselines and exports ----

    /// The regression policy of the last rules document loaded with a
    /// `regression` section (default: `Policy()`), for `compare`.
    fn regression_policy(&self, py: Python<'_>) -> PyPolicy {
        let m = &self.inner;
        PyPolicy {
            inner: py.detach(|| m.regression_policy()),
        }
    }

    /// A baseline of every histogram series as recorded so far, with
    /// optional extra metadata.
    #[pyo3(signature = (version, metadata = None))]
    fn baseline(
        &self,
        py: Python<'_>,
        version: &Bound<'_, PyAny>,
        metadata: Option<std::collections::BTreeMap<String, String>>,
    ) -> PyResult<PyBaseline> {
        let version = crate::convert::text("version", version)?;
        let m = &self.inner;
        let mut inner = py.detach(|| m.baseline(version));
        for (k, v) in metadata.unwrap_or_default() {
            inner = inner.with_metadata(k, v);
        }
        Ok(PyBaseline { inner })
    }

    /// Every series in the Prometheus text exposition format 0.0.4.
    /// Options (keyword): `global_labels`, `help`, `units`, `buckets`,
    /// `summaries` (per metric name), `default_buckets`, `default_summary`.
    #[pyo3(signature = (**options))]
    fn export_prometheus(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let config = crate::exposition::config(py, "export_prometheus", options)?;
        let m = &self.inner;
        Ok(py.detach(|| m.export_prometheus_with(&config)))
    }

    /// Every series in the OpenMetrics 1.0 text format; options as
    /// `export_prometheus`.
    #[pyo3(signature = (**options))]
    fn export_openmetrics(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let config = crate::exposition::config(py, "export_openmetrics", options)?;
        let m = &self.inner;
        Ok(py.detach(|| m.export_openmetrics_with(&config)))
    }

    /// Every series in the Prometheus protobuf exposition: length-delimited
    /// `io.prometheus.client.MetricFamily` messages, histograms with both
    /// their classic buckets and their native histogram; serve it with
    /// `CONTENT_TYPES["protobuf"]`. Options as `export_prometheus`.
    #[pyo3(signature = (**options))]
    fn export_protobuf<'py>(
        &self,
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let config = crate::exposition::config(py, "export_protobuf", options)?;
        let m = &self.inner;
        let bytes = py.detach(|| m.export_protobuf_with(&config));
        Ok(PyBytes::new(py, &bytes))
    }

    /// Every series' statistics as a JSON document; with
    /// `histograms=True`, histogram buckets too.
    #[pyo3(signature = (*, histograms = false))]
    fn export_json(&self, py: Python<'_>, histograms: bool) -> String {
        let m = &self.inner;
        py.detach(|| m.export_json_with(&JsonExportOptions::new().histograms(histograms)))
    }

    /// The whole monitor in `format` (`"prometheus"`, `"openmetrics"`,
    /// `"json"`, `"csv"`); serve it with `CONTENT_TYPES[format]`. Another
    /// name raises `InvalidConfigError`, `"protobuf"` too: it is binary
    /// (`export_protobuf`).
    fn export(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format: perf_core::ExportFormat = format.parse().arg_err(py, "format")?;
        let m = &self.inner;
        Ok(py.detach(|| m.export(format)))
    }

    /// Every series' statistics as CSV.
    fn export_csv(&self, py: Python<'_>) -> String {
        let m = &self.inner;
        py.detach(|| m.export_csv())
    }

    /// The histogram `name{tags}` as base64 of a compressed HdrHistogram
    /// V2 (`HISTF...`): values times `scale` (default 1000: thousandths of
    /// the unit) as integers, with `significant_digits` (1 to 5, default 3).
    #[pyo3(signature = (name, tags = None, /, *, scale = None, significant_digits = None, **kwargs))]
    fn export_hdr(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        scale: Option<&Bound<'_, PyAny>>,
        significant_digits: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let name = crate::convert::name(name)?;
        let options = hdr_options(scale, significant_digits)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        tags.with(|t| py.detach(|| m.export_hdr_with(name, t, &options)))?
            .py_err(py)
    }

    /// Merges an HdrHistogram V2 string (as `export_hdr` and other
    /// HdrHistogram implementations write it) into the histogram
    /// `name{tags}`, each integer divided by `scale` (default 1000); all or
    /// nothing.
    #[pyo3(signature = (name, encoded, tags = None, /, *, scale = None, **kwargs))]
    fn import_hdr(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        encoded: &Bound<'_, PyAny>,
        tags: Option<&Bound<'_, PyAny>>,
        scale: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let encoded = crate::convert::text("encoded", encoded)?;
        let name = crate::convert::name(name)?;
        let options = hdr_options(scale, None)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        tags.with(|t| py.detach(|| m.import_hdr_with(name, t, encoded, &options)))?
            .map_err(|err| crate::errors::for_value(py, "encoded", err))
    }

    /// Records Web Vitals given as a mapping (`{"lcp": 1800, "inp": 120,
    /// "cls": 0.02, "fcp": ..., "ttfb": ..., "fid": ...}`, ms; CLS
    /// unitless; any subset) into `web_vitals.lcp`, ... with the tags, and
    /// returns each one's rating (`good`, `needs-improvement`, `poor`).
    /// All or nothing: an invalid value raises and records nothing.
    #[pyo3(signature = (vitals, tags = None, /, **kwargs))]
    fn record_web_vitals<'py>(
        &self,
        py: Python<'py>,
        vitals: &Bound<'py, PyAny>,
        tags: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let vitals = crate::web_vitals::vitals(vitals)?;
        let tags = Tags::extract(tags, kwargs)?;
        let m = &self.inner;
        let ratings = tags
            .with(|t| py.detach(|| m.record_web_vitals(&vitals, t)))?
            .map_err(|err| crate::errors::for_value(py, "vitals", err))?;
        crate::web_vitals::ratings(py, &ratings)
    }

    /// Serves `GET /metrics` (Prometheus text; OpenMetrics when the
    /// scraper's `Accept` asks for it) on `addr` from a thread of the core,
    /// until the returned `MetricsServer` is closed. Limits (keyword):
    /// `connection_limit`, `header_read_timeout` and `write_timeout`
    /// (seconds), `max_request_line` and `max_head` (bytes); other keywords
    /// are the exposition options of `export_prometheus`.
    #[pyo3(
        signature = (
        addr = None,
        *,
        connection_limit = None,
        header_read_timeout = None,
        write_timeout = None,
        max_request_line = None,
        max_head = None,
        **options
    ),
        text_signature = "($self, addr='127.0.0.1:0', *, connection_limit=None, \
                          header_read_timeout=None, write_timeout=None, max_request_line=None, \
                          max_head=None, **options)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn serve_metrics(
        &self,
        py: Python<'_>,
        addr: Option<&Bound<'_, PyAny>>,
        connection_limit: Option<&Bound<'_, PyAny>>,
        header_read_timeout: Option<&Bound<'_, PyAny>>,
        write_timeout: Option<&Bound<'_, PyAny>>,
        max_request_line: Option<&Bound<'_, PyAny>>,
        max_head: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyMetricsServer> {
        let addr = match addr.filter(|a| !a.is_none()) {
            Some(addr) => crate::convert::text("addr", addr)?,
            None => "127.0.0.1:0",
        };
        let limits = Limits {
            connection_limit,
            header_read_timeout,
            write_timeout,
            max_request_line,
            max_head,
        };
        crate::server::serve(py, &self.inner, addr, &limits, options)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Leaving `with Monitor() as m:` stops the background evaluator.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        format!("Monitor(series={})", self.inner.series().len())
    }
}

/// The running background evaluator; `with monitor.start(1.0):` stops it
/// when the block ends.
#[pyclass(name = "Evaluator", module = "perf_core._native", frozen)]
pub(crate) struct PyEvaluator {
    monitor: Monitor,
}

#[pymethods]
impl PyEvaluator {
    /// Stops the background evaluator.
    fn stop(&self, py: Python<'_>) {
        let m = &self.monitor;
        py.detach(|| m.stop());
    }

    /// Whether an evaluator runs on the monitor.
    #[getter]
    fn running(&self) -> bool {
        self.monitor.is_evaluating()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        self.stop(py);
        false
    }
}

/// The HdrHistogram options given (None: the core's defaults), checked by
/// the core when used.
fn hdr_options(
    scale: Option<&Bound<'_, PyAny>>,
    significant_digits: Option<&Bound<'_, PyAny>>,
) -> PyResult<HdrOptions> {
    let mut options = HdrOptions::new();
    if let Some(scale) = scale.filter(|v| !v.is_none()) {
        options = options.scale(real("scale", scale)?);
    }
    if let Some(digits) = significant_digits.filter(|v| !v.is_none()) {
        let digits = count("significant_digits", digits)?;
        options = options.significant_digits(u8::try_from(digits).unwrap_or(u8::MAX));
    }
    Ok(options)
}

/// `{format name: Content-Type}` of every export format, from the core:
/// the text formats of `export(format)`, and `protobuf` (`export_protobuf`).
pub(crate) fn content_types(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    use perf_core::ExportFormat;
    let types = PyDict::new(py);
    let formats = ExportFormat::ALL
        .into_iter()
        .chain([ExportFormat::Protobuf]);
    for format in formats {
        types.set_item(format.as_str(), format.content_type())?;
    }
    Ok(types)
}

/// `monitor.flush_notifications(timeout)` with the GIL released (the
/// callbacks need it), `timeout` in seconds (default 5): for the monitor's
/// and its emergency mode's `flush_notifications`.
pub(crate) fn flush_notifications(
    py: Python<'_>,
    monitor: &Monitor,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<bool> {
    let timeout = opt_duration("timeout", timeout)?.unwrap_or(Duration::from_secs(5));
    Ok(py.detach(|| monitor.flush_notifications(timeout)))
}
