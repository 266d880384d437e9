//! Exports: Prometheus text, OpenMetrics, JSON and CSV, and the Prometheus
//! protobuf exposition (bytes), synchronously or as a promise computed off
//! the JavaScript thread (`monitor.metrics()`).

use napi::bindgen_prelude::{Buffer, Env, Task};
use napi_derive::napi;
use perf_core::{ExportFormat, ExpositionConfig, ExpositionOptions, HdrOptions, Monitor};

use crate::error::{binding_error, IntoJs, Result};

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
    /// `prometheus`, `openmetrics`, `json`, `csv` or `protobuf`.
    pub name: String,
    /// The HTTP `Content-Type` to serve it with.
    pub content_type: String,
}

/// Every export format the core writes, with its media type (the facade's
/// `CONTENT_TYPES` is built from this, not kept apart): the text formats,
/// then `protobuf` (binary: `exportProtobuf`, `metrics('protobuf')`).
#[napi]
pub fn export_formats() -> Vec<ExportFormatInfo> {
    ExportFormat::ALL
        .into_iter()
        .chain([ExportFormat::Protobuf])
        .map(|f| ExportFormatInfo {
            name: f.as_str().to_owned(),
            content_type: f.content_type().to_owned(),
        })
        .collect()
}

/// The exposition configuration of `options`, [`ExpositionOptions`] as
/// JSON (the facade maps its camelCase keys to the core's names), for an
/// export in `format`: none without options; options with a format other
/// than Prometheus, OpenMetrics or protobuf are an `ERR_PERF_INVALID_CONFIG`.
pub fn exposition_config(
    format: ExportFormat,
    options: Option<&str>,
) -> Result<Option<ExpositionConfig>> {
    let Some(json) = options else { return Ok(None) };
    if !matches!(
        format,
        ExportFormat::Prometheus | ExportFormat::OpenMetrics | ExportFormat::Protobuf
    ) {
        return Err(binding_error(
            "ERR_PERF_INVALID_CONFIG",
            format!(
                "exposition options apply to the prometheus and openmetrics formats, not {format}"
            ),
        ));
    }
    ExpositionOptions::from_json(json)
        .and_then(|options| options.config())
        .js()
        .map(Some)
}

/// An export, computed on the libuv thread pool ([`Task`]) or at once
/// ([`ExportTask::run`]).
pub struct ExportTask {
    monitor: Monitor,
    format: ExportFormat,
    config: Option<ExpositionConfig>,
}

impl ExportTask {
    /// The export of `monitor` in `format`, with the exposition `config`
    /// if given (Prometheus and OpenMetrics only).
    pub fn new(monitor: Monitor, format: ExportFormat, config: Option<ExpositionConfig>) -> Self {
        ExportTask {
            monitor,
            format,
            config,
        }
    }

    /// The export's text.
    pub fn run(&self) -> String {
        match (&self.config, self.format) {
            (Some(config), ExportFormat::Prometheus) => self.monitor.export_prometheus_with(config),
            (Some(config), ExportFormat::OpenMetrics) => {
                self.monitor.export_openmetrics_with(config)
            }
            _ => self.monitor.export(self.format),
        }
    }
}

impl Task for ExportTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        Ok(self.run())
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

/// The protobuf exposition, computed on the libuv thread pool ([`Task`])
/// or at once ([`ProtobufTask::run`]).
pub struct ProtobufTask {
    monitor: Monitor,
    config: ExpositionConfig,
}

impl ProtobufTask {
    /// The protobuf exposition of `monitor` with the exposition `config`
    /// (the default one if `None`).
    pub fn new(monitor: Monitor, config: Option<ExpositionConfig>) -> Self {
        ProtobufTask {
            monitor,
            config: config.unwrap_or_default(),
        }
    }

    /// The exposition's bytes.
    pub fn run(&self) -> Vec<u8> {
        self.monitor.export_protobuf_with(&self.config)
    }
}

impl Task for ProtobufTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Vec<u8>> {
        Ok(self.run())
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> napi::Result<Buffer> {
        Ok(output.into())
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
