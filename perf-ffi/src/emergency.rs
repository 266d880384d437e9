//! Emergency mode: switching it by hand, reading it, its history and the
//! listeners told of each transition.

use std::ffi::{c_char, c_void};

use perf_core::{EmergencyChange, EmergencySource, EmergencyTransition, SubscriptionId};

use crate::boundary::call;
use crate::callback::UserData;
use crate::convert::{c_string, owned_string, str_arg, Out};
use crate::error::{perf_status, FfiError};
use crate::handle::handle;
use crate::monitor::perf_monitor;

/// What an emergency transition did.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_emergency_change {
    /// The mode turned on.
    PERF_EMERGENCY_ACTIVATED = 0,
    /// A manual activation took over an automatic one: the mode stays on
    /// until a manual deactivation.
    PERF_EMERGENCY_HELD = 1,
    /// The mode turned off.
    PERF_EMERGENCY_DEACTIVATED = 2,
}

/// One change of the emergency mode, as a `perf_emergency_callback`
/// receives it.
///
/// Ownership: the strings belong to the library and are valid only during
/// the callback.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_emergency_transition {
    /// `sizeof` the struct as the library declares it: fields added by a
    /// later version are at the end, so a callback reads one only if
    /// `struct_size` covers it (`offsetof` + its size).
    pub struct_size: usize,
    /// What changed.
    pub change: perf_emergency_change,
    /// True if made by hand (`perf_emergency_activate`/`_deactivate`),
    /// false if by the triggers.
    pub manual: bool,
    /// Why, in words: the manual reason, or what the triggers did.
    pub reason: *const c_char,
    /// The whole transition on one line: time, change, source, reason and
    /// the triggers' values.
    pub description: *const c_char,
    /// When, ns since the Unix epoch.
    pub at_unix_nanos: u64,
}

/// An emergency listener: called with each transition and its `user_data`,
/// in order, on the monitor's notification thread; the thread that switched
/// the mode does not wait for it (`perf_monitor_flush_notifications` does).
/// It may call back into the monitor, except `perf_monitor_free`.
#[allow(non_camel_case_types)]
pub type perf_emergency_callback = Option<
    unsafe extern "C" fn(transition: *const perf_emergency_transition, user_data: *mut c_void),
>;

/// Calls `callback` with the C form of `t`.
fn deliver(t: &EmergencyTransition, callback: EmergencyFn, user: UserData) {
    let reason = c_string(t.reason.as_str());
    let description = c_string(t.to_string());
    let c = perf_emergency_transition {
        struct_size: std::mem::size_of::<perf_emergency_transition>(),
        change: match t.change {
            EmergencyChange::Activated => perf_emergency_change::PERF_EMERGENCY_ACTIVATED,
            EmergencyChange::Held => perf_emergency_change::PERF_EMERGENCY_HELD,
            EmergencyChange::Deactivated => perf_emergency_change::PERF_EMERGENCY_DEACTIVATED,
        },
        manual: t.source == EmergencySource::Manual,
        reason: reason.as_ptr(),
        description: description.as_ptr(),
        at_unix_nanos: t.at.as_nanos(),
    };
    // SAFETY: the C caller promised (`perf_emergency_subscribe`'s contract)
    // a callback safe to call with `user_data` on this thread while it is
    // subscribed; `c` and its strings live through the call.
    unsafe { callback(&c, user.0) };
}

/// The non-NULL emergency callback.
type EmergencyFn = unsafe extern "C" fn(*const perf_emergency_transition, *mut c_void);

/// Turns emergency mode on by hand and holds it on until
/// `perf_emergency_deactivate` (triggers cannot end it). Writes whether
/// anything changed to `*out_changed` (may be NULL; false if it was
/// already held by hand). Listeners are called before this returns.
///
/// Ownership: `reason` is read during the call only.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_INVALID_EMERGENCY` (a blank reason).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `reason` is NULL or a
/// NUL-terminated string; `out_changed` is NULL or valid for writing a
/// `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_activate(
    monitor: *const perf_monitor,
    reason: *const c_char,
    out_changed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `reason`, `out_changed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_changed);
            let reason = str_arg(reason, "reason")?;
            out.write(handle(monitor, "monitor")?.emergency().activate(reason)?);
            Ok(())
        })
    }
}

/// Turns emergency mode off by hand, at once. Writes whether it was on to
/// `*out_changed` (may be NULL).
///
/// Errors: as `perf_emergency_activate`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `reason` is NULL or a
/// NUL-terminated string; `out_changed` is NULL or valid for writing a
/// `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_deactivate(
    monitor: *const perf_monitor,
    reason: *const c_char,
    out_changed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `reason`, `out_changed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_changed);
            let reason = str_arg(reason, "reason")?;
            out.write(handle(monitor, "monitor")?.emergency().deactivate(reason)?);
            Ok(())
        })
    }
}

/// Writes whether emergency mode is on to `*out_active`: one atomic load,
/// cheap enough to call on every request.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_active`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_active` is NULL
/// or valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_is_active(
    monitor: *const perf_monitor,
    out_active: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_active`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out_active, "out_active")?;
            out.write(handle(monitor, "monitor")?.emergency().is_active());
            Ok(())
        })
    }
}

/// Writes the latest transitions, oldest first, one per line (as
/// `perf_emergency_transition.description`), to `*out` ("" if none).
///
/// Ownership: `*out` is a new string owned by the caller; free it with
/// `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_history(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let history = handle(monitor, "monitor")?.emergency().history();
            let lines: String = history.iter().map(|t| format!("{t}\n")).collect();
            out.write(owned_string(lines));
            Ok(())
        })
    }
}

/// Subscribes `callback` to emergency transitions (see
/// `perf_emergency_callback` for the thread it runs on) until
/// `perf_emergency_unsubscribe` or `perf_monitor_free`. Writes the
/// subscription id to `*out_subscription` (may be NULL).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `callback`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `callback` is NULL or
/// a function that is safe to call, with `user_data`, from the monitor's
/// notification thread until it is unsubscribed; `out_subscription` is NULL
/// or valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_subscribe(
    monitor: *const perf_monitor,
    callback: perf_emergency_callback,
    user_data: *mut c_void,
    out_subscription: *mut u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `callback`, `out_subscription`: the pointer conversions below rely on
    // nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_subscription);
            let monitor = handle(monitor, "monitor")?;
            let callback = callback.ok_or_else(|| FfiError::null("callback"))?;
            let user = UserData(user_data);
            let id = monitor
                .emergency()
                .subscribe(move |t| deliver(t, callback, user));
            out.write(id.0);
            Ok(())
        })
    }
}

/// Removes an emergency subscription. Writes whether it was subscribed to
/// `*out_existed` (may be NULL). Like `perf_alert_unsubscribe`, it waits for
/// a delivery in progress: once it returns, the callback is neither running
/// nor called again.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_existed` is NULL
/// or valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_emergency_unsubscribe(
    monitor: *const perf_monitor,
    subscription: u64,
    out_existed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_existed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_existed);
            let emergency = handle(monitor, "monitor")?.emergency();
            out.write(emergency.unsubscribe(SubscriptionId(subscription)));
            Ok(())
        })
    }
}
