//! Recording: histogram, counter and gauge handles, and the one-shot
//! `perf_record`.

use std::ffi::c_char;

use perf_core::{Counter, Gauge, Histogram};

use crate::boundary::{call, call_void};
use crate::convert::{perf_tag, series_arg, Out};
use crate::error::perf_status;
use crate::handle::{free_handle, handle, into_handle, Boxed, Handle};
use crate::monitor::perf_monitor;
use crate::sized::SizedOut;
use crate::stats::perf_stats;

/// A histogram series handle (opaque): records values without a lookup.
/// Get with `perf_histogram_get`, free with `perf_histogram_free`.
/// Thread-safe: record into one handle from any number of threads.
#[allow(non_camel_case_types)]
pub struct perf_histogram {
    _opaque: [u8; 0],
}

impl Handle for perf_histogram {
    type Rust = Histogram;
    type Ownership = Boxed;
}

/// A counter series handle (opaque). Get with `perf_counter_get`, free with
/// `perf_counter_free`. Thread-safe.
#[allow(non_camel_case_types)]
pub struct perf_counter {
    _opaque: [u8; 0],
}

impl Handle for perf_counter {
    type Rust = Counter;
    type Ownership = Boxed;
}

/// A gauge series handle (opaque). Get with `perf_gauge_get`, free with
/// `perf_gauge_free`. Thread-safe.
#[allow(non_camel_case_types)]
pub struct perf_gauge {
    _opaque: [u8; 0],
}

impl Handle for perf_gauge {
    type Rust = Gauge;
    type Ownership = Boxed;
}

/// Gets the histogram series `name{tags}`, creating it on first use.
/// Past the per-metric series cap, the handle records into the metric's
/// overflow series.
///
/// Ownership: `name` and `tags` are read during the call only. `*out` is a
/// new handle owned by the caller, independent of the monitor's lifetime;
/// free it with `perf_histogram_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_INVALID_NAME`, `PERF_ERR_INVALID_TAG`,
/// `PERF_ERR_KIND_MISMATCH` (the name is a counter or gauge),
/// `PERF_ERR_LIMIT`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `perf_histogram *`.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_histogram,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let histogram = handle(monitor, "monitor")?.histogram(name, &tags)?;
            out.write(into_handle(histogram));
            Ok(())
        })
    }
}

/// Records one value (in the metric's unit: ms for latencies). The hot
/// path: no lookup, no lock, no allocation.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`histogram`), `PERF_ERR_INVALID_VALUE`
/// (NaN, infinite, negative or >= 2^64: counted in `perf_stats.rejected`,
/// never in the statistics).
///
/// # Safety
/// `histogram` is NULL or a live `perf_histogram` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_record(
    histogram: *const perf_histogram,
    value: f64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `histogram`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(histogram, "histogram")?.record(value)?)) }
}

/// Records `value` `n` times at once (pre-aggregated data); `n = 0`
/// records nothing. A refused value counts `n` refusals.
///
/// Errors: as `perf_histogram_record`.
///
/// # Safety
/// `histogram` is NULL or a live `perf_histogram` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_record_n(
    histogram: *const perf_histogram,
    value: f64,
    n: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `histogram`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(histogram, "histogram")?.record_n(value, n)?)) }
}

/// Writes the cumulative statistics of the handle's series to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`histogram`, `out`),
/// `PERF_ERR_INVALID_ARGUMENT` (`out->struct_size` below the first version's).
///
/// # Safety
/// `histogram` is NULL or a live `perf_histogram` handle; `out` is NULL or
/// points to a `perf_stats` whose `struct_size` field is set and whose
/// `struct_size` bytes are writable.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_stats(
    histogram: *const perf_histogram,
    out: *mut perf_stats,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `histogram`,
    // `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = SizedOut::required(out, "out")?;
            out.write(perf_stats::from(&handle(histogram, "histogram")?.stats()));
            Ok(())
        })
    }
}

/// Frees a histogram handle; NULL does nothing. The series and what was
/// recorded stay in the monitor.
///
/// # Safety
/// `histogram` is NULL or a `perf_histogram` handle this library made, not
/// yet freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_free(histogram: *mut perf_histogram) {
    // SAFETY: the caller meets the `# Safety` contract above for `histogram`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_handle(histogram));
    }
}

/// Records one value into the histogram series `name{tags}` (created on
/// first use) without keeping a handle. Prefer a handle on hot paths: this
/// looks the series up each time.
///
/// Ownership: `name` and `tags` are read during the call only.
/// Errors: as `perf_histogram_get`, and `PERF_ERR_INVALID_VALUE`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn perf_record(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    value: f64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let (name, tags) = series_arg(name, tags, tags_len)?;
            Ok(handle(monitor, "monitor")?.record(name, &tags, value)?)
        })
    }
}

/// Gets the counter series `name{tags}`, creating it on first use.
///
/// Ownership: as `perf_histogram_get`; free `*out` with
/// `perf_counter_free`.
/// Errors: as `perf_histogram_get`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `perf_counter *`.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_counter,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let counter = handle(monitor, "monitor")?.counter(name, &tags)?;
            out.write(into_handle(counter));
            Ok(())
        })
    }
}

/// Adds `n` to the counter.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`counter`).
///
/// # Safety
/// `counter` is NULL or a live `perf_counter` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_increment(
    counter: *const perf_counter,
    n: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `counter`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            handle(counter, "counter")?.increment(n);
            Ok(())
        })
    }
}

/// Writes the counter's total to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`counter`, `out`).
///
/// # Safety
/// `counter` is NULL or a live `perf_counter` handle; `out` is NULL or
/// valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_value(
    counter: *const perf_counter,
    out: *mut u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `counter`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(handle(counter, "counter")?.value());
            Ok(())
        })
    }
}

/// Frees a counter handle; NULL does nothing. The series stays.
///
/// # Safety
/// `counter` is NULL or a `perf_counter` handle this library made, not yet
/// freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_free(counter: *mut perf_counter) {
    // SAFETY: the caller meets the `# Safety` contract above for `counter`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_handle(counter));
    }
}

/// Gets the gauge series `name{tags}`, creating it on first use.
///
/// Ownership: as `perf_histogram_get`; free `*out` with `perf_gauge_free`.
/// Errors: as `perf_histogram_get`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `perf_gauge *`.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_gauge,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let gauge = handle(monitor, "monitor")?.gauge(name, &tags)?;
            out.write(into_handle(gauge));
            Ok(())
        })
    }
}

/// Sets the gauge to `value` (any finite number, negative included).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`gauge`), `PERF_ERR_INVALID_VALUE`
/// (NaN or infinite; the gauge keeps its value).
///
/// # Safety
/// `gauge` is NULL or a live `perf_gauge` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_set(gauge: *const perf_gauge, value: f64) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `gauge`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(gauge, "gauge")?.set(value)?)) }
}

/// Adds `delta` (may be negative) to the gauge.
///
/// Errors: as `perf_gauge_set`, also when the sum would be infinite.
///
/// # Safety
/// `gauge` is NULL or a live `perf_gauge` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_add(gauge: *const perf_gauge, delta: f64) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `gauge`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(gauge, "gauge")?.add(delta)?)) }
}

/// Writes the gauge's value to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`gauge`, `out`).
///
/// # Safety
/// `gauge` is NULL or a live `perf_gauge` handle; `out` is NULL or valid
/// for writing a `f64`.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_value(gauge: *const perf_gauge, out: *mut f64) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `gauge`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(handle(gauge, "gauge")?.value());
            Ok(())
        })
    }
}

/// Frees a gauge handle; NULL does nothing. The series stays.
///
/// # Safety
/// `gauge` is NULL or a `perf_gauge` handle this library made, not yet
/// freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_free(gauge: *mut perf_gauge) {
    // SAFETY: the caller meets the `# Safety` contract above for `gauge`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_handle(gauge));
    }
}
