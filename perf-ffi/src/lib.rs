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
//!   `_free` (which accepts NULL).
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
//! Safety: every `extern "C"` function is `unsafe` with one contract, the
//! C one documented in the header: pointer arguments are NULL or valid
//! for their documented use, handles are live and of their type, and a
//! handle is not used after (nor concurrently with) its `_free`.

#![allow(clippy::missing_safety_doc)] // the contract is the C one, above

mod alerts;
mod baseline;
mod boundary;
mod callback;
mod clock;
mod convert;
mod emergency;
mod error;
mod export;
mod monitor;
mod multiprocess;
mod recording;
mod rules;
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

/// The version of perf-core this library was built from, e.g. `"0.1.0"`.
///
/// Ownership: static storage, never freed.
#[no_mangle]
pub extern "C" fn perf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
