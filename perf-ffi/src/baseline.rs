//! Regression detection: baselines (capture, save, load, JSON) and the
//! comparison of a run against a baseline under a policy.

use std::ffi::c_char;

use perf_core::{compare, Baseline, PerfError, Policy, Statistic};

use crate::boundary::{call, call_void};
use crate::convert::{free_handle, handle, into_handle, owned_string, slice_arg, str_arg, Out};
use crate::error::{perf_status, FfiError};
use crate::monitor::perf_monitor;

/// A baseline (opaque): per histogram series, the full histogram and its
/// summary, a version, a creation time and metadata. Capture with
/// `perf_baseline_capture`, read with `perf_baseline_load` or
/// `perf_baseline_from_json`, free with `perf_baseline_free`. Reading it
/// from several threads is safe; `perf_baseline_set_metadata` must not run
/// concurrently with other uses.
#[allow(non_camel_case_types)]
pub struct perf_baseline {
    baseline: Baseline,
}

/// A per-statistic threshold of a `perf_policy`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_threshold {
    /// The statistic as rules write it: `"p95"`, `"p99.9"`, `"mean"`.
    pub statistic: *const c_char,
    /// The relative change that counts as a regression (0.30: 30 % worse).
    pub threshold: f64,
}

/// How `perf_compare` judges a run. Zero (or NULL) in a field means "the
/// default", so `perf_policy policy = {0};` is the default policy.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_policy {
    /// The statistics compared, as rules write them (`"p50"`, `"mean"`);
    /// NULL/0: p50, p95, p99 and mean.
    pub statistics: *const *const c_char,
    /// The length of `statistics`.
    pub statistics_len: usize,
    /// The relative threshold of every statistic without its own (default
    /// 0.20: 20 % worse is a regression).
    pub default_threshold: f64,
    /// Per-statistic thresholds.
    pub thresholds: *const perf_threshold,
    /// The length of `thresholds`.
    pub thresholds_len: usize,
    /// The significance level (default 0.05).
    pub alpha: f64,
    /// Fewer values on either side is insufficient data (default 30).
    pub min_samples: u64,
    /// Relative changes within ±noise count as no change (default 0.01).
    pub noise: f64,
    /// Bootstrap resamples, at least 100 (default 500).
    pub resamples: u32,
    /// The bootstrap seed (default 0).
    pub seed: u64,
}

/// The statistic written as `text` (`p95`, `mean`); `what` names the
/// argument in the error.
fn statistic(text: &str, what: &impl std::fmt::Display) -> Result<Statistic, FfiError> {
    text.parse()
        .map_err(|reason: String| PerfError::InvalidComparison(format!("{what}: {reason}")).into())
}

impl perf_policy {
    /// The policy this struct describes (not yet validated).
    unsafe fn policy(&self) -> Result<Policy, FfiError> {
        let mut policy = Policy::default();
        let texts = slice_arg(self.statistics, self.statistics_len, "policy.statistics")?;
        if !texts.is_empty() {
            let stats = texts
                .iter()
                .enumerate()
                .map(|(i, &text)| {
                    let what = format!("policy.statistics[{i}]");
                    statistic(str_arg(text, &what)?, &what)
                })
                .collect::<Result<Vec<_>, _>>()?;
            policy = policy.statistics(&stats);
        }
        let thresholds = slice_arg(self.thresholds, self.thresholds_len, "policy.thresholds")?;
        for (i, t) in thresholds.iter().enumerate() {
            let what = format!("policy.thresholds[{i}].statistic");
            let stat = statistic(str_arg(t.statistic, &what)?, &what)?;
            policy = policy.threshold(stat, t.threshold);
        }
        if self.default_threshold != 0.0 {
            policy = policy.default_threshold(self.default_threshold);
        }
        if self.alpha != 0.0 {
            policy = policy.alpha(self.alpha);
        }
        if self.min_samples != 0 {
            policy = policy.min_samples(self.min_samples);
        }
        if self.noise != 0.0 {
            policy = policy.noise(self.noise);
        }
        if self.resamples != 0 {
            policy = policy.resamples(self.resamples);
        }
        Ok(policy.seed(self.seed))
    }
}

/// Writes a new handle for `baseline` to `out`.
unsafe fn give(out: Out<*mut perf_baseline>, baseline: Baseline) {
    out.write(into_handle(perf_baseline { baseline }));
}

/// Captures a baseline of `version` from every histogram series of the
/// monitor as recorded so far (cumulative), at the clock's now. Metadata
/// `perf_core` holds the library version.
///
/// Ownership: `version` is read during the call only; `*out` is a new
/// handle owned by the caller, freed with `perf_baseline_free`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_capture(
    monitor: *const perf_monitor,
    version: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        let version = str_arg(version, "version")?;
        give(out, handle(monitor, "monitor")?.monitor.baseline(version));
        Ok(())
    })
}

/// Sets the metadata `key` to `value` (e.g. the commit or the host).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_set_metadata(
    baseline: *mut perf_baseline,
    key: *const c_char,
    value: *const c_char,
) -> perf_status {
    call(|| {
        let key = str_arg(key, "key")?;
        let value = str_arg(value, "value")?;
        let b = baseline
            .as_mut()
            .ok_or_else(|| FfiError::null("baseline"))?;
        let taken = std::mem::replace(&mut b.baseline, Baseline::new("", Default::default()));
        b.baseline = taken.with_metadata(key, value);
        Ok(())
    })
}

/// Writes how many series the baseline holds to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`baseline`, `out`).
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_series_count(
    baseline: *const perf_baseline,
    out: *mut usize,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        out.write(handle(baseline, "baseline")?.baseline.series.len());
        Ok(())
    })
}

/// Writes the baseline to the file `path` atomically (a temporary file,
/// synced, then renamed over it: a crash never leaves a half-written file).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`, `PERF_ERR_IO`
/// (the previous file at `path`, if any, is intact).
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_save(
    baseline: *const perf_baseline,
    path: *const c_char,
) -> perf_status {
    call(|| {
        let path = str_arg(path, "path")?;
        Ok(handle(baseline, "baseline")?.baseline.save(path)?)
    })
}

/// Reads the baseline file at `path`.
///
/// Ownership: `*out` is a new handle owned by the caller, freed with
/// `perf_baseline_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_INVALID_BASELINE` (unreadable, truncated, corrupt, or another
/// format version).
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_load(
    path: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        give(out, Baseline::load(str_arg(path, "path")?)?);
        Ok(())
    })
}

/// Writes the baseline as its file document (JSON) to `*out`.
///
/// Ownership: `*out` is a new string owned by the caller; free it with
/// `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`baseline`, `out`).
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_to_json(
    baseline: *const perf_baseline,
    out: *mut *mut c_char,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        out.write(owned_string(
            handle(baseline, "baseline")?.baseline.to_json(),
        ));
        Ok(())
    })
}

/// Reads a baseline document (the JSON of a baseline file).
///
/// Ownership: as `perf_baseline_load`.
/// Errors: as `perf_baseline_load`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_from_json(
    json: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    call(|| {
        let out = Out::required(out, "out")?;
        give(out, Baseline::from_json(str_arg(json, "json")?)?);
        Ok(())
    })
}

/// Frees a baseline; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_free(baseline: *mut perf_baseline) {
    call_void(|| free_handle(baseline));
}

/// Compares `current` against `baseline` under `policy` (NULL: the
/// default policy): per series and statistic, the change, its significance
/// and a verdict. Writes the report as JSON (verdict, counts, every row;
/// see docs/regression.md) to `*out_report_json` and whether no row
/// regressed to `*out_passed`.
///
/// Ownership: `policy` is read during the call only; `*out_report_json`
/// is a new string owned by the caller, freed with `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8` (a statistic
/// name), `PERF_ERR_INVALID_COMPARISON` (an invalid policy).
#[no_mangle]
pub unsafe extern "C" fn perf_compare(
    baseline: *const perf_baseline,
    current: *const perf_baseline,
    policy: *const perf_policy,
    out_report_json: *mut *mut c_char,
    out_passed: *mut bool,
) -> perf_status {
    call(|| {
        let out_json = Out::required(out_report_json, "out_report_json")?;
        let out_passed = Out::required(out_passed, "out_passed")?;
        let base = &handle(baseline, "baseline")?.baseline;
        let cur = &handle(current, "current")?.baseline;
        let policy = match policy.as_ref() {
            Some(p) => p.policy()?,
            None => Policy::default(),
        };
        let report = compare(base, cur, &policy)?;
        out_passed.write(report.passed());
        out_json.write(owned_string(report.to_json()));
        Ok(())
    })
}
