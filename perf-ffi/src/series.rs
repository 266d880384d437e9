//! The series listing: every series of a monitor, its kind and tags.

use std::ffi::c_char;

use perf_core::{MetricKind, SeriesInfo};

use crate::boundary::{call, call_void};
use crate::convert::{c_string, free_owned_array, owned_array, perf_tag, Out};
use crate::error::perf_status;
use crate::handle::handle;
use crate::monitor::perf_monitor;

/// The kind of a metric: every series of one metric name has the same.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_metric_kind {
    /// A distribution of values (`perf_histogram`).
    PERF_METRIC_HISTOGRAM = 0,
    /// A monotonic count (`perf_counter`).
    PERF_METRIC_COUNTER = 1,
    /// A value that goes up and down (`perf_gauge`).
    PERF_METRIC_GAUGE = 2,
}

impl From<MetricKind> for perf_metric_kind {
    fn from(kind: MetricKind) -> perf_metric_kind {
        match kind {
            MetricKind::Histogram => perf_metric_kind::PERF_METRIC_HISTOGRAM,
            MetricKind::Counter => perf_metric_kind::PERF_METRIC_COUNTER,
            MetricKind::Gauge => perf_metric_kind::PERF_METRIC_GAUGE,
        }
    }
}

/// One series, as `perf_series_list` lists it.
///
/// Ownership: the strings and the tag array (with its strings) belong to
/// the listing; `perf_series_list_free` frees them with it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct perf_series_info {
    /// The metric name.
    pub name: *mut c_char,
    /// Histogram, counter or gauge.
    pub kind: perf_metric_kind,
    /// The series' tags, sorted by key (NULL when it has none): pass them
    /// back as they are to `perf_stats_get` and the other series functions.
    pub tags: *mut perf_tag,
    /// The number of tags.
    pub tags_len: usize,
    /// The series printed as `name{key="value",...}` (`name` alone without
    /// tags), as alerts and exports name it.
    pub key: *mut c_char,
}

impl From<&SeriesInfo> for perf_series_info {
    fn from(info: &SeriesInfo) -> perf_series_info {
        let tags = info.key.tags().map(|(key, value)| perf_tag {
            key: c_string(key).into_raw(),
            value: c_string(value).into_raw(),
        });
        let (tags, tags_len) = owned_array(tags);
        perf_series_info {
            name: c_string(info.key.name()).into_raw(),
            kind: info.kind.into(),
            tags,
            tags_len,
            key: c_string(info.key.to_string()).into_raw(),
        }
    }
}

impl Drop for perf_series_info {
    fn drop(&mut self) {
        // SAFETY: every string and the tag array were made in
        // From<&SeriesInfo> (`CString::into_raw`, `owned_array`) and are
        // freed once, here.
        unsafe {
            if !self.tags.is_null() {
                let tags = std::slice::from_raw_parts(self.tags, self.tags_len);
                for tag in tags {
                    crate::convert::free_string(tag.key.cast_mut());
                    crate::convert::free_string(tag.value.cast_mut());
                }
            }
            free_owned_array(self.tags, self.tags_len);
            crate::convert::free_string(self.name);
            crate::convert::free_string(self.key);
        }
    }
}

/// Lists every series of the monitor, sorted by name then tags: writes a
/// new array to `*out_series` and its length to `*out_len` (NULL and 0
/// when there is none). In multi-process mode, the group's series.
///
/// Ownership: the array, its strings and tag arrays belong to the caller;
/// free them with `perf_series_list_free(*out_series, *out_len)`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_series`, `out_len`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_series` is NULL
/// or valid for writing a `perf_series_info *`; `out_len` is NULL or valid
/// for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_series_list(
    monitor: *const perf_monitor,
    out_series: *mut *mut perf_series_info,
    out_len: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_series`, `out_len`: the pointer conversions below rely on nothing
    // else.
    unsafe {
        call(|| {
            let out_series = Out::required(out_series, "out_series")?;
            let out_len = Out::required(out_len, "out_len")?;
            let series = handle(monitor, "monitor")?.series();
            let (array, len) = owned_array(series.iter().map(perf_series_info::from));
            out_series.write(array);
            out_len.write(len);
            Ok(())
        })
    }
}

/// Frees an array from `perf_series_list` with everything it holds; `len`
/// must be the length it gave. NULL does nothing.
///
/// # Safety
/// `series` is NULL or an array `perf_series_list` returned with length
/// `len`, not freed yet nor used after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_series_list_free(series: *mut perf_series_info, len: usize) {
    // SAFETY: the caller meets the `# Safety` contract above for `series`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_owned_array(series, len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    /// The C string at `ptr`.
    fn text(ptr: *const c_char) -> String {
        // SAFETY: the library's NUL-terminated strings, alive in the test.
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn series_are_listed_with_kind_tags_and_key() {
        let monitor = perf_core::Monitor::builder().build().unwrap();
        monitor
            .record("api.latency", &[("route", "/a"), ("method", "GET")], 1.0)
            .unwrap();
        monitor.counter("jobs", &[]).unwrap().increment(1);
        let handle_ptr: *mut perf_monitor = crate::handle::into_handle(monitor);
        let (mut array, mut len) = (ptr::null_mut(), 0);
        // SAFETY: every pointer passed is NULL or points to a live value of
        // this test; the array and the handle are freed once.
        unsafe {
            assert_eq!(
                perf_series_list(handle_ptr, &mut array, &mut len),
                perf_status::PERF_OK
            );
            let list = std::slice::from_raw_parts(array, len);
            assert_eq!(len, 2);
            assert_eq!(text(list[0].name), "api.latency");
            assert_eq!(list[0].kind, perf_metric_kind::PERF_METRIC_HISTOGRAM);
            let tags = std::slice::from_raw_parts(list[0].tags, list[0].tags_len);
            let tags: Vec<_> = tags.iter().map(|t| (text(t.key), text(t.value))).collect();
            assert_eq!(
                tags,
                [
                    ("method".into(), "GET".into()),
                    ("route".into(), "/a".into())
                ]
            );
            assert_eq!(text(list[0].key), r#"api.latency{method="GET",route="/a"}"#);
            assert_eq!(list[1].kind, perf_metric_kind::PERF_METRIC_COUNTER);
            assert!(list[1].tags.is_null() && list[1].tags_len == 0);
            perf_series_list_free(array, len);
            crate::monitor::perf_monitor_free(handle_ptr);
        }
    }
}
