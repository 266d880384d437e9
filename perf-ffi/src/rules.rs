//! Rules and budgets from JSON, the budget report, and evaluation on
//! demand and in the background.

use std::ffi::c_char;

use perf_core::Rating;

use crate::boundary::call;
use crate::convert::{millis, owned_string, str_arg, Out};
use crate::error::perf_status;
use crate::handle::handle;
use crate::monitor::perf_monitor;

/// How a value compares with its budget; `PERF_RATING_NONE` when there is
/// no value to rate.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum perf_rating {
    /// Nothing rated.
    PERF_RATING_NONE = 0,
    /// At or below the good limit.
    PERF_RATING_GOOD = 1,
    /// Above the good limit, at or below the poor limit.
    PERF_RATING_NEEDS_IMPROVEMENT = 2,
    /// Above the poor limit.
    PERF_RATING_POOR = 3,
}

impl From<Option<Rating>> for perf_rating {
    fn from(r: Option<Rating>) -> perf_rating {
        match r {
            None => perf_rating::PERF_RATING_NONE,
            Some(Rating::Good) => perf_rating::PERF_RATING_GOOD,
            Some(Rating::NeedsImprovement) => perf_rating::PERF_RATING_NEEDS_IMPROVEMENT,
            Some(Rating::Poor) => perf_rating::PERF_RATING_POOR,
        }
    }
}

/// Loads a rules document (rules, budgets and an optional emergency
/// section; the schema is in docs/rules.md), all or nothing. Writes how
/// many rules and budgets were added to `*out_added` (may be NULL).
///
/// Ownership: `json` is read during the call only.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_INVALID_JSON` (the message names the field, e.g.
/// `rules[2].for`), `PERF_ERR_DUPLICATE_RULE`, `PERF_ERR_WINDOWS_DISABLED`.
/// On error nothing is added.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `json` is NULL or a
/// NUL-terminated string; `out_added` is NULL or valid for writing a
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_rules_load_json(
    monitor: *const perf_monitor,
    json: *const c_char,
    out_added: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `json`, `out_added`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_added);
            let json = str_arg(json, "json")?;
            out.write(handle(monitor, "monitor")?.load_rules(json)?);
            Ok(())
        })
    }
}

/// `perf_rules_load_json` with the contents of the file at `path`. A file
/// that cannot be read is `PERF_ERR_INVALID_JSON`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `path` is NULL or a
/// NUL-terminated string; `out_added` is NULL or valid for writing a
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_rules_load_file(
    monitor: *const perf_monitor,
    path: *const c_char,
    out_added: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `path`, `out_added`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_added);
            let path = str_arg(path, "path")?;
            out.write(handle(monitor, "monitor")?.load_rules_file(path)?);
            Ok(())
        })
    }
}

/// Writes the monitor's rules, budgets and emergency configuration as a
/// rules document (which `perf_rules_load_json` loads back) to `*out`.
///
/// Ownership: `*out` is a new string owned by the caller; free it with
/// `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_rules_json(
    monitor: *const perf_monitor,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(owned_string(handle(monitor, "monitor")?.rules_json()));
            Ok(())
        })
    }
}

/// Removes the rule `name` and drops its alerts without notifying. Writes
/// whether it existed to `*out_existed` (may be NULL).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `out_existed` is NULL or valid for writing a
/// `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_rule_remove(
    monitor: *const perf_monitor,
    name: *const c_char,
    out_existed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `out_existed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_existed);
            let name = str_arg(name, "name")?;
            out.write(handle(monitor, "monitor")?.remove_rule(name));
            Ok(())
        })
    }
}

/// Removes the budget `name` and the rules raising its alerts. Writes
/// whether it existed to `*out_existed` (may be NULL).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `name` is NULL or a
/// NUL-terminated string; `out_existed` is NULL or valid for writing a
/// `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_budget_remove(
    monitor: *const perf_monitor,
    name: *const c_char,
    out_existed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `name`, `out_existed`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_existed);
            let name = str_arg(name, "name")?;
            out.write(handle(monitor, "monitor")?.remove_budget(name));
            Ok(())
        })
    }
}

/// Rates every budget item on every series it applies to. Writes the
/// report as a text table (value, limits, rating and headroom per row) to
/// `*out_text`, and the worst rating of any row to `*out_worst` (may be
/// NULL; `PERF_RATING_NONE` if no row has a value).
///
/// Ownership: `*out_text` is a new string owned by the caller; free it
/// with `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out_text`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_text` is NULL or
/// valid for writing a `char *`; `out_worst` is NULL or valid for
/// writing a `perf_rating`.
#[no_mangle]
pub unsafe extern "C" fn perf_budget_report(
    monitor: *const perf_monitor,
    out_text: *mut *mut c_char,
    out_worst: *mut perf_rating,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_text`, `out_worst`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out_text = Out::required(out_text, "out_text")?;
            let out_worst = Out::optional(out_worst);
            let report = handle(monitor, "monitor")?.budget_report();
            out_worst.write(report.worst().into());
            out_text.write(owned_string(report.to_string()));
            Ok(())
        })
    }
}

/// Evaluates every rule at the clock's now, calls the alert callbacks with
/// each notification (on this thread, before returning), then reads the
/// emergency triggers and makes the transition due. Writes how many
/// notifications there were to `*out_events` (may be NULL).
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out_events` is NULL
/// or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_evaluate(
    monitor: *const perf_monitor,
    out_events: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `out_events`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::optional(out_events);
            out.write(handle(monitor, "monitor")?.evaluate().len());
            Ok(())
        })
    }
}

/// Starts the background evaluator: `perf_evaluate` every `interval_ms`
/// milliseconds on a thread of its own (replacing a running one). Alert and
/// emergency callbacks are then called on that thread. It stops with
/// `perf_evaluator_stop` or `perf_monitor_free`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`), `PERF_ERR_INVALID_CONFIG`
/// (`interval_ms` is 0, or no thread could be started).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_evaluator_start(
    monitor: *const perf_monitor,
    interval_ms: u64,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`: the
    // pointer conversions below rely on nothing else.
    unsafe { call(|| Ok(handle(monitor, "monitor")?.start(millis(interval_ms))?)) }
}

/// Stops the background evaluator, waiting for a running evaluation to
/// finish, so no callback runs from it once this returns. Does nothing if
/// none runs.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle.
#[no_mangle]
pub unsafe extern "C" fn perf_evaluator_stop(monitor: *const perf_monitor) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            handle(monitor, "monitor")?.stop();
            Ok(())
        })
    }
}

/// Writes whether the background evaluator runs to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`monitor`, `out`).
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `out` is NULL or
/// valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_evaluator_is_running(
    monitor: *const perf_monitor,
    out: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(handle(monitor, "monitor")?.is_evaluating());
            Ok(())
        })
    }
}
