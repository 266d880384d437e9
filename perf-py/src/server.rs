//! `MetricsServer`: the core's HTTP endpoint (`Monitor::serve_metrics_with_limits`,
//! feature `http`) serving `GET /metrics` from its own thread.

use std::net::SocketAddr;
use std::sync::Mutex;

use perf_core::{MetricsServer, Monitor, ServerLimits};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{count, duration};
use crate::errors::{invalid_argument, IntoPyResult};

/// The server limits given as keyword arguments (None: the default), each
/// checked by the core and named in its errors.
pub(crate) struct Limits<'a, 'py> {
    pub(crate) connection_limit: Option<&'a Bound<'py, PyAny>>,
    pub(crate) header_read_timeout: Option<&'a Bound<'py, PyAny>>,
    pub(crate) write_timeout: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_request_line: Option<&'a Bound<'py, PyAny>>,
    pub(crate) max_head: Option<&'a Bound<'py, PyAny>>,
}

impl Limits<'_, '_> {
    /// The core's limits. The head limit is set before the request line
    /// limit, which must not exceed it.
    fn limits(&self, py: Python<'_>) -> PyResult<ServerLimits> {
        let mut limits = ServerLimits::new();
        if let Some(n) = given(self.connection_limit) {
            let n = size("connection_limit", &n)?;
            limits = limits.connection_limit_of(n).py_err(py)?;
        }
        if let Some(t) = given(self.header_read_timeout) {
            let t = duration("header_read_timeout", &t)?;
            limits = limits.header_read_timeout(t).py_err(py)?;
        }
        if let Some(t) = given(self.write_timeout) {
            let t = duration("write_timeout", &t)?;
            limits = limits.write_timeout(t).py_err(py)?;
        }
        if let Some(n) = given(self.max_head) {
            limits = limits.max_head(size("max_head", &n)?).py_err(py)?;
        }
        if let Some(n) = given(self.max_request_line) {
            let n = size("max_request_line", &n)?;
            limits = limits.max_request_line(n).py_err(py)?;
        }
        Ok(limits)
    }
}

/// The value of an optional keyword argument, None meaning not given.
fn given<'py>(value: Option<&Bound<'py, PyAny>>) -> Option<Bound<'py, PyAny>> {
    value.filter(|v| !v.is_none()).cloned()
}

/// A count that fits in `usize`.
fn size(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<usize> {
    let n = count(arg, value)?;
    usize::try_from(n).map_err(|_| invalid_argument(value.py(), arg, "is too large"))
}

/// Starts the core's endpoint for `monitor` on `addr` (`"host:port"`)
/// with the exposition options in `options`; the GIL is released while
/// it binds and starts.
pub(crate) fn serve(
    py: Python<'_>,
    monitor: &Monitor,
    addr: &str,
    limits: &Limits<'_, '_>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyMetricsServer> {
    let limits = limits.limits(py)?;
    let config = crate::exposition::config(py, "serve_metrics", options)?;
    let server = py
        .detach(|| monitor.serve_metrics_with_limits(addr, config, limits))
        .py_err(py)?;
    Ok(PyMetricsServer {
        addr: server.local_addr(),
        server: Mutex::new(Some(server)),
    })
}

/// A running `/metrics` endpoint (`Monitor.serve_metrics`): Prometheus
/// text at `GET /metrics` (OpenMetrics when the scraper asks for it),
/// served from its own thread without the GIL. `close()` (or leaving a
/// `with` block) stops it; so does garbage collection.
#[pyclass(name = "MetricsServer", module = "perf_core._native", frozen)]
pub(crate) struct PyMetricsServer {
    addr: SocketAddr,
    server: Mutex<Option<MetricsServer>>,
}

#[pymethods]
impl PyMetricsServer {
    /// The address it listens on, `"host:port"` (the actual port when
    /// started on port 0).
    #[getter]
    fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The IP address it listens on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port it listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL of the metrics, `http://host:port/metrics`.
    #[getter]
    fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Whether it still serves.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().is_ok_and(|s| s.is_some())
    }

    /// Stops serving: the port is closed at once, requests in progress
    /// get up to a second to finish (the GIL is released meanwhile).
    /// Calling it again does nothing.
    fn close(&self, py: Python<'_>) {
        let server = match self.server.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(mut server) = server {
            py.detach(move || server.stop());
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Leaving `with monitor.serve_metrics() as server:` closes it.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "" } else { ", closed" };
        format!("MetricsServer({:?}{state})", self.addr.to_string())
    }
}
