//! The export formats by name, with the media type each is served as: the
//! one list every binding offers (`monitor.export(format)`), so none keeps
//! its own.

use std::fmt;
use std::str::FromStr;

use crate::error::PerfError;
use crate::export::exposition::ExpositionFormat;
use crate::export::protobuf::PROTOBUF_CONTENT_TYPE;

/// A whole-monitor export format.
///
/// ```
/// use perf_core::ExportFormat;
/// let format: ExportFormat = "openmetrics".parse()?;
/// assert_eq!(format, ExportFormat::OpenMetrics);
/// assert_eq!(format.content_type(), "application/openmetrics-text; version=1.0.0; charset=utf-8");
/// assert_eq!(ExportFormat::Csv.as_str(), "csv");
/// assert!("xml".parse::<ExportFormat>().is_err());
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// The Prometheus text exposition format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// perf-core's JSON document (`perf-core-export`, version 1).
    Json,
    /// CSV, one row per series.
    Csv,
    /// The Prometheus protobuf exposition (length-delimited
    /// `io.prometheus.client.MetricFamily` messages) with native
    /// histograms: binary, so not one of [`ExportFormat::ALL`] and not
    /// parsed from a name; see [`crate::Monitor::export_protobuf`].
    Protobuf,
}

impl ExportFormat {
    /// Every text format: the formats [`crate::Monitor::export`] returns
    /// as text and `parse` accepts by name. [`ExportFormat::Protobuf`] is
    /// binary and not among them.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Prometheus,
        ExportFormat::OpenMetrics,
        ExportFormat::Json,
        ExportFormat::Csv,
    ];

    /// The name (`"prometheus"`, `"openmetrics"`, `"json"`, `"csv"`,
    /// `"protobuf"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Prometheus => "prometheus",
            ExportFormat::OpenMetrics => "openmetrics",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Protobuf => "protobuf",
        }
    }

    /// The HTTP `Content-Type` to serve the export with.
    ///
    /// ```
    /// use perf_core::ExportFormat;
    /// assert_eq!(ExportFormat::Json.content_type(), "application/json");
    /// assert_eq!(
    ///     ExportFormat::Protobuf.content_type(),
    ///     "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    /// );
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Prometheus => ExpositionFormat::Prometheus.content_type(),
            ExportFormat::OpenMetrics => ExpositionFormat::OpenMetrics.content_type(),
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = PerfError;

    /// A text format by its name; another name is
    /// [`PerfError::InvalidConfig`] listing the names. `"protobuf"` is
    /// refused too (with a pointer to [`crate::Monitor::export_protobuf`]):
    /// the callers of `parse` export text.
    fn from_str(name: &str) -> Result<Self, PerfError> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| {
                let hint = if name == ExportFormat::Protobuf.as_str() {
                    " (protobuf is binary: use Monitor::export_protobuf)"
                } else {
                    ""
                };
                PerfError::InvalidConfig(format!(
                    "unknown export format {name:?}: use prometheus, openmetrics, json or csv{hint}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in ExportFormat::ALL {
            assert_eq!(format.as_str().parse::<ExportFormat>().unwrap(), format);
            assert_eq!(format.to_string(), format.as_str());
        }
    }

    #[test]
    fn protobuf_is_named_but_not_parsed() {
        assert_eq!(ExportFormat::Protobuf.as_str(), "protobuf");
        assert!(!ExportFormat::ALL.contains(&ExportFormat::Protobuf));
        let err = "protobuf".parse::<ExportFormat>().unwrap_err().to_string();
        assert!(err.contains("export_protobuf"), "{err}");
    }
}
