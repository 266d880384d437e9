//! The root object: `perf_monitor` and its options.

use std::ffi::c_char;

use perf_core::{GaugeMode, Monitor, MonitorBuilder, Precision};

use crate::boundary::{call, call_void};
use crate::clock::perf_clock_manual;
use crate::convert::{free_handle, handle, into_handle, millis, slice_arg, str_arg, Out};
use crate::error::{perf_status, FfiError};

/// A monitor (opaque): the registry of series, its clock, rules, alerts,
/// emergency mode. Create with `perf_monitor_new` or
/// `perf_monitor_new_with_options`, free with `perf_monitor_free`.
/// Thread-safe: every function may be called on one monitor from any
/// number of threads at once, except `perf_monitor_free`.
#[allow(non_camel_case_types)]
pub struct perf_monitor {
    pub(crate) monitor: Monitor,
}

/// Options of `perf_monitor_new_with_options`. Zero (or NULL, or false)
/// in a field means "the default", so `perf_monitor_options opts = {0};`
/// gives the defaults and C designated initializers set just what differs.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_monitor_options {
    /// The clock everything time-dependent reads; NULL: the system clock.
    /// The monitor keeps its own reference to the clock.
    pub clock: *const perf_clock_manual,
    /// Histogram precision in bits, 2-10 (default 7: every percentile within
    /// 0.39 %).
    pub precision_bits: u8,
    /// Most distinct metric names (default 10 000); past it new names are
    /// refused with `PERF_ERR_LIMIT`.
    pub max_metrics: usize,
    /// Most tag sets per metric name before new ones fold into the metric's
    /// overflow series (default 1 000).
    pub max_series_per_metric: usize,
    /// Turns sliding windows off: no ticker thread, and window queries fail
    /// with `PERF_ERR_WINDOWS_DISABLED` (default false: windows on).
    pub disable_windows: bool,
    /// Length of the intervals sliding windows are made of, in ms (default
    /// 1 000).
    pub window_interval_ms: u64,
    /// Longest window that can be asked for, in ms (default 300 000).
    pub window_retention_ms: u64,
    /// How many alert notifications and emergency transitions the history
    /// keeps (default 1 000).
    pub alert_history: usize,
    /// Multi-process mode: the process group's shared directory (created if
    /// needed); NULL: the environment variable `PERF_CORE_MULTIPROC_DIR`, if
    /// set, else off. See docs/multiprocess.md.
    pub multiprocess_dir: *const c_char,
    /// How often the monitor publishes its state to the group, in ms
    /// (default 1 000).
    pub publish_interval_ms: u64,
    /// Multi-process mode: how gauges merge over the group's live
    /// processes — "sum", "max", "min", "latest" or "per_process"; NULL:
    /// "sum". Another name: `PERF_ERR_INVALID_CONFIG`.
    pub default_gauge_mode: *const c_char,
    /// Per-gauge modes (`gauge_modes_len` entries; NULL if none), which
    /// take precedence over `default_gauge_mode`.
    pub gauge_modes: *const perf_gauge_mode_entry,
    /// The number of entries of `gauge_modes`.
    pub gauge_modes_len: usize,
    /// How many notifications (alert events, emergency transitions) may
    /// wait for the callbacks (default 10 000, at most 10 000 000); past it
    /// new ones are dropped and counted (`perf_monitor_notifications_dropped`).
    pub notification_capacity: usize,
}

/// How one gauge merges in multi-process mode (`perf_monitor_options`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_gauge_mode_entry {
    /// The gauge's name.
    pub name: *const c_char,
    /// "sum", "max", "min", "latest" or "per_process".
    pub mode: *const c_char,
}

impl perf_monitor_options {
    /// The builder these options describe.
    unsafe fn builder(&self) -> Result<MonitorBuilder, FfiError> {
        let mut builder = Monitor::builder();
        if let Some(clock) = self.clock.as_ref() {
            builder = builder.clock(clock.clock.clone());
        }
        if self.precision_bits != 0 {
            builder = builder.precision(Precision::new(self.precision_bits)?);
        }
        if self.max_metrics != 0 {
            builder = builder.max_metrics(self.max_metrics);
        }
        if self.max_series_per_metric != 0 {
            builder = builder.max_series_per_metric(self.max_series_per_metric);
        }
        if self.window_interval_ms != 0 {
            builder = builder.window_interval(millis(self.window_interval_ms));
        }
        if self.window_retention_ms != 0 {
            builder = builder.window_retention(millis(self.window_retention_ms));
        }
        if self.alert_history != 0 {
            builder = builder.alert_history(self.alert_history);
        }
        if self.notification_capacity != 0 {
            builder = builder.notification_capacity(self.notification_capacity);
        }
        if !self.multiprocess_dir.is_null() {
            builder = builder.multiprocess_dir(str_arg(self.multiprocess_dir, "multiprocess_dir")?);
        }
        if self.publish_interval_ms != 0 {
            builder = builder.publish_interval(millis(self.publish_interval_ms));
        }
        if !self.default_gauge_mode.is_null() {
            let mode = str_arg(self.default_gauge_mode, "default_gauge_mode")?;
            builder = builder.default_gauge_mode(mode.parse::<GaugeMode>()?);
        }
        for (i, entry) in slice_arg(self.gauge_modes, self.gauge_modes_len, "gauge_modes")?
            .iter()
            .enumerate()
        {
            let name = str_arg(entry.name, format_args!("gauge_modes[{i}].name"))?;
            let mode = str_arg(entry.mode, format_args!("gauge_modes[{i}].mode"))?;
            builder = builder.gauge_mode(name, mode.parse::<GaugeMode>()?);
        }
        Ok(builder.windows(!self.disable_windows))
    }
}

/// Creates a monitor with the default options (system clock).
///
/// Ownership: `*out` is a new handle owned by the caller; free it with
/// `perf_monitor_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`out`).
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_new(out: *mut *mut perf_monitor) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let monitor = Monitor::builder().build()?;
        out.write(into_handle(perf_monitor { monitor }));
        Ok(())
    })
}

/// Creates a monitor with `options` (read during the call only).
///
/// Ownership: `*out` is a new handle owned by the caller; free it with
/// `perf_monitor_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`options`, `out`),
/// `PERF_ERR_INVALID_CONFIG` (precision outside 2-10, a window interval
/// under 1 ms or a retention shorter than it).
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_new_with_options(
    options: *const perf_monitor_options,
    out: *mut *mut perf_monitor,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let monitor = handle(options, "options")?.builder()?.build()?;
        out.write(into_handle(perf_monitor { monitor }));
        Ok(())
    })
}

/// Writes the monitor clock's time, in nanoseconds since the Unix epoch,
/// to `*out_unix_nanos`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_unix_nanos`).
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_now(
    monitor: *const perf_monitor,
    out_unix_nanos: *mut u64,
) -> perf_status {
    call(|| {
        let out = Out::required(out_unix_nanos, "out_unix_nanos")?;
        out.write(handle(monitor, "monitor")?.monitor.now().as_nanos());
        Ok(())
    })
}

/// Frees a monitor; NULL does nothing. Stops its background evaluator
/// first (waiting for a running evaluation) and waits for the callbacks of
/// the notifications already made, so no callback of this monitor runs
/// once this returns. In multi-process mode it publishes this
/// process's state before it returns (a process that then leaves with
/// `_exit` has published everything it recorded). Histogram, counter and
/// gauge handles stay valid (they keep their own series) but are no longer
/// visible to anything. Must not be called from one of the monitor's own
/// callbacks, nor while another thread uses the monitor.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_free(monitor: *mut perf_monitor) {
    call_void(|| {
        if let Some(m) = monitor.as_ref() {
            m.monitor.stop();
            m.monitor
                .flush_notifications(std::time::Duration::from_secs(24 * 3600));
            // Here, not only when the monitor's memory goes: a background
            // thread in the middle of a step may hold it a moment longer,
            // and its last publish would then race the process's exit.
            let _ = m.monitor.publish();
        }
        free_handle(monitor)
    });
}
