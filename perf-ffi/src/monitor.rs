//! The root object: `perf_monitor` and its options.

use std::ffi::c_char;
use std::mem::size_of;

use perf_core::{GaugeMode, Monitor, MonitorBuilder, Precision};

use crate::boundary::{call, call_void};
use crate::clock::perf_clock_manual;
use crate::convert::{millis, slice_arg, str_arg, Out};
use crate::error::{perf_status, FfiError};
use crate::handle::{free_handle, handle, into_handle, Boxed, Handle};
use crate::sized::{read_sized, Growable};

/// A monitor (opaque): the registry of series, its clock, rules, alerts,
/// emergency mode. Create with `perf_monitor_new` or
/// `perf_monitor_new_with_options`, free with `perf_monitor_free`.
/// Thread-safe: every function may be called on one monitor from any
/// number of threads at once, except `perf_monitor_free`.
#[allow(non_camel_case_types)]
pub struct perf_monitor {
    _opaque: [u8; 0],
}

impl Handle for perf_monitor {
    type Rust = Monitor;
    type Ownership = Boxed;
}

/// Options of `perf_monitor_new_with_options`. Zero (or NULL, or false)
/// in a field means "the default". Growable: start from
/// `perf_monitor_options opts = PERF_MONITOR_OPTIONS_INIT;` (or
/// `perf_monitor_options_init(&opts)`), which sets `struct_size` and the
/// defaults, then set just what differs.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_monitor_options {
    /// `sizeof` this struct as the caller's header declares it, set by the
    /// caller (`PERF_MONITOR_OPTIONS_INIT` or `perf_monitor_options_init`): the library reads only the fields it
    /// covers, the ones past it taking their defaults.
    pub struct_size: usize,
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

// SAFETY: `repr(C)`, a leading `usize`, then integers, `bool`s and nullable
// pointers only.
unsafe impl Growable for perf_monitor_options {
    /// The first version ends with `notification_capacity`.
    const MIN_SIZE: usize = size_of::<perf_monitor_options>();
}

impl perf_monitor_options {
    /// The builder these options describe.
    ///
    /// # Safety
    /// The pointer fields are NULL or valid as documented on each.
    unsafe fn builder(&self) -> Result<MonitorBuilder, FfiError> {
        let mut builder = Monitor::builder();
        if !self.clock.is_null() {
            // SAFETY: a non-NULL clock is a live handle (the contract).
            let clock = unsafe { handle(self.clock, "options.clock")? };
            builder = builder.clock(clock.clone());
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
            // SAFETY: a NUL-terminated string (the contract).
            let dir = unsafe { str_arg(self.multiprocess_dir, "multiprocess_dir")? };
            builder = builder.multiprocess_dir(dir);
        }
        if self.publish_interval_ms != 0 {
            builder = builder.publish_interval(millis(self.publish_interval_ms));
        }
        if !self.default_gauge_mode.is_null() {
            // SAFETY: a NUL-terminated string (the contract).
            let mode = unsafe { str_arg(self.default_gauge_mode, "default_gauge_mode")? };
            builder = builder.default_gauge_mode(mode.parse::<GaugeMode>()?);
        }
        // SAFETY: NULL or `gauge_modes_len` entries (the contract).
        let entries = unsafe { slice_arg(self.gauge_modes, self.gauge_modes_len, "gauge_modes")? };
        for (i, entry) in entries.iter().enumerate() {
            // SAFETY: each entry's strings are NUL-terminated (the contract).
            let (name, mode) = unsafe {
                (
                    str_arg(entry.name, format_args!("gauge_modes[{i}].name"))?,
                    str_arg(entry.mode, format_args!("gauge_modes[{i}].mode"))?,
                )
            };
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
///
/// # Safety
/// `out` is NULL or valid for writing a `perf_monitor *`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_new(out: *mut *mut perf_monitor) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `out`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let monitor = Monitor::builder().build()?;
            out.write(into_handle(monitor));
            Ok(())
        })
    }
}

/// Creates a monitor with `options` (read during the call only).
///
/// Ownership: `*out` is a new handle owned by the caller; free it with
/// `perf_monitor_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`options`, `out`),
/// `PERF_ERR_INVALID_ARGUMENT` (`options->struct_size` below the first
/// version's), `PERF_ERR_INVALID_CONFIG` (precision outside 2-10, a window interval
/// under 1 ms or a retention shorter than it).
///
/// # Safety
/// `options` is NULL or points to a `perf_monitor_options` whose
/// `struct_size` bytes are readable and whose pointer fields are NULL or
/// valid as documented; `out` is NULL or valid for writing a `*mut
/// perf_monitor`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_new_with_options(
    options: *const perf_monitor_options,
    out: *mut *mut perf_monitor,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `options`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let monitor = read_sized(options, "options")?.builder()?.build()?;
            out.write(into_handle(monitor));
            Ok(())
        })
    }
}

/// Writes the monitor clock's time, in nanoseconds since the Unix epoch,
/// to `*out_unix_nanos`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_unix_nanos`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_unix_nanos` is
/// NULL or valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_now(
    monitor: *const perf_monitor,
    out_unix_nanos: *mut u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_unix_nanos`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out_unix_nanos, "out_unix_nanos")?;
            out.write(handle(monitor, "monitor")?.now().as_nanos());
            Ok(())
        })
    }
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
///
/// # Safety
/// `monitor` is NULL or a `perf_monitor` handle this library made, not yet
/// freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_free(monitor: *mut perf_monitor) {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| {
            if let Ok(m) = handle(monitor, "monitor") {
                m.stop();
                m.flush_notifications(std::time::Duration::from_secs(24 * 3600));
                // Here, not only when the monitor's memory goes: a background
                // thread in the middle of a step may hold it a moment longer,
                // and its last publish would then race the process's exit.
                let _ = m.publish();
            }
            free_handle(monitor)
        });
    }
}
