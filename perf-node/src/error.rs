//! The one place where perf-core errors become JavaScript errors.
//!
//! Every error thrown by the addon carries a `code` of the form
//! `ERR_PERF_*` (napi-rs puts an error's status string in `code`). The
//! facade turns codes of [`RANGE_CODES`] into `RangeError` and of
//! [`TYPE_CODES`] into `TypeError` (see `ts/errors.ts`), keeping the
//! message and the code; every other code stays a plain `Error`.

use perf_core::PerfError;

/// A JavaScript error with an `ERR_PERF_*` code.
pub type JsError = napi::Error<String>;

/// Results of the addon's entry points.
pub type Result<T> = std::result::Result<T, JsError>;

/// Codes the facade throws as `RangeError`: a value out of its range.
pub const RANGE_CODES: [&str; 4] = [
    "ERR_PERF_INVALID_VALUE",
    "ERR_PERF_INVALID_PERCENTILE",
    "ERR_PERF_INVALID_WINDOW",
    "ERR_PERF_INVALID_CONFIG",
];

/// Codes the facade throws as `TypeError`: a name or tag that breaks the
/// naming rules, or a metric used as another kind.
pub const TYPE_CODES: [&str; 3] = [
    "ERR_PERF_INVALID_NAME",
    "ERR_PERF_INVALID_TAG",
    "ERR_PERF_KIND_MISMATCH",
];

/// The `ERR_PERF_*` code of an error.
pub fn code(err: &PerfError) -> &'static str {
    match err {
        PerfError::InvalidName { .. } => "ERR_PERF_INVALID_NAME",
        PerfError::InvalidTag { .. } => "ERR_PERF_INVALID_TAG",
        PerfError::InvalidValue { .. } => "ERR_PERF_INVALID_VALUE",
        PerfError::KindMismatch { .. } => "ERR_PERF_KIND_MISMATCH",
        PerfError::UnknownSeries { .. } => "ERR_PERF_UNKNOWN_SERIES",
        PerfError::TooManyMetrics { .. } => "ERR_PERF_TOO_MANY_METRICS",
        PerfError::InvalidPercentile { .. } => "ERR_PERF_INVALID_PERCENTILE",
        PerfError::InvalidWindow { .. } => "ERR_PERF_INVALID_WINDOW",
        PerfError::WindowsDisabled => "ERR_PERF_WINDOWS_DISABLED",
        PerfError::InvalidRule { .. } => "ERR_PERF_INVALID_RULE",
        PerfError::InvalidRulesJson { .. } => "ERR_PERF_INVALID_RULES_JSON",
        PerfError::DuplicateRule { .. } => "ERR_PERF_DUPLICATE_RULE",
        PerfError::UnknownAlert { .. } => "ERR_PERF_UNKNOWN_ALERT",
        PerfError::InvalidEmergency { .. } => "ERR_PERF_INVALID_EMERGENCY",
        PerfError::InvalidBaseline { .. } => "ERR_PERF_INVALID_BASELINE",
        PerfError::Io { .. } => "ERR_PERF_IO",
        PerfError::InvalidComparison(_) => "ERR_PERF_INVALID_COMPARISON",
        PerfError::InvalidConfig(_) => "ERR_PERF_INVALID_CONFIG",
        PerfError::InvalidHdr { .. } => "ERR_PERF_INVALID_HDR",
        // PerfError is non-exhaustive: a variant added later is still a
        // coded error, just a generic one until it gets its own code.
        _ => "ERR_PERF_ERROR",
    }
}

/// The JavaScript error for a perf-core error.
pub fn to_js(err: PerfError) -> JsError {
    napi::Error::new(code(&err).to_owned(), err.to_string())
}

/// An error raised by the binding itself (an argument perf-core never sees,
/// like a millisecond duration), with one of the codes above.
pub fn binding_error(code: &'static str, reason: impl Into<String>) -> JsError {
    napi::Error::new(code.to_owned(), reason.into())
}

/// Adapts a napi-rs error (a failed conversion) to the addon's error type.
pub fn from_napi(err: napi::Error) -> JsError {
    napi::Error::new(format!("ERR_PERF_NAPI_{}", err.status), err.reason.clone())
}

/// `?`-friendly conversion of perf-core results.
pub trait IntoJs<T> {
    /// The result with its error converted by [`to_js`].
    fn js(self) -> Result<T>;
}

impl<T> IntoJs<T> for perf_core::Result<T> {
    fn js(self) -> Result<T> {
        self.map_err(to_js)
    }
}

/// The codes as the facade reads them, so the JavaScript mapping cannot
/// drift from this module.
#[napi_derive::napi(object)]
pub struct ErrorCodes {
    /// Codes thrown as `RangeError`.
    pub range: Vec<String>,
    /// Codes thrown as `TypeError`.
    pub type_error: Vec<String>,
}

/// The codes of [`RANGE_CODES`] and [`TYPE_CODES`].
#[napi_derive::napi]
pub fn error_codes() -> ErrorCodes {
    let owned = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect();
    ErrorCodes {
        range: owned(&RANGE_CODES),
        type_error: owned(&TYPE_CODES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_gets_its_code_and_message() {
        let err = to_js(PerfError::InvalidName {
            name: "9x".into(),
            reason: "must start with a letter",
        });
        assert_eq!(err.status, "ERR_PERF_INVALID_NAME");
        assert!(err.reason.contains("9x"), "{}", err.reason);
        assert_eq!(
            code(&PerfError::WindowsDisabled),
            "ERR_PERF_WINDOWS_DISABLED"
        );
    }

    #[test]
    fn class_codes_are_codes_of_variants() {
        let range = code(&PerfError::InvalidPercentile { q: 101.0 });
        assert!(RANGE_CODES.contains(&range));
        let type_code = code(&PerfError::InvalidTag {
            key: "k".into(),
            reason: "r",
        });
        assert!(TYPE_CODES.contains(&type_code));
    }
}
