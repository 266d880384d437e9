//! The options of `Monitor.export_prometheus` / `export_openmetrics`:
//! an [`ExpositionConfig`] from keyword arguments.

use std::collections::BTreeMap;

use perf_core::ExpositionConfig;
use pyo3::prelude::*;

use pyo3::types::PyDict;

use crate::errors::{new_err, wrong_type, Class, IntoPyResult};

/// The keyword options of an exposition, as Python passes them.
#[derive(Default)]
pub(crate) struct ExpositionOptions {
    /// Labels added to every series (`{"service": "api"}`).
    pub(crate) global_labels: Option<BTreeMap<String, String>>,
    /// HELP text per metric name.
    pub(crate) help: Option<BTreeMap<String, String>>,
    /// Unit suffix per metric name (`{"http.duration": "milliseconds"}`).
    pub(crate) units: Option<BTreeMap<String, String>>,
    /// Histogram bucket bounds per metric name.
    pub(crate) buckets: Option<BTreeMap<String, Vec<f64>>>,
    /// Summary quantiles (0..1) per metric name, in place of buckets.
    pub(crate) summaries: Option<BTreeMap<String, Vec<f64>>>,
    /// Bucket bounds of every other histogram.
    pub(crate) default_buckets: Option<Vec<f64>>,
    /// Summary quantiles of every other histogram, in place of buckets.
    pub(crate) default_summary: Option<Vec<f64>>,
}

impl ExpositionOptions {
    /// Reads the keyword arguments of an export call.
    pub(crate) fn from_kwargs(method: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut options = ExpositionOptions::default();
        for (key, value) in kwargs.into_iter().flatten() {
            let py = key.py();
            let key: String = key.extract()?;
            let wrong = |expected: &str| wrong_type(py, &key, expected, &value);
            match key.as_str() {
                "global_labels" => {
                    options.global_labels =
                        Some(value.extract().map_err(|_| wrong("a dict of str to str"))?)
                }
                "help" => {
                    options.help = Some(value.extract().map_err(|_| wrong("a dict of str to str"))?)
                }
                "units" => {
                    options.units =
                        Some(value.extract().map_err(|_| wrong("a dict of str to str"))?)
                }
                "buckets" => {
                    options.buckets = Some(
                        value
                            .extract()
                            .map_err(|_| wrong("a dict of str to a list of floats"))?,
                    )
                }
                "summaries" => {
                    options.summaries = Some(
                        value
                            .extract()
                            .map_err(|_| wrong("a dict of str to a list of floats"))?,
                    )
                }
                "default_buckets" => {
                    options.default_buckets =
                        Some(value.extract().map_err(|_| wrong("a list of floats"))?)
                }
                "default_summary" => {
                    options.default_summary =
                        Some(value.extract().map_err(|_| wrong("a list of floats"))?)
                }
                other => {
                    let message =
                        format!("{method}() got an unexpected keyword argument {other:?}");
                    return Err(new_err(py, Class::ArgumentType, message));
                }
            }
        }
        Ok(options)
    }

    /// The engine's configuration; errors name the option.
    pub(crate) fn config(&self, py: Python<'_>) -> PyResult<ExpositionConfig> {
        let mut config = ExpositionConfig::new();
        for (k, v) in self.global_labels.iter().flatten() {
            config = config.global_label(k, v).arg_err(py, "global_labels")?;
        }
        for (metric, text) in self.help.iter().flatten() {
            config = config.help(metric, text);
        }
        for (metric, unit) in self.units.iter().flatten() {
            config = config.unit(metric, unit).arg_err(py, "units")?;
        }
        for (metric, bounds) in self.buckets.iter().flatten() {
            config = config.buckets(metric, bounds).arg_err(py, "buckets")?;
        }
        for (metric, quantiles) in self.summaries.iter().flatten() {
            config = config.summary(metric, quantiles).arg_err(py, "summaries")?;
        }
        if let Some(bounds) = &self.default_buckets {
            config = config
                .default_buckets(bounds)
                .arg_err(py, "default_buckets")?;
        }
        if let Some(quantiles) = &self.default_summary {
            config = config
                .default_summary(quantiles)
                .arg_err(py, "default_summary")?;
        }
        Ok(config)
    }
}
