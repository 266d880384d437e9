//! Multi-process mode in C: a group of processes (a pre-forking server's
//! children, several instances of a service) that share a directory and
//! read as one. Set `perf_monitor_options.multiprocess_dir` (or the
//! environment variable `PERF_CORE_MULTIPROC_DIR`); see docs/multiprocess.md.

use std::mem::size_of;

use perf_core::MultiprocessStatus;

use crate::boundary::call;
use crate::convert::Out;
use crate::error::perf_status;
use crate::handle::handle;
use crate::handle::into_handle;
use crate::monitor::perf_monitor;
use crate::sized::{Growable, SizedOut};

/// The process group as this process sees it (`perf_monitor_multiprocess`).
/// Growable: set `struct_size` first (`PERF_MULTIPROCESS_STATUS_INIT` or
/// `perf_multiprocess_status_init`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default)]
pub struct perf_multiprocess_status {
    /// `sizeof` this struct as the caller's header declares it, set by the
    /// caller before the call (`PERF_MULTIPROCESS_STATUS_INIT` or `perf_multiprocess_status_init`); the library writes
    /// only the fields it covers and never changes it.
    pub struct_size: usize,
    /// Whether the monitor is in multi-process mode (the rest is zero if not).
    pub enabled: bool,
    /// This process's pid, as its files name it.
    pub pid: u32,
    /// This process's instance id (random per process start).
    pub instance: u64,
    /// Whether this process leads the group: it evaluates rules and
    /// emergency triggers for all of them and delivers the notifications.
    pub leader: bool,
    /// Processes the last read merged, this one included.
    pub processes: usize,
    /// Of those, the live ones.
    pub live_processes: usize,
    /// Dead processes compacted into the archive by this process.
    pub archived: u64,
    /// Times this process published its state.
    pub publishes: u64,
    /// Publishes that failed (the previous file stays).
    pub publish_errors: u64,
    /// Distinct files skipped as truncated, corrupt or foreign.
    pub skipped_files: u64,
    /// Series left out of the merged view (kind conflicts, caps).
    pub dropped_series: u64,
}

impl From<MultiprocessStatus> for perf_multiprocess_status {
    fn from(s: MultiprocessStatus) -> Self {
        perf_multiprocess_status {
            struct_size: size_of::<perf_multiprocess_status>(),
            enabled: true,
            pid: s.pid,
            instance: s.instance,
            leader: s.leader,
            processes: s.processes,
            live_processes: s.live_processes,
            archived: s.archived,
            publishes: s.publishes,
            publish_errors: s.publish_errors,
            skipped_files: s.skipped_files,
            dropped_series: s.dropped_series,
        }
    }
}

// SAFETY: `repr(C)`, a leading `usize`, then integers and `bool`s only.
unsafe impl Growable for perf_multiprocess_status {
    /// The first version ends with `dropped_series`.
    const MIN_SIZE: usize = size_of::<perf_multiprocess_status>();
}

/// Publishes this process's state to the group's directory now (does
/// nothing outside multi-process mode). The monitor also publishes every
/// publish interval, at `exit` and when freed.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`), `PERF_ERR_IO` (the file
/// could not be written; the previous one stays).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_publish(monitor: *const perf_monitor) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(monitor, "monitor")?.publish()?)) }
}

/// Moves the files of the group's dead processes into its archive now and
/// writes how many processes it archived to `*out_archived` (if not NULL).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`), `PERF_ERR_IO`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_archived` is
/// NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_compact_multiprocess(
    monitor: *const perf_monitor,
    out_archived: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_archived`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let archived = handle(monitor, "monitor")?.compact_multiprocess()?;
            Out::optional(out_archived).write(archived);
            Ok(())
        })
    }
}

/// Writes the process group's state to `*out` (`enabled` false outside
/// multi-process mode).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`),
/// `PERF_ERR_INVALID_ARGUMENT` (`out->struct_size` below the first version's).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// points to a `perf_multiprocess_status` whose `struct_size` field is set
/// and whose `struct_size` bytes are writable.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_multiprocess(
    monitor: *const perf_monitor,
    out: *mut perf_multiprocess_status,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = SizedOut::required(out, "out")?;
            let status = handle(monitor, "monitor")?.multiprocess();
            out.write(status.map(Into::into).unwrap_or_default());
            Ok(())
        })
    }
}

/// Creates a handle to `monitor` seen from this process alone: statistics
/// and exports through it leave out the group's other processes.
///
/// Ownership: `*out` is a new handle owned by the caller (sharing the
/// monitor's series); free it with `perf_monitor_free`. Written only on
/// `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `perf_monitor *`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_local(
    monitor: *const perf_monitor,
    out: *mut *mut perf_monitor,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let monitor = handle(monitor, "monitor")?.local();
            out.write(into_handle(monitor));
            Ok(())
        })
    }
}

/// In a child process just forked: adopts every monitor of the process
/// that is in multi-process mode — its background threads start again and
/// it joins its group as a new process, leaving out what the parent had
/// recorded (the parent still publishes that). Call it right after
/// `fork()` in a child that only records; any other call on a monitor
/// adopts it too. Does nothing in a process that was not forked.
#[no_mangle]
pub extern "C" fn perf_after_fork() {
    crate::boundary::call_void(perf_core::after_fork);
}
