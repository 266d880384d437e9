//! The Python binding of perf-core: the native module `perf_core._native`,
//! which the pure-Python package `perf_core` re-exports (adding the
//! `timed` decorator). All logic lives in perf-core; this crate converts
//! types and errors.
//!
//! * `errors` — the exception hierarchy and the one conversion of
//!   `perf_core::PerfError`.
//! * `convert` — arguments in (tags, values, durations, documents).
//! * `records` — plain data out, as the dataclasses of `perf_core._records`.
//! * `fastcall` — allocation-free argument passing for `Monitor.record`
//!   and `Monitor.timer`.
//! * `monitor`, `handles`, `stats`, `rules`, `emergency`, `regression`,
//!   `server`, `clock` — one Python class family each; `web_vitals` reads
//!   and rates Web Vitals; `callbacks` runs Python
//!   callbacks from engine threads.

mod callbacks;
mod clock;
mod convert;
mod emergency;
mod errors;
mod exposition;
mod fastcall;
mod handles;
mod monitor;
mod records;
mod regression;
mod rules;
mod server;
mod stats;
mod web_vitals;

use pyo3::prelude::*;

/// perf-core's native module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(module)?;
    module.add_class::<monitor::PyMonitor>()?;
    fastcall::install(&module.py().get_type::<monitor::PyMonitor>())?;
    module.add_class::<monitor::PyEvaluator>()?;
    module.add_class::<handles::PyHistogram>()?;
    module.add_class::<handles::PyCounter>()?;
    module.add_class::<handles::PyGauge>()?;
    module.add_class::<handles::PyTimer>()?;
    module.add_class::<stats::PyStats>()?;
    module.add_class::<clock::PyManualClock>()?;
    module.add_class::<rules::PyRule>()?;
    module.add_class::<rules::PyBudget>()?;
    module.add_class::<emergency::PyEmergency>()?;
    module.add_class::<regression::PyBaseline>()?;
    module.add_class::<regression::PyPolicy>()?;
    module.add_class::<regression::PyRegressionReport>()?;
    module.add_class::<server::PyMetricsServer>()?;
    module.add_function(wrap_pyfunction!(web_vitals::py_rate_web_vitals, module)?)?;
    // Private (for `str(SeriesKey)`): set, not added, to stay out of `__all__`.
    module.setattr(
        "_series_text",
        wrap_pyfunction!(records::py_series_text, module)?,
    )?;
    module.add_function(wrap_pyfunction!(regression::py_compare, module)?)?;
    module.add_function(wrap_pyfunction!(monitor::py_after_fork, module)?)?;
    module.add("CONTENT_TYPES", monitor::content_types(module.py())?)?;
    module.add(
        "DURATION_FIELDS",
        pyo3::types::PyFrozenSet::new(module.py(), perf_core::RulesConfig::DURATION_FIELDS)?,
    )?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
