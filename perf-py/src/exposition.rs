//! The options of `Monitor.export_prometheus` / `export_openmetrics` /
//! `serve_metrics`: keyword arguments read into the core's
//! [`ExpositionOptions`], whose `config()` checks them and builds the
//! [`ExpositionConfig`].

use perf_core::{ExpositionConfig, ExpositionOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{new_err, wrong_type, Class, IntoPyResult};

/// Reads the keyword arguments of `method` into [`ExpositionOptions`]
/// (only their Python types are checked here) and returns the core's
/// configuration of them.
pub(crate) fn config(
    py: Python<'_>,
    method: &str,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<ExpositionConfig> {
    options(method, kwargs)?.config().py_err(py)
}

/// The keyword arguments of `method` as [`ExpositionOptions`].
fn options(method: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<ExpositionOptions> {
    let mut options = ExpositionOptions::default();
    for (key, value) in kwargs.into_iter().flatten() {
        let py = key.py();
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let wrong = |expected: &str| wrong_type(py, &key, expected, &value);
        const LABELS: &str = "a dict of str to str";
        const LAYOUTS: &str = "a dict of str to a list of floats";
        const FLOATS: &str = "a list of floats";
        match key.as_str() {
            "global_labels" => {
                options.global_labels = value.extract().map_err(|_| wrong(LABELS))?
            }
            "help" => options.help = value.extract().map_err(|_| wrong(LABELS))?,
            "units" => options.units = value.extract().map_err(|_| wrong(LABELS))?,
            "buckets" => options.buckets = value.extract().map_err(|_| wrong(LAYOUTS))?,
            "summaries" => options.summaries = value.extract().map_err(|_| wrong(LAYOUTS))?,
            "default_buckets" => {
                options.default_buckets = Some(value.extract().map_err(|_| wrong(FLOATS))?)
            }
            "default_summary" => {
                options.default_summary = Some(value.extract().map_err(|_| wrong(FLOATS))?)
            }
            other => {
                let message = format!("{method}() got an unexpected keyword argument {other:?}");
                return Err(new_err(py, Class::ArgumentType, message));
            }
        }
    }
    Ok(options)
}
