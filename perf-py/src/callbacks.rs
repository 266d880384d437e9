//! Python callbacks called from the engine (alert subscribers, emergency
//! listeners), possibly from its background threads: each call attaches to
//! the interpreter, and an exception is logged on the `perf_core` logger,
//! counted, and never reaches the engine or the other callbacks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;

/// A Python callable and the counter of its failures.
pub(crate) struct Callback {
    func: Py<PyAny>,
    what: &'static str,
    errors: Arc<AtomicU64>,
}

impl Callback {
    /// Checks that `func` is callable.
    pub(crate) fn new(
        func: &Bound<'_, PyAny>,
        what: &'static str,
        errors: Arc<AtomicU64>,
    ) -> PyResult<Self> {
        if !func.is_callable() {
            return Err(crate::errors::wrong_type(
                func.py(),
                "callback",
                "callable",
                func,
            ));
        }
        Ok(Callback {
            func: func.clone().unbind(),
            what,
            errors,
        })
    }

    /// Calls the function with the argument `make` builds; any exception
    /// (in `make` or in the call) is logged and counted.
    pub(crate) fn call(
        &self,
        make: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>>,
    ) {
        Python::attach(|py| {
            let result = make(py).and_then(|arg| self.func.bind(py).call1((arg,)));
            if let Err(err) = result {
                self.errors.fetch_add(1, Ordering::Relaxed);
                self.log(py, err);
            }
        });
    }

    /// Logs `err` on the `perf_core` logger with its traceback.
    fn log(&self, py: Python<'_>, err: PyErr) {
        let logged = py
            .import("logging")
            .and_then(|logging| logging.call_method1("getLogger", ("perf_core",)))
            .and_then(|logger| {
                let kwargs = pyo3::types::PyDict::new(py);
                kwargs.set_item("exc_info", err.value(py))?;
                logger.call_method(
                    "error",
                    (
                        "%s callback %r raised an exception",
                        self.what,
                        self.func.bind(py),
                    ),
                    Some(&kwargs),
                )
            });
        if logged.is_err() {
            err.write_unraisable(py, Some(self.func.bind(py)));
        }
    }
}
