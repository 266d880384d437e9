//! Exports: Prometheus text, OpenMetrics, JSON and CSV, synchronously or as
//! a promise computed off the JavaScript thread (`monitor.metrics()`).

use napi::bindgen_prelude::{Env, Task};
use napi_derive::napi;
use perf_core::{HdrOptions, Monitor};

use crate::error::{binding_error, Result};

/// How HdrHistogram strings scale values to integers; both optional.
#[napi(object)]
pub struct HdrExportOptions {
    /// Integers per unit of the series (default 1000: microseconds for ms).
    pub scale: Option<f64>,
    /// Significant decimal digits kept, 1-5 (default 3).
    pub significant_digits: Option<u32>,
}

/// The perf-core options of `options`.
pub fn hdr_options(options: Option<HdrExportOptions>) -> HdrOptions {
    let mut out = HdrOptions::new();
    if let Some(o) = options {
        if let Some(scale) = o.scale {
            out = out.scale(scale);
        }
        if let Some(digits) = o.significant_digits {
            out = out.significant_digits(u8::try_from(digits).unwrap_or(u8::MAX));
        }
    }
    out
}

/// The formats `export_sync` / `export_async` produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Prometheus text exposition 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// perf-core's JSON export.
    Json,
    /// CSV, one row per series.
    Csv,
}

impl ExportFormat {
    /// The format named `name` (`prometheus`, `openmetrics`, `json`, `csv`).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "prometheus" => Ok(Self::Prometheus),
            "openmetrics" => Ok(Self::OpenMetrics),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            other => Err(binding_error(
                "ERR_PERF_INVALID_VALUE",
                format!(
                    "unknown export format {other:?}: use prometheus, openmetrics, json or csv"
                ),
            )),
        }
    }

    /// The export of `monitor` in this format.
    pub fn render(self, monitor: &Monitor) -> String {
        match self {
            Self::Prometheus => monitor.export_prometheus(),
            Self::OpenMetrics => monitor.export_openmetrics(),
            Self::Json => monitor.export_json(),
            Self::Csv => monitor.export_csv(),
        }
    }
}

/// An export computed on the libuv thread pool.
pub struct ExportTask {
    monitor: Monitor,
    format: ExportFormat,
}

impl ExportTask {
    /// The export of `monitor` in `format`.
    pub fn new(monitor: Monitor, format: ExportFormat) -> Self {
        ExportTask { monitor, format }
    }
}

impl Task for ExportTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        Ok(self.format.render(&self.monitor))
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_render() {
        let monitor = Monitor::builder().build().unwrap();
        monitor.record("lat", &[], 5.0).unwrap();
        let text = ExportFormat::parse("prometheus").unwrap().render(&monitor);
        assert!(text.contains("lat"), "{text}");
        assert!(ExportFormat::parse("xml").is_err());
    }
}
