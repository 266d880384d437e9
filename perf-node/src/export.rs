//! Exports: Prometheus text, OpenMetrics, JSON and CSV, synchronously or as
//! a promise computed off the JavaScript thread (`monitor.metrics()`).

use napi::bindgen_prelude::{Env, Task};
use napi_derive::napi;
use perf_core::{ExportFormat, HdrOptions, Monitor};

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

/// One export format, as the core names it.
#[napi(object)]
pub struct ExportFormatInfo {
    /// `prometheus`, `openmetrics`, `json` or `csv`.
    pub name: String,
    /// The HTTP `Content-Type` to serve it with.
    pub content_type: String,
}

/// Every export format the core writes, with its media type (the facade's
/// `CONTENT_TYPES` is built from this, not kept apart).
#[napi]
pub fn export_formats() -> Vec<ExportFormatInfo> {
    ExportFormat::ALL
        .into_iter()
        .map(|f| ExportFormatInfo {
            name: f.as_str().to_owned(),
            content_type: f.content_type().to_owned(),
        })
        .collect()
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
        Ok(self.monitor.export(self.format))
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_options_take_what_is_given() {
        let options = hdr_options(Some(HdrExportOptions {
            scale: Some(1.0),
            significant_digits: None,
        }));
        assert_eq!(options, HdrOptions::new().scale(1.0));
    }
}
