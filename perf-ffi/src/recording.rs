//! Recording: histogram, counter and gauge handles, and the one-shot
//! `perf_record`.

use std::ffi::c_char;

use perf_core::{Counter, Gauge, Histogram};

use crate::boundary::{call, call_void};
use crate::convert::{free_handle, handle, into_handle, perf_tag, series_arg, Out};
use crate::error::perf_status;
use crate::monitor::perf_monitor;
use crate::stats::perf_stats;

/// A histogram series handle (opaque): records values without a lookup.
/// Get with `perf_histogram_get`, free with `perf_histogram_free`.
/// Thread-safe: record into one handle from any number of threads.
#[allow(non_camel_case_types)]
pub struct perf_histogram {
    histogram: Histogram,
}

/// A counter series handle (opaque). Get with `perf_counter_get`, free with
/// `perf_counter_free`. Thread-safe.
#[allow(non_camel_case_types)]
pub struct perf_counter {
    counter: Counter,
}

/// A gauge series handle (opaque). Get with `perf_gauge_get`, free with
/// `perf_gauge_free`. Thread-safe.
#[allow(non_camel_case_types)]
pub struct perf_gauge {
    gauge: Gauge,
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
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_histogram,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let (name, tags) = series_arg(name, tags, tags_len)?;
        let histogram = handle(monitor, "monitor")?.monitor.histogram(name, &tags)?;
        out.write(into_handle(perf_histogram { histogram }));
        Ok(())
    })
}

/// Records one value (in the metric's unit: ms for latencies). The hot
/// path: no lookup, no lock, no allocation.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`histogram`), `PERF_ERR_INVALID_VALUE`
/// (NaN, infinite, negative or >= 2^64: counted in `perf_stats.rejected`,
/// never in the statistics).
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_record(
    histogram: *const perf_histogram,
    value: f64,
) -> perf_status {
    call(|| Ok(handle(histogram, "histogram")?.histogram.record(value)?))
}

/// Records `value` `n` times at once (pre-aggregated data); `n = 0`
/// records nothing. A refused value counts `n` refusals.
///
/// Errors: as `perf_histogram_record`.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_record_n(
    histogram: *const perf_histogram,
    value: f64,
    n: u64,
) -> perf_status {
    call(|| {
        Ok(handle(histogram, "histogram")?
            .histogram
            .record_n(value, n)?)
    })
}

/// Writes the cumulative statistics of the handle's series to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`histogram`, `out`).
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_stats(
    histogram: *const perf_histogram,
    out: *mut perf_stats,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        out.write(perf_stats::from(
            &handle(histogram, "histogram")?.histogram.stats(),
        ));
        Ok(())
    })
}

/// Frees a histogram handle; NULL does nothing. The series and what was
/// recorded stay in the monitor.
#[no_mangle]
pub unsafe extern "C" fn perf_histogram_free(histogram: *mut perf_histogram) {
    call_void(|| free_handle(histogram));
}

/// Records one value into the histogram series `name{tags}` (created on
/// first use) without keeping a handle. Prefer a handle on hot paths: this
/// looks the series up each time.
///
/// Ownership: `name` and `tags` are read during the call only.
/// Errors: as `perf_histogram_get`, and `PERF_ERR_INVALID_VALUE`.
#[no_mangle]
pub unsafe extern "C" fn perf_record(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    value: f64,
) -> perf_status {
    call(|| {
        let (name, tags) = series_arg(name, tags, tags_len)?;
        Ok(handle(monitor, "monitor")?
            .monitor
            .record(name, &tags, value)?)
    })
}

/// Gets the counter series `name{tags}`, creating it on first use.
///
/// Ownership: as `perf_histogram_get`; free `*out` with
/// `perf_counter_free`.
/// Errors: as `perf_histogram_get`.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_counter,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let (name, tags) = series_arg(name, tags, tags_len)?;
        let counter = handle(monitor, "monitor")?.monitor.counter(name, &tags)?;
        out.write(into_handle(perf_counter { counter }));
        Ok(())
    })
}

/// Adds `n` to the counter.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`counter`).
#[no_mangle]
pub unsafe extern "C" fn perf_counter_increment(
    counter: *const perf_counter,
    n: u64,
) -> perf_status {
    call(|| {
        handle(counter, "counter")?.counter.increment(n);
        Ok(())
    })
}

/// Writes the counter's total to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`counter`, `out`).
#[no_mangle]
pub unsafe extern "C" fn perf_counter_value(
    counter: *const perf_counter,
    out: *mut u64,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        out.write(handle(counter, "counter")?.counter.value());
        Ok(())
    })
}

/// Frees a counter handle; NULL does nothing. The series stays.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_free(counter: *mut perf_counter) {
    call_void(|| free_handle(counter));
}

/// Gets the gauge series `name{tags}`, creating it on first use.
///
/// Ownership: as `perf_histogram_get`; free `*out` with `perf_gauge_free`.
/// Errors: as `perf_histogram_get`.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut perf_gauge,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let (name, tags) = series_arg(name, tags, tags_len)?;
        let gauge = handle(monitor, "monitor")?.monitor.gauge(name, &tags)?;
        out.write(into_handle(perf_gauge { gauge }));
        Ok(())
    })
}

/// Sets the gauge to `value` (any finite number, negative included).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`gauge`), `PERF_ERR_INVALID_VALUE`
/// (NaN or infinite; the gauge keeps its value).
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_set(gauge: *const perf_gauge, value: f64) -> perf_status {
    call(|| Ok(handle(gauge, "gauge")?.gauge.set(value)?))
}

/// Adds `delta` (may be negative) to the gauge.
///
/// Errors: as `perf_gauge_set`, also when the sum would be infinite.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_add(gauge: *const perf_gauge, delta: f64) -> perf_status {
    call(|| Ok(handle(gauge, "gauge")?.gauge.add(delta)?))
}

/// Writes the gauge's value to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`gauge`, `out`).
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_value(gauge: *const perf_gauge, out: *mut f64) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        out.write(handle(gauge, "gauge")?.gauge.value());
        Ok(())
    })
}

/// Frees a gauge handle; NULL does nothing. The series stays.
#[no_mangle]
pub unsafe extern "C" fn perf_gauge_free(gauge: *mut perf_gauge) {
    call_void(|| free_handle(gauge));
}
