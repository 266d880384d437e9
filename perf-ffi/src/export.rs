//! Exports: Prometheus text, OpenMetrics, JSON and CSV documents of every
//! series, HdrHistogram V2 strings of one series (and their import), and
//! `perf_string_free` for the strings they are returned in.

use std::ffi::c_char;

use perf_core::{ExportFormat, JsonExportOptions, Monitor};

use crate::boundary::{call, call_void};
use crate::convert::{free_string, owned_string, perf_tag, series_arg, str_arg, Out};
use crate::error::perf_status;
use crate::handle::handle;
use crate::monitor::perf_monitor;

/// Writes `render(monitor)` as a new caller-owned string to `out`.
///
/// # Safety
/// `monitor` is NULL or a live monitor handle; `out` is NULL or valid for
/// a write.
unsafe fn export(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
    render: impl FnOnce(&Monitor) -> String,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        // SAFETY: as this function's contract.
        unsafe { out.write(owned_string(render(handle(monitor, "monitor")?))) };
        Ok(())
    })
}

/// Writes every series in `format` — `"prometheus"`, `"openmetrics"`,
/// `"json"` or `"csv"`, what the four `perf_export_*` functions write — to
/// `*out`, and the HTTP `Content-Type` to serve it with to
/// `*out_content_type` (may be NULL; else free it with `perf_string_free`
/// too).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `format`, `out`),
/// `PERF_ERR_INVALID_UTF8`, `PERF_ERR_INVALID_CONFIG` (another format name).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `format` is NULL or a
/// NUL-terminated string; `out` is NULL or valid for writing a `*mut
/// c_char`; `out_content_type` is NULL or valid for writing a `*mut
/// c_char`.
#[no_mangle]
pub unsafe extern "C" fn perf_export(
    monitor: *const perf_monitor,
    format: *const c_char,
    out: *mut *mut c_char,
    out_content_type: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `format`, `out`, `out_content_type`: the pointer conversions below rely on
    // nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let monitor = handle(monitor, "monitor")?;
            let format: ExportFormat = str_arg(format, "format")?.parse()?;
            out.write(owned_string(monitor.export(format)));
            // Allocated only when asked for: nothing to leak otherwise.
            if !out_content_type.is_null() {
                let content_type = owned_string(format.content_type().to_owned());
                Out::optional(out_content_type).write(content_type);
            }
            Ok(())
        })
    }
}

/// Writes every series in the Prometheus text exposition format 0.0.4 to
/// `*out` (serve it as `text/plain; version=0.0.4`). Names, units and
/// buckets: docs/export.md.
///
/// Ownership: `*out` is a new string owned by the caller; free it with
/// `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_prometheus(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe { export(monitor, out, Monitor::export_prometheus) }
}

/// Writes every series in the OpenMetrics 1.0 text format (ending with
/// `# EOF`) to `*out`.
///
/// Ownership and errors: as `perf_export_prometheus`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_openmetrics(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe { export(monitor, out, Monitor::export_openmetrics) }
}

/// Writes every series' cumulative statistics as a JSON document (format
/// `perf-core-export`, version 1; docs/export.md) to `*out`; with
/// `include_histograms`, each histogram series also carries its buckets.
///
/// Ownership and errors: as `perf_export_prometheus`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_json(
    monitor: *const perf_monitor,
    include_histograms: bool,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        let options = JsonExportOptions::new().histograms(include_histograms);
        export(monitor, out, |m| m.export_json_with(&options))
    }
}

/// Writes every series' cumulative statistics as CSV
/// (`timestamp,metric,tags,stat,value`, one row per series and statistic;
/// docs/export.md) to `*out`.
///
/// Ownership and errors: as `perf_export_prometheus`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_csv(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe { export(monitor, out, Monitor::export_csv) }
}

/// Writes the histogram series `name{tags}` as an HdrHistogram V2 string
/// (base64 of a compressed histogram, `HISTF...`) to `*out`: HdrHistogram's
/// Java, C, Go, Python and Rust implementations decode it, and
/// `perf_import_hdr` merges it into another monitor. Values are written as
/// integer thousandths of the recorded unit (microseconds for ms).
///
/// Ownership: `name` and `tags` are read during the call only; `*out` is a
/// new string owned by the caller, freed with `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_UNKNOWN_SERIES`, `PERF_ERR_KIND_MISMATCH`,
/// `PERF_ERR_INVALID_HDR` (a value beyond HdrHistogram's range).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_hdr(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let hdr = handle(monitor, "monitor")?.export_hdr(name, &tags)?;
            out.write(owned_string(hdr));
            Ok(())
        })
    }
}

/// Merges an HdrHistogram V2 string (compressed or not, as
/// `perf_export_hdr` and other implementations write it; integers read as
/// thousandths of the unit) into the histogram series `name{tags}`,
/// creating it if needed. All or nothing.
///
/// Ownership: every argument is read during the call only.
/// Errors: as `perf_histogram_get`, and `PERF_ERR_INVALID_HDR` (the string
/// does not decode; nothing is recorded).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `tags` is NULL or points to `tags_len`
/// `perf_tag`s whose strings are NULL or NUL-terminated; `encoded` is NULL
/// or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn perf_import_hdr(
    monitor: *const perf_monitor,
    name: *const c_char,
    tags: *const perf_tag,
    tags_len: usize,
    encoded: *const c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `tags`, `encoded`: the pointer conversions below rely on nothing
    // else.
    unsafe {
        call(|| {
            let (name, tags) = series_arg(name, tags, tags_len)?;
            let encoded = str_arg(encoded, "encoded")?;
            let monitor = handle(monitor, "monitor")?;
            Ok(monitor.import_hdr(name, &tags, encoded)?)
        })
    }
}

/// Frees a string the library returned (exports, reports, JSON); NULL does
/// nothing. Never pass it anything else, nor `perf_last_error_message()`.
///
/// # Safety
/// `s` is NULL or a string this library returned, not freed yet nor used
/// after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_string_free(s: *mut c_char) {
    // SAFETY: the caller meets the `# Safety` contract above for `s`: the pointer
    // conversions below rely on nothing else.
    unsafe {
        call_void(|| free_string(s));
    }
}
