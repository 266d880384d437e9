//! # perf-ffi: the C ABI of perf-core
//!
//! A `cdylib` and a `staticlib` (installed as `libperf_core.{so,a}`) with
//! the header `include/perf_core.h`, which cbindgen generates from these
//! sources (`tests/header.rs` fails if the committed header is stale).
//! The C guide is `docs/c.md`.
//!
//! Conventions, in the style of rustls-ffi:
//!
//! * Opaque handles (`perf_monitor`, `perf_histogram`, ...), each created by
//!   a function that writes it through an out-pointer and freed by its
//!   `_free` (which accepts NULL). `handle::Handle` ties each C type to the
//!   Rust value behind it and its ownership, so a handle can only be read,
//!   made or freed as what it is.
//! * Structs passed by pointer start with `struct_size` and grow at the
//!   end only (`sized`); the header carries the version macros.
//! * Every function that can fail returns a [`perf_status`] and writes
//!   its results through out-pointers, only on `PERF_OK`;
//!   [`perf_last_error_message`] explains the last failure on the thread.
//! * Every entry point runs in one panic boundary (`boundary::call`): a
//!   panic becomes `PERF_ERR_PANIC`, never an unwind into C. NULL pointers
//!   and invalid UTF-8 are statuses, not crashes.
//! * Strings the library returns are owned by the caller and freed with
//!   [`perf_string_free`]; strings passed in are only read during the call.
//! * All logic is perf-core's: this crate converts types and errors only
//!   (`error` is the one error-conversion module).
//!
//! Safety: every `extern "C"` function that takes pointers is `unsafe`,
//! and its `# Safety` section (also in the header) states the contract
//! for each of them: pointer arguments are NULL or valid for their
//! documented use, handles are live and of their type (`handle::Handle`
//! ties each C type to its Rust value), and a handle is not used after (nor
//! concurrently with) its `_free`. Inside, one `unsafe` block per entry
//! point relies on that contract and nothing else.

mod alerts;
mod baseline;
mod boundary;
mod callback;
mod clock;
mod convert;
mod emergency;
mod error;
mod export;
mod handle;
mod monitor;
mod multiprocess;
mod recording;
mod rules;
mod sized;
mod stats;

pub use alerts::*;
pub use baseline::*;
pub use clock::*;
pub use convert::perf_tag;
pub use emergency::*;
pub use error::{perf_last_error_message, perf_status, perf_status_name};
pub use export::*;
pub use monitor::*;
pub use multiprocess::*;
pub use recording::*;
pub use rules::*;
pub use stats::*;

use std::ffi::c_char;

/// The version of perf-core this library was built from, e.g. `"0.1.0"`
/// (the header's `PERF_CORE_VERSION` is the one it was built against).
///
/// Ownership: static storage, never freed.
#[no_mangle]
pub extern "C" fn perf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The version of this library as one number, `major * 10000 + minor * 100
/// + patch` (`0.1.0` is 100), to compare with the header's
/// `PERF_CORE_VERSION_NUMBER`.
#[no_mangle]
pub extern "C" fn perf_version_number() -> u32 {
    const NUMBER: u32 = version_part(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + version_part(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + version_part(env!("CARGO_PKG_VERSION_PATCH"));
    NUMBER
}

/// A decimal part of the crate version, at compile time.
const fn version_part(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn the_version_number_matches_the_version_string() {
        // SAFETY: a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(perf_version()) }.to_str().unwrap();
        let parts: Vec<u32> = text.split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(
            perf_version_number(),
            parts[0] * 10000 + parts[1] * 100 + parts[2]
        );
    }
}
