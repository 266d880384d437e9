//! The panic boundary every entry point runs in: an error becomes a status
//! (and this thread's last error message), and so does a panic — it never
//! unwinds into C.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{perf_status, FfiError};

/// Runs `f`: `PERF_OK` if it succeeds, else its error's status, with the
/// message stored for `perf_last_error_message`; a panic is
/// `PERF_ERR_PANIC`.
///
/// `AssertUnwindSafe`: perf-core's shared state stays consistent across a
/// panic (its locks are `parking_lot`'s, which do not poison, and every
/// update is a single atomic step or made under one lock), and the binding
/// owns no state a half-finished call could leave broken.
#[inline]
pub(crate) fn call(f: impl FnOnce() -> Result<(), FfiError>) -> perf_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => perf_status::PERF_OK,
        Ok(Err(err)) => err.record(),
        Err(payload) => FfiError::panic(payload.as_ref()).record(),
    }
}

/// [`call`] for the functions that return nothing (the `_free`s): a panic
/// is stopped and its message stored, and the call returns.
pub(crate) fn call_void(f: impl FnOnce()) {
    call(|| {
        f();
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::perf_last_error_message;
    use std::ffi::CStr;

    fn message() -> String {
        // SAFETY: the library returns NUL-terminated strings that live at least until the next call on this thread.
        unsafe { CStr::from_ptr(perf_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status() {
        let status = call(|| panic!("boom {}", 42));
        assert_eq!(status, perf_status::PERF_ERR_PANIC);
        assert_eq!(message(), "perf-core panicked: boom 42");
        let status = call(|| std::panic::panic_any(7_u8));
        assert_eq!(status, perf_status::PERF_ERR_PANIC);
        assert_eq!(message(), "perf-core panicked: (no message)");
    }

    #[test]
    fn a_panic_in_a_void_call_is_stopped() {
        call_void(|| panic!("in free"));
        assert_eq!(message(), "perf-core panicked: in free");
    }

    #[test]
    fn errors_and_success() {
        let status = call(|| Err(FfiError::null("name")));
        assert_eq!(status, perf_status::PERF_ERR_NULL_POINTER);
        assert_eq!(message(), "name is NULL");
        assert_eq!(call(|| Ok(())), perf_status::PERF_OK);
        assert_eq!(message(), "name is NULL", "success keeps the last error");
    }
}
