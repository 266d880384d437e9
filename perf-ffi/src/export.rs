//! Exports: Prometheus text, OpenMetrics, JSON and CSV documents of every
//! series, the Prometheus protobuf exposition (bytes, freed with
//! `perf_bytes_free`), HdrHistogram V2 strings of one series (and their
//! import), and `perf_string_free` for the strings they are returned in.

use std::ffi::c_char;

use perf_core::{
    ExportFormat, ExpositionConfig, ExpositionOptions, JsonExportOptions, Monitor, PerfError,
};

use crate::boundary::{call, call_void};
use crate::convert::{
    free_owned_array, free_string, owned_array, owned_string, perf_tag, series_arg, str_arg, Out,
};
use crate::error::{perf_status, FfiError};
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

/// Writes `render(monitor, config)` as a new caller-owned string to `out`,
/// `config` read from the exposition options JSON `options_json`.
///
/// # Safety
/// `monitor` is NULL or a live monitor handle; `options_json` is NULL or a
/// NUL-terminated string; `out` is NULL or valid for a write.
unsafe fn export_with(
    monitor: *const perf_monitor,
    options_json: *const c_char,
    out: *mut *mut c_char,
    render: impl FnOnce(&Monitor, &ExpositionConfig) -> String,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        // SAFETY: as this function's contract.
        unsafe {
            let monitor = handle(monitor, "monitor")?;
            let config = exposition_config(str_arg(options_json, "options_json")?)?;
            out.write(owned_string(render(monitor, &config)));
        }
        Ok(())
    })
}

/// The configuration of exposition options JSON. The core's errors name
/// the option (`PERF_ERR_INVALID_CONFIG`), except a global label's, which is
/// a tag error (`PERF_ERR_INVALID_TAG`, as Python's `InvalidTagError`):
/// global labels are the only tags of the options, so the message is
/// prefixed with their option's name here.
fn exposition_config(json: &str) -> Result<ExpositionConfig, FfiError> {
    ExpositionOptions::from_json(json)?
        .config()
        .map_err(|err| match err {
            PerfError::InvalidTag { .. } => {
                let mut err = FfiError::from(err);
                err.message = format!("global_labels: {}", err.message);
                err
            }
            other => other.into(),
        })
}

/// `perf_export_prometheus` with exposition options: `options_json` is a
/// JSON object whose keys are all optional — `global_labels` (labels added
/// to every series), `help` (`# HELP` text per metric), `units` (unit per
/// metric), `buckets` (bucket bounds per histogram), `summaries` (summary
/// quantiles per histogram), `default_buckets`, `default_summary` (the
/// layout of every other histogram); `"{}"` is the default exposition.
/// Details: docs/export.md.
///
/// ```c
/// perf_export_prometheus_with(m, "{\"global_labels\": {\"service\": \"api\"},"
///                                " \"buckets\": {\"db.query\": [1, 5, 25]}}", &text);
/// ```
///
/// Ownership: `options_json` is read during the call only; `*out` is a new
/// string owned by the caller; free it with `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `options_json`, `out`),
/// `PERF_ERR_INVALID_UTF8`, `PERF_ERR_INVALID_CONFIG` (not JSON, an
/// unknown key, or a value out of range; the message names the option,
/// e.g. `buckets: ...`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `options_json` is
/// NULL or a NUL-terminated string; `out` is NULL or valid for writing a
/// `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_prometheus_with(
    monitor: *const perf_monitor,
    options_json: *const c_char,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `options_json`, `out`: the pointer conversions below rely on nothing
    // else.
    unsafe { export_with(monitor, options_json, out, Monitor::export_prometheus_with) }
}

/// `perf_export_openmetrics` with exposition options, as
/// `perf_export_prometheus_with` takes them.
///
/// Ownership and errors: as `perf_export_prometheus_with`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `options_json` is
/// NULL or a NUL-terminated string; `out` is NULL or valid for writing a
/// `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_openmetrics_with(
    monitor: *const perf_monitor,
    options_json: *const c_char,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `options_json`, `out`: the pointer conversions below rely on nothing
    // else.
    unsafe { export_with(monitor, options_json, out, Monitor::export_openmetrics_with) }
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

/// Writes `render(monitor)` as a new caller-owned byte array to
/// `out_bytes` and `out_len` (NULL and 0 when empty).
///
/// # Safety
/// `monitor` is NULL or a live monitor handle; `out_bytes` and `out_len`
/// are NULL or valid for a write.
unsafe fn export_bytes(
    monitor: *const perf_monitor,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
    render: impl FnOnce(&Monitor) -> Result<Vec<u8>, FfiError>,
) -> perf_status {
    call(|| {
        let out_bytes = Out::required(out_bytes, "out_bytes")?;
        let out_len = Out::required(out_len, "out_len")?;
        // SAFETY: as this function's contract.
        let bytes = render(unsafe { handle(monitor, "monitor")? })?;
        let (array, len) = owned_array(bytes.into_iter());
        // SAFETY: as this function's contract.
        unsafe {
            out_bytes.write(array);
            out_len.write(len);
        }
        Ok(())
    })
}

/// Writes every series in the Prometheus protobuf exposition to
/// `*out_bytes` (`*out_len` bytes): length-delimited
/// `io.prometheus.client.MetricFamily` messages (each prefixed by its
/// length as a varint), the same families as `perf_export_prometheus`,
/// histograms with both their classic buckets and their native
/// (exponential) histogram. Serve it as `application/vnd.google.protobuf;
/// proto=io.prometheus.client.MetricFamily; encoding=delimited`. Details:
/// docs/export.md.
///
/// Ownership: `*out_bytes` is a new byte array owned by the caller (NULL
/// when `*out_len` is 0: a monitor without series); free it with
/// `perf_bytes_free(*out_bytes, *out_len)`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_bytes`, `out_len`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_bytes` is NULL
/// or valid for writing a `uint8_t *`; `out_len` is NULL or valid for
/// writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_protobuf(
    monitor: *const perf_monitor,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_bytes`, `out_len`: the pointer conversions below rely on nothing
    // else.
    unsafe { export_bytes(monitor, out_bytes, out_len, |m| Ok(m.export_protobuf())) }
}

/// `perf_export_protobuf` with exposition options, as
/// `perf_export_prometheus_with` takes them (the classic buckets use the
/// configured bounds; a histogram configured as a summary is a summary).
///
/// Ownership: `options_json` is read during the call only; the bytes as
/// `perf_export_protobuf`'s.
/// Errors: as `perf_export_prometheus_with` (`PERF_ERR_NULL_POINTER` for
/// `monitor`, `options_json`, `out_bytes`, `out_len`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `options_json` is
/// NULL or a NUL-terminated string; `out_bytes` is NULL or valid for
/// writing a `uint8_t *`; `out_len` is NULL or valid for writing a
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_export_protobuf_with(
    monitor: *const perf_monitor,
    options_json: *const c_char,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `options_json`, `out_bytes`, `out_len`: the pointer conversions below
    // rely on nothing else.
    unsafe {
        export_bytes(monitor, out_bytes, out_len, |m| {
            let config = exposition_config(str_arg(options_json, "options_json")?)?;
            Ok(m.export_protobuf_with(&config))
        })
    }
}

/// Frees a byte array from `perf_export_protobuf` or
/// `perf_export_protobuf_with`; `len` must be the length it gave. NULL
/// does nothing.
///
/// # Safety
/// `bytes` is NULL or an array one of those functions returned with length
/// `len`, not freed yet nor used after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_bytes_free(bytes: *mut u8, len: usize) {
    // SAFETY: the caller meets the `# Safety` contract above for `bytes`,
    // `len`.
    unsafe {
        call_void(|| free_owned_array(bytes, len));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn protobuf_bytes_are_the_cores() {
        let monitor = Monitor::builder().build().unwrap();
        for v in [0.5, 3.0, 40.0] {
            monitor.record("db.query", &[("route", "/a")], v).unwrap();
        }
        monitor.counter("jobs", &[]).unwrap().increment(2);
        let config = ExpositionConfig::new().global_label("env", "prod").unwrap();
        let (want, want_with) = (
            monitor.export_protobuf(),
            monitor.export_protobuf_with(&config),
        );
        let handle_ptr: *mut perf_monitor = crate::handle::into_handle(monitor);
        let (mut bytes, mut len) = (ptr::null_mut(), 0);
        // SAFETY: every pointer passed is NULL or points to a live value of
        // this test; the arrays and the handle are freed once.
        unsafe {
            assert_eq!(
                perf_export_protobuf(handle_ptr, &mut bytes, &mut len),
                perf_status::PERF_OK
            );
            assert_eq!(std::slice::from_raw_parts(bytes, len), &want[..]);
            perf_bytes_free(bytes, len);
            let options = c"{\"global_labels\": {\"env\": \"prod\"}}";
            assert_eq!(
                perf_export_protobuf_with(handle_ptr, options.as_ptr(), &mut bytes, &mut len),
                perf_status::PERF_OK
            );
            assert_eq!(std::slice::from_raw_parts(bytes, len), &want_with[..]);
            perf_bytes_free(bytes, len);
            crate::monitor::perf_monitor_free(handle_ptr);
        }
    }
}
