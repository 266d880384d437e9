//! The one place where perf-core errors become JavaScript errors.
//!
//! Every error thrown by the addon carries a `code` of the form
//! `ERR_PERF_*` (napi-rs puts an error's status string in `code`). The
//! facade turns codes of [`RANGE_CODES`] into `RangeError` and of
//! [`TYPE_CODES`] into `TypeError` (see `ts/errors.ts`), keeping the
//! message and the code; every other code stays a plain `Error`.

use perf_core::{ErrorCode, PerfError};

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

/// The `ERR_PERF_*` code of an error. Exhaustive over [`ErrorCode`]: a new
/// kind of error does not compile until it has its code here.
pub fn code(err: &PerfError) -> &'static str {
    code_of(err.code())
}

/// The `ERR_PERF_*` code of an [`ErrorCode`]: `ERR_PERF_` and its name in
/// upper case.
fn code_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidName => "ERR_PERF_INVALID_NAME",
        ErrorCode::InvalidTag => "ERR_PERF_INVALID_TAG",
        ErrorCode::InvalidValue => "ERR_PERF_INVALID_VALUE",
        ErrorCode::KindMismatch => "ERR_PERF_KIND_MISMATCH",
        ErrorCode::UnknownSeries => "ERR_PERF_UNKNOWN_SERIES",
        ErrorCode::TooManyMetrics => "ERR_PERF_TOO_MANY_METRICS",
        ErrorCode::InvalidPercentile => "ERR_PERF_INVALID_PERCENTILE",
        ErrorCode::InvalidWindow => "ERR_PERF_INVALID_WINDOW",
        ErrorCode::WindowsDisabled => "ERR_PERF_WINDOWS_DISABLED",
        ErrorCode::InvalidRule => "ERR_PERF_INVALID_RULE",
        ErrorCode::InvalidRulesJson => "ERR_PERF_INVALID_RULES_JSON",
        ErrorCode::DuplicateRule => "ERR_PERF_DUPLICATE_RULE",
        ErrorCode::UnknownAlert => "ERR_PERF_UNKNOWN_ALERT",
        ErrorCode::InvalidEmergency => "ERR_PERF_INVALID_EMERGENCY",
        ErrorCode::InvalidBaseline => "ERR_PERF_INVALID_BASELINE",
        ErrorCode::Io => "ERR_PERF_IO",
        ErrorCode::InvalidHdr => "ERR_PERF_INVALID_HDR",
        ErrorCode::InvalidComparison => "ERR_PERF_INVALID_COMPARISON",
        ErrorCode::InvalidConfig => "ERR_PERF_INVALID_CONFIG",
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
    fn every_code_is_err_perf_and_the_core_name() {
        for code in ErrorCode::ALL {
            let expected = format!("ERR_PERF_{}", code.as_str().to_ascii_uppercase());
            assert_eq!(code_of(code), expected);
        }
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
