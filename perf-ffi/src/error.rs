//! The one error-conversion module of the C ABI: [`perf_status`], the
//! mapping from [`PerfError`], the thread-local last error message and the
//! status names.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::str::Utf8Error;

use perf_core::{ErrorCode, PerfError};

/// What a call did: `PERF_OK`, or why it failed. Every function that can
/// fail returns one; `perf_last_error_message()` then says more.
///
/// The numeric values are stable: new statuses are only ever added at the
/// end.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_status {
    /// Success: the out-pointers were written.
    PERF_OK = 0,
    /// A required pointer argument (handle, string, out-pointer, callback)
    /// was NULL.
    PERF_ERR_NULL_POINTER = 1,
    /// A string argument was not valid UTF-8.
    PERF_ERR_INVALID_UTF8 = 2,
    /// A metric name broke the naming rules (see docs/concepts.md).
    PERF_ERR_INVALID_NAME = 3,
    /// A tag key or value broke the tag rules.
    PERF_ERR_INVALID_TAG = 4,
    /// A value was NaN, infinite, negative (histograms) or too large; it was
    /// counted in the series' `rejected` and nothing else.
    PERF_ERR_INVALID_VALUE = 5,
    /// The metric name is already used by a metric of another kind.
    PERF_ERR_KIND_MISMATCH = 6,
    /// No series with this name and tags has been created.
    PERF_ERR_UNKNOWN_SERIES = 7,
    /// The number of distinct metric names reached the monitor's limit
    /// (`max_metrics`).
    PERF_ERR_LIMIT = 8,
    /// A percentile outside [0, 100], or NaN.
    PERF_ERR_INVALID_PERCENTILE = 9,
    /// A window of zero or longer than the monitor's retention.
    PERF_ERR_INVALID_WINDOW = 10,
    /// The monitor was built with sliding windows off.
    PERF_ERR_WINDOWS_DISABLED = 11,
    /// A rule or budget is malformed.
    PERF_ERR_INVALID_RULE = 12,
    /// A rules document could not be read (the message names the field,
    /// e.g. `rules[2].for`).
    PERF_ERR_INVALID_JSON = 13,
    /// A rule or budget of this name already exists.
    PERF_ERR_DUPLICATE_RULE = 14,
    /// No active alert has this id.
    PERF_ERR_UNKNOWN_ALERT = 15,
    /// An emergency configuration or a manual reason that cannot be used
    /// (e.g. a blank reason).
    PERF_ERR_INVALID_EMERGENCY = 16,
    /// A baseline file or document is unreadable, truncated, corrupt or of
    /// an unknown version.
    PERF_ERR_INVALID_BASELINE = 17,
    /// A file could not be written (a previous file at that path is
    /// intact).
    PERF_ERR_IO = 18,
    /// A comparison policy with an invalid setting, or baselines that
    /// cannot be compared.
    PERF_ERR_INVALID_COMPARISON = 19,
    /// A monitor option out of its range.
    PERF_ERR_INVALID_CONFIG = 20,
    /// An HdrHistogram interchange string that cannot be decoded, or a
    /// histogram that cannot be encoded (a value beyond HdrHistogram's
    /// integer range).
    PERF_ERR_INVALID_HDR = 21,
    /// perf-core panicked (a bug): the panic was stopped at the C boundary.
    /// The objects the call touched are still safe to use and to free.
    PERF_ERR_PANIC = 22,
    /// Reserved, never returned since every perf-core error has its own
    /// status (the mapping is exhaustive: a new kind of error gets a new
    /// status with the release that adds it). Kept so the numbering stays.
    PERF_ERR_UNKNOWN = 23,
    /// An argument the library cannot use that no other status describes:
    /// a growable struct whose `struct_size` is below its first version's
    /// size (set it with the struct's `_INIT` macro or `_init` function).
    PERF_ERR_INVALID_ARGUMENT = 24,
}

use perf_status::*;

/// Every status, in numeric order: the table behind [`perf_status_name`].
const ALL_STATUSES: [(perf_status, &CStr); 25] = [
    (PERF_OK, c"PERF_OK"),
    (PERF_ERR_NULL_POINTER, c"PERF_ERR_NULL_POINTER"),
    (PERF_ERR_INVALID_UTF8, c"PERF_ERR_INVALID_UTF8"),
    (PERF_ERR_INVALID_NAME, c"PERF_ERR_INVALID_NAME"),
    (PERF_ERR_INVALID_TAG, c"PERF_ERR_INVALID_TAG"),
    (PERF_ERR_INVALID_VALUE, c"PERF_ERR_INVALID_VALUE"),
    (PERF_ERR_KIND_MISMATCH, c"PERF_ERR_KIND_MISMATCH"),
    (PERF_ERR_UNKNOWN_SERIES, c"PERF_ERR_UNKNOWN_SERIES"),
    (PERF_ERR_LIMIT, c"PERF_ERR_LIMIT"),
    (PERF_ERR_INVALID_PERCENTILE, c"PERF_ERR_INVALID_PERCENTILE"),
    (PERF_ERR_INVALID_WINDOW, c"PERF_ERR_INVALID_WINDOW"),
    (PERF_ERR_WINDOWS_DISABLED, c"PERF_ERR_WINDOWS_DISABLED"),
    (PERF_ERR_INVALID_RULE, c"PERF_ERR_INVALID_RULE"),
    (PERF_ERR_INVALID_JSON, c"PERF_ERR_INVALID_JSON"),
    (PERF_ERR_DUPLICATE_RULE, c"PERF_ERR_DUPLICATE_RULE"),
    (PERF_ERR_UNKNOWN_ALERT, c"PERF_ERR_UNKNOWN_ALERT"),
    (PERF_ERR_INVALID_EMERGENCY, c"PERF_ERR_INVALID_EMERGENCY"),
    (PERF_ERR_INVALID_BASELINE, c"PERF_ERR_INVALID_BASELINE"),
    (PERF_ERR_IO, c"PERF_ERR_IO"),
    (PERF_ERR_INVALID_COMPARISON, c"PERF_ERR_INVALID_COMPARISON"),
    (PERF_ERR_INVALID_CONFIG, c"PERF_ERR_INVALID_CONFIG"),
    (PERF_ERR_INVALID_HDR, c"PERF_ERR_INVALID_HDR"),
    (PERF_ERR_PANIC, c"PERF_ERR_PANIC"),
    (PERF_ERR_UNKNOWN, c"PERF_ERR_UNKNOWN"),
    (PERF_ERR_INVALID_ARGUMENT, c"PERF_ERR_INVALID_ARGUMENT"),
];

/// A failed call: its status and the message `perf_last_error_message`
/// will return.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) status: perf_status,
    pub(crate) message: String,
}

impl FfiError {
    /// A failure with `status` and `message`.
    pub(crate) fn new(status: perf_status, message: impl Into<String>) -> FfiError {
        FfiError {
            status,
            message: message.into(),
        }
    }

    /// The argument `what` was NULL.
    pub(crate) fn null(what: impl std::fmt::Display) -> FfiError {
        FfiError::new(PERF_ERR_NULL_POINTER, format!("{what} is NULL"))
    }

    /// `PERF_ERR_INVALID_ARGUMENT` with `message`.
    pub(crate) fn invalid_argument(message: String) -> FfiError {
        FfiError::new(PERF_ERR_INVALID_ARGUMENT, message)
    }

    /// The string argument `what` was not UTF-8.
    pub(crate) fn utf8(what: impl std::fmt::Display, err: Utf8Error) -> FfiError {
        FfiError::new(
            PERF_ERR_INVALID_UTF8,
            format!("{what} is not valid UTF-8: {err}"),
        )
    }

    /// A panic caught at the boundary, with its message if it has one.
    pub(crate) fn panic(payload: &(dyn std::any::Any + Send)) -> FfiError {
        let text = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        FfiError::new(PERF_ERR_PANIC, format!("perf-core panicked: {text}"))
    }

    /// Stores the message as this thread's last error and returns the
    /// status.
    pub(crate) fn record(self) -> perf_status {
        let message =
            CString::new(self.message.replace('\0', "\\0")).expect("NUL bytes were replaced");
        // try_with: during thread teardown the slot may be gone; the status
        // still tells what happened, and nothing may panic out of here.
        let _ = LAST_ERROR.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = message;
            }
        });
        self.status
    }
}

impl From<PerfError> for FfiError {
    fn from(err: PerfError) -> FfiError {
        FfiError::new(status_of(&err), err.to_string())
    }
}

/// The status of a perf-core error. Exhaustive over [`ErrorCode`]: a new
/// kind of error does not compile until it has its status here.
pub(crate) fn status_of(err: &PerfError) -> perf_status {
    match err.code() {
        ErrorCode::InvalidName => PERF_ERR_INVALID_NAME,
        ErrorCode::InvalidTag => PERF_ERR_INVALID_TAG,
        ErrorCode::InvalidValue => PERF_ERR_INVALID_VALUE,
        ErrorCode::KindMismatch => PERF_ERR_KIND_MISMATCH,
        ErrorCode::UnknownSeries => PERF_ERR_UNKNOWN_SERIES,
        ErrorCode::TooManyMetrics => PERF_ERR_LIMIT,
        ErrorCode::InvalidPercentile => PERF_ERR_INVALID_PERCENTILE,
        ErrorCode::InvalidWindow => PERF_ERR_INVALID_WINDOW,
        ErrorCode::WindowsDisabled => PERF_ERR_WINDOWS_DISABLED,
        ErrorCode::InvalidRule => PERF_ERR_INVALID_RULE,
        ErrorCode::InvalidRulesJson => PERF_ERR_INVALID_JSON,
        ErrorCode::DuplicateRule => PERF_ERR_DUPLICATE_RULE,
        ErrorCode::UnknownAlert => PERF_ERR_UNKNOWN_ALERT,
        ErrorCode::InvalidEmergency => PERF_ERR_INVALID_EMERGENCY,
        ErrorCode::InvalidBaseline => PERF_ERR_INVALID_BASELINE,
        ErrorCode::Io => PERF_ERR_IO,
        ErrorCode::InvalidHdr => PERF_ERR_INVALID_HDR,
        ErrorCode::InvalidComparison => PERF_ERR_INVALID_COMPARISON,
        ErrorCode::InvalidConfig => PERF_ERR_INVALID_CONFIG,
    }
}

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// The message of the last call that failed on this thread, in English,
/// e.g. `invalid value NaN: NaN is not a measurement`; "" if none failed
/// yet.
///
/// Ownership: the string belongs to the library (do not free it). It stays
/// valid, unchanged, until the next call on this thread that fails;
/// successful calls do not change it. Copy it to keep it longer. Never
/// fails: during thread teardown it may be "".
#[no_mangle]
pub extern "C" fn perf_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.try_borrow().map_or(c"".as_ptr(), |m| m.as_ptr()))
        .unwrap_or(c"".as_ptr())
}

/// The name of a status as a static string (`"PERF_ERR_INVALID_VALUE"`),
/// or `"PERF_ERR_?"` for a number that is no status.
///
/// Takes an `int` rather than a `perf_status` so any number is safe to
/// pass. Ownership: static storage, never freed.
#[no_mangle]
pub extern "C" fn perf_status_name(status: c_int) -> *const c_char {
    ALL_STATUSES
        .iter()
        .find(|(s, _)| *s as c_int == status)
        .map_or(c"PERF_ERR_?".as_ptr(), |(_, name)| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use perf_core::{InvalidValueReason, MetricKind};
    use std::time::Duration;

    fn message() -> String {
        let ptr = perf_last_error_message();
        // SAFETY: the library returns NUL-terminated strings that live at least until the next call on this thread.
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn the_status_table_is_in_numeric_order() {
        for (i, (status, name)) in ALL_STATUSES.iter().enumerate() {
            assert_eq!(*status as usize, i);
            assert_eq!(format!("{status:?}"), name.to_str().unwrap());
        }
    }

    #[test]
    fn every_error_maps_to_its_status() {
        let cases = [
            (
                PerfError::InvalidName {
                    name: "".into(),
                    reason: "empty",
                },
                PERF_ERR_INVALID_NAME,
            ),
            (
                PerfError::InvalidTag {
                    key: "1".into(),
                    reason: "digit",
                },
                PERF_ERR_INVALID_TAG,
            ),
            (
                PerfError::InvalidValue {
                    value: f64::NAN,
                    reason: InvalidValueReason::NaN,
                },
                PERF_ERR_INVALID_VALUE,
            ),
            (
                PerfError::KindMismatch {
                    name: "x".into(),
                    existing: MetricKind::Counter,
                    requested: MetricKind::Gauge,
                },
                PERF_ERR_KIND_MISMATCH,
            ),
            (
                PerfError::UnknownSeries { series: "x".into() },
                PERF_ERR_UNKNOWN_SERIES,
            ),
            (PerfError::TooManyMetrics { limit: 1 }, PERF_ERR_LIMIT),
            (
                PerfError::InvalidPercentile { q: 101.0 },
                PERF_ERR_INVALID_PERCENTILE,
            ),
            (
                PerfError::InvalidWindow {
                    window: Duration::ZERO,
                    retention: Duration::ZERO,
                },
                PERF_ERR_INVALID_WINDOW,
            ),
            (PerfError::WindowsDisabled, PERF_ERR_WINDOWS_DISABLED),
            (
                PerfError::InvalidRule {
                    rule: "r".into(),
                    field: "f".into(),
                    reason: "x".into(),
                },
                PERF_ERR_INVALID_RULE,
            ),
            (
                PerfError::InvalidRulesJson {
                    path: ".".into(),
                    reason: "x".into(),
                },
                PERF_ERR_INVALID_JSON,
            ),
            (
                PerfError::DuplicateRule { name: "r".into() },
                PERF_ERR_DUPLICATE_RULE,
            ),
            (PerfError::UnknownAlert { id: 3 }, PERF_ERR_UNKNOWN_ALERT),
            (
                PerfError::InvalidEmergency {
                    field: "reason".into(),
                    reason: "blank".into(),
                },
                PERF_ERR_INVALID_EMERGENCY,
            ),
            (
                PerfError::InvalidBaseline {
                    path: "-".into(),
                    reason: "x".into(),
                },
                PERF_ERR_INVALID_BASELINE,
            ),
            (
                PerfError::Io {
                    path: "/x".into(),
                    reason: "denied".into(),
                },
                PERF_ERR_IO,
            ),
            (
                PerfError::InvalidComparison("x".into()),
                PERF_ERR_INVALID_COMPARISON,
            ),
            (
                PerfError::InvalidConfig("x".into()),
                PERF_ERR_INVALID_CONFIG,
            ),
            (
                PerfError::InvalidHdr { reason: "x".into() },
                PERF_ERR_INVALID_HDR,
            ),
        ];
        for (err, status) in cases {
            let text = err.to_string();
            assert_eq!(FfiError::from(err).record(), status);
            assert_eq!(message(), text);
        }
    }

    #[test]
    fn messages_are_per_thread_and_nul_safe() {
        FfiError::new(PERF_ERR_IO, "a\0b").record();
        assert_eq!(message(), "a\\0b");
        std::thread::spawn(|| assert_eq!(message(), ""))
            .join()
            .unwrap();
    }

    #[test]
    fn status_names() {
        let name = |s: c_int| {
            // SAFETY: the library returns NUL-terminated strings that live at least until the next call on this thread.
            unsafe { CStr::from_ptr(perf_status_name(s)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(name(0), "PERF_OK");
        assert_eq!(name(PERF_ERR_PANIC as c_int), "PERF_ERR_PANIC");
        assert_eq!(name(-1), "PERF_ERR_?");
        assert_eq!(name(24), "PERF_ERR_INVALID_ARGUMENT");
        assert_eq!(name(25), "PERF_ERR_?");
    }
}
