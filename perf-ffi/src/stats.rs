//! Statistics: the `perf_stats` struct, cumulative and over sliding
//! windows, any percentile, and counter rates.

use std::ffi::c_char;
use std::mem::size_of;
use std::time::Duration;

use perf_core::Stats;

use crate::boundary::call;
use crate::convert::{millis, perf_tag, series_arg, Out};
use crate::error::{perf_status, FfiError};
use crate::handle::handle;
use crate::monitor::perf_monitor;
use crate::sized::{Growable, SizedOut};

/// Summary statistics of a histogram series, cumulative or over a window.
///
/// Every percentile is within the monitor's precision bound (0.39 % by
/// default) of the exact nearest-rank percentile; `count` and `sum` are
/// exact. For a series without values `count` and `sum` are 0 and every
/// other floating-point field is NaN. Over a window, `min` and `max` are
/// within the precision bound rather than exact. A plain value: nothing to
/// free. Growable: set `struct_size` first (`perf_stats stats =
/// PERF_STATS_INIT;` or `perf_stats_init(&stats)`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct perf_stats {
    /// `sizeof` this struct as the caller's header declares it, set by the
    /// caller before the call (`PERF_STATS_INIT` or `perf_stats_init`); the library writes
    /// only the fields it covers and never changes it.
    pub struct_size: usize,
    /// Number of values.
    pub count: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub stddev: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Values refused (NaN, infinite, negative, too large) since the series
    /// was created; never part of the other fields.
    pub rejected: u64,
}

impl From<&Stats> for perf_stats {
    fn from(s: &Stats) -> perf_stats {
        perf_stats {
            struct_size: size_of::<perf_stats>(),
            count: s.count,
            sum: s.sum,
            min: s.min,
            max: s.max,
            mean: s.mean,
            stddev: s.stddev,
            p50: s.p50,
            p75: s.p75,
            p90: s.p90,
            p95: s.p95,
            p99: s.p99,
            p999: s.p999,
            rejected: s.rejected,
        }
    }
}

// SAFETY: `repr(C)`, a leading `usize`, then integers and floats only.
unsafe impl Growable for perf_stats {
    /// The first version ends with `rejected`.
    const MIN_SIZE: usize = size_of::<perf_stats>();
}

/// Reads the statistics of `name{tags}`: cumulative without a window.
///
/// # Safety
/// `monitor` is NULL or a live monitor handle; the series as
/// [`series_arg`].
unsafe fn stats_of(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    window: Option<Duration>,
) -> Result<Stats, FfiError> {
    // SAFETY: as this function's contract.
    let (name, tags) = unsafe { series_arg(name, tags, tags_len)? };
    // SAFETY: as this function's contract.
    let monitor = unsafe { handle(monitor, "monitor")? };
    Ok(match window {
        None => monitor.stats(name, &tags)?,
        Some(window) => monitor.window_stats(name, &tags, window)?,
    })
}

/// Writes the cumulative statistics of the histogram series `name{tags}`
/// to `*out`.
///
/// Ownership: `name` and `tags` are read during the call only.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_UNKNOWN_SERIES` (never created), `PERF_ERR_KIND_MISMATCH`
/// (not a histogram), `PERF_ERR_INVALID_ARGUMENT` (`out->struct_size` below the first version's).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// points to a `perf_stats` whose `struct_size` field is set and whose
/// `struct_size` bytes are writable.
#[no_mangle]
pub unsafe extern "C" fn perf_stats_get(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut perf_stats,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = SizedOut::required(out, "out")?;
            out.write(perf_stats::from(&stats_of(
                monitor, name, tags, tags_len, None,
            )?));
            Ok(())
        })
    }
}

/// Writes the statistics of the values recorded into `name{tags}` within
/// the last `window_ms` milliseconds (rounded up to whole window
/// intervals) to `*out`.
///
/// Errors: as `perf_stats_get`, and `PERF_ERR_INVALID_WINDOW` (0, or
/// longer than the retention), `PERF_ERR_WINDOWS_DISABLED`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// points to a `perf_stats` whose `struct_size` field is set and whose
/// `struct_size` bytes are writable.
#[no_mangle]
pub unsafe extern "C" fn perf_window_stats(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    window_ms: u64,
    out: *mut perf_stats,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = SizedOut::required(out, "out")?;
            let window = Some(millis(window_ms));
            let stats = stats_of(monitor, name, tags, tags_len, window)?;
            out.write(perf_stats::from(&stats));
            Ok(())
        })
    }
}

/// Writes percentile `q` (in [0, 100], e.g. 99.9) of the histogram series
/// `name{tags}` to `*out`: cumulative if `window_ms` is 0, else over the
/// last `window_ms` milliseconds. NaN for a series without values.
///
/// Errors: as `perf_window_stats` (windowed) or `perf_stats_get` (but
/// never `PERF_ERR_INVALID_ARGUMENT`), and `PERF_ERR_INVALID_PERCENTILE`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `double`.
#[no_mangle]
pub unsafe extern "C" fn perf_percentile(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    q: f64,
    window_ms: u64,
    out: *mut f64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let window = (window_ms != 0).then(|| millis(window_ms));
            let stats = stats_of(monitor, name, tags, tags_len, window)?;
            out.write(stats.percentile(q)?);
            Ok(())
        })
    }
}

/// Writes the rate per second of the counter `name{tags}` over the last
/// `window_ms` milliseconds (the increase divided by the window rounded up
/// to whole intervals) to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_UNKNOWN_SERIES`, `PERF_ERR_KIND_MISMATCH` (not a counter),
/// `PERF_ERR_INVALID_WINDOW`, `PERF_ERR_WINDOWS_DISABLED`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `double`.
#[no_mangle]
pub unsafe extern "C" fn perf_counter_rate(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    window_ms: u64,
    out: *mut f64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let monitor = handle(monitor, "monitor")?;
            out.write(monitor.counter_rate(name, &tags, millis(window_ms))?);
            Ok(())
        })
    }
}
