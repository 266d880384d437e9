//! Alerts: the callback C code subscribes with, the events it receives,
//! the active alerts and acknowledgement.

use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

use perf_core::{Alert, AlertEvent, AlertId, AlertKind, AlertState, Severity, SubscriptionId};

use crate::boundary::{call, call_void};
use crate::callback::UserData;
use crate::convert::{c_string, Out};
use crate::error::{perf_status, FfiError};
use crate::handle::handle;
use crate::monitor::perf_monitor;

/// How severe an alert is, lowest first; `PERF_SEVERITY_NONE` only where
/// there is no severity (`perf_alert_event.previous_severity`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_severity {
    /// No severity.
    PERF_SEVERITY_NONE = 0,
    /// For information.
    PERF_SEVERITY_INFO = 1,
    /// Degraded; act during working hours.
    PERF_SEVERITY_WARNING = 2,
    /// Failing for some users; act soon.
    PERF_SEVERITY_ERROR = 3,
    /// Broken; act now.
    PERF_SEVERITY_CRITICAL = 4,
}

impl From<Severity> for perf_severity {
    fn from(s: Severity) -> perf_severity {
        match s {
            Severity::Info => perf_severity::PERF_SEVERITY_INFO,
            Severity::Warning => perf_severity::PERF_SEVERITY_WARNING,
            Severity::Error => perf_severity::PERF_SEVERITY_ERROR,
            Severity::Critical => perf_severity::PERF_SEVERITY_CRITICAL,
        }
    }
}

/// What happened to an alert (see docs/rules.md for the lifecycle).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_alert_kind {
    /// A level held for its `for`: the alert starts.
    PERF_ALERT_FIRED = 0,
    /// A higher level holds: the severity rose at once.
    PERF_ALERT_ESCALATED = 1,
    /// The severity fell to a lower level that still holds.
    PERF_ALERT_DEESCALATED = 2,
    /// The level cleared; it resolves if it stays cleared for `clear_for`.
    PERF_ALERT_RECOVERED = 3,
    /// The level held again before `clear_for` passed.
    PERF_ALERT_RELAPSED = 4,
    /// The alert ended.
    PERF_ALERT_RESOLVED = 5,
    /// Still active after the repeat interval.
    PERF_ALERT_REPEATED = 6,
}

impl From<AlertKind> for perf_alert_kind {
    fn from(k: AlertKind) -> perf_alert_kind {
        use perf_alert_kind::*;
        match k {
            AlertKind::Fired => PERF_ALERT_FIRED,
            AlertKind::Escalated => PERF_ALERT_ESCALATED,
            AlertKind::DeEscalated => PERF_ALERT_DEESCALATED,
            AlertKind::Recovered => PERF_ALERT_RECOVERED,
            AlertKind::Relapsed => PERF_ALERT_RELAPSED,
            AlertKind::Resolved => PERF_ALERT_RESOLVED,
            AlertKind::Repeated => PERF_ALERT_REPEATED,
        }
    }
}

/// Whether an active alert's level still holds.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_alert_state {
    /// The level holds.
    PERF_ALERT_STATE_FIRING = 0,
    /// The level cleared; waiting for `clear_for`.
    PERF_ALERT_STATE_RECOVERING = 1,
}

/// One alert notification, as a `perf_alert_callback` receives it.
///
/// Ownership: the strings belong to the library and are valid only during
/// the callback; copy what you keep.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_alert_event {
    /// `sizeof` the struct as the library declares it: fields added by a
    /// later version are at the end, so a callback reads one only if
    /// `struct_size` covers it (`offsetof` + its size).
    pub struct_size: usize,
    /// The alert's id (for `perf_alert_acknowledge`).
    pub id: u64,
    /// What happened.
    pub kind: perf_alert_kind,
    /// The rule's name.
    pub rule: *const c_char,
    /// The series' metric name (for ratios, the numerator's).
    pub metric: *const c_char,
    /// The series, printed `name{key="value",...}`.
    pub series: *const c_char,
    /// The alert's severity after the event.
    pub severity: perf_severity,
    /// The severity before an escalation or de-escalation, else
    /// `PERF_SEVERITY_NONE`.
    pub previous_severity: perf_severity,
    /// The reading that caused the event; NaN for no data.
    pub value: f64,
    /// The threshold concerned (the fire threshold, or the clear threshold
    /// for recovered and resolved).
    pub threshold: f64,
    /// When it happened (the evaluation time), ns since the Unix epoch.
    pub at_unix_nanos: u64,
    /// When the alert fired, ns since the Unix epoch.
    pub fired_at_unix_nanos: u64,
}

/// An alert callback: called with each notification and the `user_data`
/// it was subscribed with, in order, on the monitor's notification thread
/// (`perf-core-notify`): an evaluation queues its notifications and
/// returns without waiting for callbacks (`perf_monitor_flush_notifications`
/// waits for them). It may call back into the monitor (record, read,
/// acknowledge, even `perf_evaluate` or `perf_evaluator_stop`). It must not
/// call `perf_monitor_free` on its own monitor.
#[allow(non_camel_case_types)]
pub type perf_alert_callback =
    Option<unsafe extern "C" fn(event: *const perf_alert_event, user_data: *mut c_void)>;

/// The strings of a `perf_alert_event`, kept alive during the callback.
struct EventStrings {
    rule: CString,
    metric: CString,
    series: CString,
}

impl EventStrings {
    fn of(event: &AlertEvent) -> EventStrings {
        EventStrings {
            rule: c_string(&*event.rule),
            metric: c_string(event.series.name()),
            series: c_string(event.series.to_string()),
        }
    }

    /// The C event, borrowing these strings.
    fn event(&self, e: &AlertEvent) -> perf_alert_event {
        perf_alert_event {
            struct_size: std::mem::size_of::<perf_alert_event>(),
            id: e.id.0,
            kind: e.kind.into(),
            rule: self.rule.as_ptr(),
            metric: self.metric.as_ptr(),
            series: self.series.as_ptr(),
            severity: e.severity.into(),
            previous_severity: e
                .previous_severity
                .map_or(perf_severity::PERF_SEVERITY_NONE, Into::into),
            value: e.value.unwrap_or(f64::NAN),
            threshold: e.threshold,
            at_unix_nanos: e.at.as_nanos(),
            fired_at_unix_nanos: e.fired_at.as_nanos(),
        }
    }
}

/// The non-NULL alert callback.
type AlertFn = unsafe extern "C" fn(*const perf_alert_event, *mut c_void);

/// Calls `callback` with the C form of `event`.
fn deliver(event: &AlertEvent, callback: AlertFn, user: UserData) {
    let strings = EventStrings::of(event);
    let c_event = strings.event(event);
    // SAFETY: the C caller promised (`perf_alert_subscribe`'s contract) a
    // callback safe to call with `user_data` on this thread while it is
    // subscribed; `c_event` and its strings live through the call.
    unsafe { callback(&c_event, user.0) }
}

/// Subscribes `callback` to the monitor's alert notifications; it is
/// called with `user_data` (which the library never reads) until
/// `perf_alert_unsubscribe` or `perf_monitor_free`. See
/// `perf_alert_callback` for the thread it runs on: if a background
/// evaluator runs, `user_data` must be safe to use from its thread.
///
/// Writes the subscription id to `*out_subscription` (may be NULL).
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `callback`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `callback` is NULL or
/// a function that is safe to call, with `user_data`, from the monitor's
/// notification thread until it is unsubscribed; `out_subscription` is NULL
/// or valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_alert_subscribe(
    monitor: *const perf_monitor,
    callback: perf_alert_callback,
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
            let id = monitor.subscribe(move |event| deliver(event, callback, user));
            out.write(id.0);
            Ok(())
        })
    }
}

/// Removes an alert subscription. Writes whether it was subscribed to
/// `*out_existed` (may be NULL). Waits for a delivery in progress, so once
/// this returns the callback is neither running nor called again and its
/// `user_data` may be freed (called from the callback itself, it does not
/// wait for itself: the current call finishes).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_existed` is NULL
/// or valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_alert_unsubscribe(
    monitor: *const perf_monitor,
    subscription: u64,
    out_existed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_existed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_existed);
            let monitor = handle(monitor, "monitor")?;
            out.write(monitor.unsubscribe(SubscriptionId(subscription)));
            Ok(())
        })
    }
}

/// Waits until every notification made so far (alert events and emergency
/// transitions) has reached its callbacks, at most `timeout_ms`; writes
/// whether all have to `*out_all_delivered` (may be NULL). Called from a
/// callback it does not wait (the callback is the delivery).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_all_delivered`
/// is NULL or valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_flush_notifications(
    monitor: *const perf_monitor,
    timeout_ms: u64,
    out_all_delivered: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_all_delivered`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_all_delivered);
            let monitor = handle(monitor, "monitor")?;
            out.write(monitor.flush_notifications(Duration::from_millis(timeout_ms)));
            Ok(())
        })
    }
}

/// Writes to `*out` how many notifications were dropped because the
/// callbacks fell `perf_monitor_options.notification_capacity` behind.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_monitor_notifications_dropped(
    monitor: *const perf_monitor,
    out: *mut u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(handle(monitor, "monitor")?.notifications_dropped());
            Ok(())
        })
    }
}

/// Acknowledges the active alert `alert_id`: its repeats stop until it
/// escalates or resolves.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`), `PERF_ERR_UNKNOWN_ALERT`
/// (no active alert has this id).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_alert_acknowledge(
    monitor: *const perf_monitor,
    alert_id: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let monitor = handle(monitor, "monitor")?;
            Ok(monitor.acknowledge(AlertId(alert_id))?)
        })
    }
}

/// An active alert, as `perf_alerts_active` lists it.
///
/// Ownership: the strings belong to the array; `perf_alerts_free` frees
/// them with it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct perf_alert {
    /// Its id (for `perf_alert_acknowledge`).
    pub id: u64,
    /// The rule's name.
    pub rule: *mut c_char,
    /// The series' metric name.
    pub metric: *mut c_char,
    /// The series, printed `name{key="value",...}`.
    pub series: *mut c_char,
    /// Current severity.
    pub severity: perf_severity,
    /// Firing or recovering.
    pub state: perf_alert_state,
    /// The latest reading; NaN for no data.
    pub value: f64,
    /// The fire threshold of `severity`.
    pub threshold: f64,
    /// When it fired, ns since the Unix epoch.
    pub fired_at_unix_nanos: u64,
    /// Whether it was acknowledged (repeats are suppressed).
    pub acknowledged: bool,
    /// Whether a higher-severity alert on the same series holds back its
    /// notifications.
    pub inhibited: bool,
}

impl From<&Alert> for perf_alert {
    fn from(a: &Alert) -> perf_alert {
        perf_alert {
            id: a.id.0,
            rule: c_string(&*a.rule).into_raw(),
            metric: c_string(a.series.name()).into_raw(),
            series: c_string(a.series.to_string()).into_raw(),
            severity: a.severity.into(),
            state: match a.state {
                AlertState::Firing => perf_alert_state::PERF_ALERT_STATE_FIRING,
                AlertState::Recovering => perf_alert_state::PERF_ALERT_STATE_RECOVERING,
            },
            value: a.value.unwrap_or(f64::NAN),
            threshold: a.threshold,
            fired_at_unix_nanos: a.fired_at.as_nanos(),
            acknowledged: a.acknowledged,
            inhibited: a.inhibited,
        }
    }
}

impl Drop for perf_alert {
    fn drop(&mut self) {
        for s in [self.rule, self.metric, self.series] {
            // SAFETY: made by CString::into_raw in From<&Alert>, freed once.
            unsafe { crate::convert::free_string(s) };
        }
    }
}

/// Lists the active alerts (firing or recovering), by rule then series:
/// writes a new array to `*out_alerts` and its length to `*out_len`
/// (NULL and 0 when there is none).
///
/// Ownership: the array and its strings belong to the caller; free them
/// with `perf_alerts_free(*out_alerts, *out_len)`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_alerts`, `out_len`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_alerts` is NULL
/// or valid for writing a `perf_alert *`; `out_len` is NULL or valid for
/// writing a `usize`.
#[no_mangle]
pub unsafe extern "C" fn perf_alerts_active(
    monitor: *const perf_monitor,
    out_alerts: *mut *mut perf_alert,
    out_len: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_alerts`, `out_len`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out_alerts = Out::required(out_alerts, "out_alerts")?;
            let out_len = Out::required(out_len, "out_len")?;
            let alerts = handle(monitor, "monitor")?.alerts();
            let array: Box<[perf_alert]> = alerts.iter().map(perf_alert::from).collect();
            let len = array.len();
            let ptr = match len {
                0 => std::ptr::null_mut(),
                _ => Box::into_raw(array).cast::<perf_alert>(),
            };
            out_alerts.write(ptr);
            out_len.write(len);
            Ok(())
        })
    }
}

/// Frees an array from `perf_alerts_active` with its strings; `len` must be
/// the length it gave. NULL does nothing.
///
/// # Safety
/// `alerts` is NULL or an array `perf_alerts_active` returned with length
/// `len`, not freed yet nor used after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_alerts_free(alerts: *mut perf_alert, len: usize) {
    // SAFETY: the caller meets the `# Safety` contract above for `alerts`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| {
            if !alerts.is_null() {
                let slice = std::ptr::slice_from_raw_parts_mut(alerts, len);
                drop(Box::from_raw(slice));
            }
        });
    }
}
