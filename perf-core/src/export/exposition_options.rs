//! The options of a text exposition as plain data: what the bindings
//! receive (Python keyword arguments, a Node options object, a C JSON
//! string) turned into an [`ExpositionConfig`] in one place.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::exposition::ExpositionConfig;
use crate::error::{PerfError, Result};

/// The options of [`Monitor::export_prometheus_with`](crate::Monitor::export_prometheus_with)
/// and `export_openmetrics_with` as data, every one optional. As JSON
/// (keys as the field names):
///
/// ```json
/// {"global_labels": {"service": "api"}, "help": {"db.query": "Query time"},
///  "units": {"db.query": "milliseconds"}, "buckets": {"db.query": [1, 5, 25]},
///  "summaries": {"web_vitals.cls": [0.5, 0.75]},
///  "default_buckets": [10, 100, 1000], "default_summary": [0.5, 0.99]}
/// ```
///
/// ```
/// use perf_core::{ExpositionOptions, Monitor};
/// let monitor = Monitor::builder().build()?;
/// monitor.record("web_vitals.cls", &[], 0.05)?;
/// let options = ExpositionOptions::from_json(r#"{"summaries": {"web_vitals.cls": [0.75]}}"#)?;
/// let text = monitor.export_prometheus_with(&options.config()?);
/// assert!(text.contains("web_vitals_cls{quantile=\"0.75\"} 0.05"), "{text}");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpositionOptions {
    /// Labels added to every series ([`ExpositionConfig::global_label`]).
    #[serde(default)]
    pub global_labels: BTreeMap<String, String>,
    /// `# HELP` text per metric name ([`ExpositionConfig::help`]).
    #[serde(default)]
    pub help: BTreeMap<String, String>,
    /// Unit per metric name ([`ExpositionConfig::unit`]).
    #[serde(default)]
    pub units: BTreeMap<String, String>,
    /// Bucket upper bounds per histogram ([`ExpositionConfig::buckets`]).
    #[serde(default)]
    pub buckets: BTreeMap<String, Vec<f64>>,
    /// Summary quantiles per histogram ([`ExpositionConfig::summary`]).
    #[serde(default)]
    pub summaries: BTreeMap<String, Vec<f64>>,
    /// Bucket bounds of every other histogram
    /// ([`ExpositionConfig::default_buckets`]).
    #[serde(default)]
    pub default_buckets: Option<Vec<f64>>,
    /// Summary quantiles of every other histogram
    /// ([`ExpositionConfig::default_summary`]).
    #[serde(default)]
    pub default_summary: Option<Vec<f64>>,
}

impl ExpositionOptions {
    /// Reads the options from JSON (an object; keys as the field names).
    /// Errors: [`PerfError::InvalidConfig`] naming the offending option.
    ///
    /// ```
    /// use perf_core::ExpositionOptions;
    /// assert!(ExpositionOptions::from_json(r#"{"units": {"q": "seconds"}}"#).is_ok());
    /// let err = ExpositionOptions::from_json(r#"{"bucket": {}}"#).unwrap_err();
    /// assert!(err.to_string().contains("unknown field `bucket`"), "{err}");
    /// ```
    pub fn from_json(json: &str) -> Result<ExpositionOptions> {
        let mut reader = serde_json::Deserializer::from_str(json);
        let options = serde_path_to_error::deserialize(&mut reader).map_err(|err| {
            let path = err.path().to_string();
            PerfError::InvalidConfig(format!(
                "exposition options at {path}: {}",
                err.into_inner()
            ))
        })?;
        reader
            .end()
            .map_err(|err| PerfError::InvalidConfig(format!("exposition options: {err}")))?;
        Ok(options)
    }

    /// The configuration these options describe, each checked. Errors
    /// name the option (`buckets: bucket bounds [5.0, 1.0]: …`).
    ///
    /// ```
    /// use perf_core::ExpositionOptions;
    /// let options = ExpositionOptions {
    ///     default_buckets: Some(vec![5.0, 1.0]),
    ///     ..ExpositionOptions::default()
    /// };
    /// let err = options.config().unwrap_err();
    /// assert!(err.to_string().contains("default_buckets: "), "{err}");
    /// ```
    pub fn config(&self) -> Result<ExpositionConfig> {
        let mut config = ExpositionConfig::new();
        for (key, value) in &self.global_labels {
            config = config.global_label(key, value)?;
        }
        for (metric, text) in &self.help {
            config = config.help(metric, text);
        }
        for (metric, unit) in &self.units {
            config = named("units", config.unit(metric, unit))?;
        }
        for (metric, bounds) in &self.buckets {
            config = named("buckets", config.buckets(metric, bounds))?;
        }
        for (metric, quantiles) in &self.summaries {
            config = named("summaries", config.summary(metric, quantiles))?;
        }
        if let Some(bounds) = &self.default_buckets {
            config = named("default_buckets", config.default_buckets(bounds))?;
        }
        if let Some(quantiles) = &self.default_summary {
            config = named("default_summary", config.default_summary(quantiles))?;
        }
        Ok(config)
    }
}

/// `result`, its configuration error prefixed with the option's name.
fn named(option: &str, result: Result<ExpositionConfig>) -> Result<ExpositionConfig> {
    result.map_err(|err| match err {
        PerfError::InvalidConfig(reason) => PerfError::InvalidConfig(format!("{option}: {reason}")),
        other => other,
    })
}

impl ExpositionConfig {
    /// The configuration of JSON options ([`ExpositionOptions`]).
    ///
    /// ```
    /// use perf_core::ExpositionConfig;
    /// assert!(ExpositionConfig::from_json(r#"{"global_labels": {"env": "prod"}}"#).is_ok());
    /// assert!(ExpositionConfig::from_json(r#"{"global_labels": {"le": "1"}}"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<ExpositionConfig> {
        ExpositionOptions::from_json(json)?.config()
    }
}
