//! `Emergency`: the process-wide emergency mode of a monitor.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use perf_core::{EmergencyConfig, Monitor, SubscriptionId};
use pyo3::prelude::*;

use crate::callbacks::Callback;
use crate::convert::{document, json_loads};
use crate::errors::IntoPyResult;
use crate::records;

/// Emergency mode: on when its triggers hold long enough (or by hand),
/// off when they have cleared long enough. `is_active()` is cheap enough
/// for every request.
#[pyclass(name = "Emergency", module = "perf_core._native", frozen)]
pub(crate) struct PyEmergency {
    pub(crate) monitor: Monitor,
    pub(crate) callback_errors: Arc<AtomicU64>,
}

#[pymethods]
impl PyEmergency {
    /// Whether the mode is on.
    #[inline]
    fn is_active(&self) -> bool {
        self.monitor.emergency().is_active()
    }

    /// Turns the mode on by hand (held until `deactivate`). Returns whether
    /// anything changed.
    fn activate(&self, py: Python<'_>, reason: &Bound<'_, PyAny>) -> PyResult<bool> {
        let reason = crate::convert::text("reason", reason)?;
        let e = self.monitor.emergency();
        py.detach(|| e.activate(reason)).arg_err(py, "reason")
    }

    /// Turns the mode off by hand. Returns whether it was on.
    fn deactivate(&self, py: Python<'_>, reason: &Bound<'_, PyAny>) -> PyResult<bool> {
        let reason = crate::convert::text("reason", reason)?;
        let e = self.monitor.emergency();
        py.detach(|| e.deactivate(reason)).arg_err(py, "reason")
    }

    /// The latest transitions, oldest first.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        let e = self.monitor.emergency();
        let history = py.detach(|| e.history());
        records::list(py, &history, records::transition)
    }

    /// The mode and each trigger, now.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.monitor.emergency();
        let status = py.detach(|| e.status());
        records::emergency_status(py, &status)
    }

    /// Replaces the configuration: `config` is the `emergency` section of
    /// a rules document (a dict or JSON str), read by the core
    /// (`EmergencyConfig::from_json`) and applied with
    /// `Monitor::configure_emergency`.
    fn configure(&self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<()> {
        let section = document("config", config)?;
        let config = EmergencyConfig::from_json(&section).py_err(py)?;
        let monitor = &self.monitor;
        py.detach(|| monitor.configure_emergency(config)).py_err(py)
    }

    /// The configuration in effect, as the `emergency` section of a rules
    /// document (settings at their defaults left out: `{}` for the
    /// default).
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.monitor.emergency();
        json_loads(py, &py.detach(|| e.config().to_json()))
    }

    /// Calls `callback(transition)` on every transition, in order, on the
    /// monitor's notification thread (switching never waits for it).
    /// Returns an id for `remove_listener`.
    fn on_change(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<u64> {
        let cb = Callback::new(callback, "emergency", self.callback_errors.clone())?;
        let e = self.monitor.emergency();
        let id = py.detach(|| {
            e.subscribe(move |t| {
                cb.call(|py| records::transition(py, t));
            })
        });
        Ok(id.0)
    }

    /// Waits (at most `timeout` seconds, default 5) until every transition
    /// made so far has reached the listeners; returns whether all have.
    #[pyo3(signature = (timeout = None))]
    fn flush_notifications(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        crate::monitor::flush_notifications(py, &self.monitor, timeout)
    }

    /// Removes a listener. Returns whether it was subscribed.
    fn remove_listener(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = crate::convert::count("id", id)?;
        let e = self.monitor.emergency();
        Ok(py.detach(|| e.unsubscribe(SubscriptionId(id))))
    }

    fn __bool__(&self) -> bool {
        self.is_active()
    }

    fn __repr__(&self) -> String {
        let active = if self.is_active() { "True" } else { "False" };
        format!("Emergency(active={active})")
    }
}
