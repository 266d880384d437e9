//! The manual clock: time that moves only when told, so rules, windows,
//! cooldowns and emergency transitions can be tested deterministically.

use perf_core::{Clock, ManualClock, Timestamp};

use crate::boundary::{call, call_void};
use crate::convert::{millis, Out};
use crate::error::perf_status;
use crate::handle::{free_handle, handle, into_handle, Boxed, Handle};

/// A manual clock (opaque). Create with `perf_clock_manual_new`, give it to
/// monitors through `perf_monitor_options.clock`, free with
/// `perf_clock_manual_free`. Monitors keep their own reference, so the
/// handle may be freed before them. Thread-safe.
#[allow(non_camel_case_types)]
pub struct perf_clock_manual {
    _opaque: [u8; 0],
}

impl Handle for perf_clock_manual {
    type Rust = ManualClock;
    type Ownership = Boxed;
}

/// Creates a manual clock standing at `start_unix_nanos` (nanoseconds since
/// the Unix epoch).
///
/// Ownership: `*out` is a new handle owned by the caller; free it with
/// `perf_clock_manual_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`out`).
///
/// # Safety
/// `out` is NULL or valid for writing a `perf_clock_manual *`.
#[no_mangle]
pub unsafe extern "C" fn perf_clock_manual_new(
    start_unix_nanos: u64,
    out: *mut *mut perf_clock_manual,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `out`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let clock = ManualClock::new(Timestamp::from_nanos(start_unix_nanos));
            out.write(into_handle(clock));
            Ok(())
        })
    }
}

/// Moves the clock forward by `ms` milliseconds. Monitors using it file what
/// was recorded so far under the old time first.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`clock`).
///
/// # Safety
/// `clock` is NULL or a live `perf_clock_manual` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_clock_manual_advance_ms(
    clock: *const perf_clock_manual,
    ms: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `clock`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            handle(clock, "clock")?.advance(millis(ms));
            Ok(())
        })
    }
}

/// Moves the clock to `unix_nanos`; a time in the past is ignored (clocks
/// are monotonic).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`clock`).
///
/// # Safety
/// `clock` is NULL or a live `perf_clock_manual` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_clock_manual_set(
    clock: *const perf_clock_manual,
    unix_nanos: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `clock`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            handle(clock, "clock")?.set(Timestamp::from_nanos(unix_nanos));
            Ok(())
        })
    }
}

/// Writes the clock's time, in nanoseconds since the Unix epoch, to
/// `*out_unix_nanos`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`clock`, `out_unix_nanos`).
///
/// # Safety
/// `clock` is NULL or a live `perf_clock_manual` handle; `out_unix_nanos`
/// is NULL or valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_clock_manual_now(
    clock: *const perf_clock_manual,
    out_unix_nanos: *mut u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `clock`,
    // `out_unix_nanos`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out_unix_nanos, "out_unix_nanos")?;
            out.write(handle(clock, "clock")?.now().as_nanos());
            Ok(())
        })
    }
}

/// Frees a clock handle; NULL does nothing. Monitors built with the clock
/// keep working (and the clock keeps its time for them).
///
/// # Safety
/// `clock` is NULL or a `perf_clock_manual` handle this library made, not
/// yet freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_clock_manual_free(clock: *mut perf_clock_manual) {
    // SAFETY: the caller meets the `# Safety` contract above for `clock`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_handle(clock));
    }
}
