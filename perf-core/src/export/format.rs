//! The export formats by name, with the media type each is served as: the
//! one list every binding offers (`monitor.export(format)`), so none keeps
//! its own.

use std::fmt;
use std::str::FromStr;

use crate::error::PerfError;
use crate::export::exposition::ExpositionFormat;

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
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Prometheus,
        ExportFormat::OpenMetrics,
        ExportFormat::Json,
        ExportFormat::Csv,
    ];

    /// The name (`"prometheus"`, `"openmetrics"`, `"json"`, `"csv"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Prometheus => "prometheus",
            ExportFormat::OpenMetrics => "openmetrics",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }

    /// The HTTP `Content-Type` to serve the export with.
    ///
    /// ```
    /// assert_eq!(perf_core::ExportFormat::Json.content_type(), "application/json");
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Prometheus => ExpositionFormat::Prometheus.content_type(),
            ExportFormat::OpenMetrics => ExpositionFormat::OpenMetrics.content_type(),
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
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

    /// A format by its name; another name is [`PerfError::InvalidConfig`]
    /// listing the names.
    fn from_str(name: &str) -> Result<Self, PerfError> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| {
                PerfError::InvalidConfig(format!(
                    "unknown export format {name:?}: use prometheus, openmetrics, json or csv"
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
}
