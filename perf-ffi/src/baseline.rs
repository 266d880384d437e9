//! Regression detection: baselines (capture, save, load, JSON) and the
//! comparison of a run against a baseline under a policy.

use std::ffi::c_char;
use std::mem::size_of;

use perf_core::{compare, Baseline, PerfError, Policy, Statistic};

use crate::boundary::{call, call_void};
use crate::convert::{owned_string, slice_arg, str_arg, Out};
use crate::error::{perf_status, FfiError};
use crate::handle::{free_handle, handle, handle_mut, into_handle, Boxed, Handle};
use crate::monitor::perf_monitor;
use crate::sized::{read_sized, Growable};

/// A baseline (opaque): per histogram series, the full histogram and its
/// summary, a version, a creation time and metadata. Capture with
/// `perf_baseline_capture`, read with `perf_baseline_load` or
/// `perf_baseline_from_json`, free with `perf_baseline_free`. Reading it
/// from several threads is safe; `perf_baseline_set_metadata` must not run
/// concurrently with other uses.
#[allow(non_camel_case_types)]
pub struct perf_baseline {
    _opaque: [u8; 0],
}

impl Handle for perf_baseline {
    type Rust = Baseline;
    type Ownership = Boxed;
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
/// default". Growable: start from `perf_policy policy = PERF_POLICY_INIT;`
/// (or `perf_policy_init(&policy)`), the default policy, then set just what
/// differs.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct perf_policy {
    /// `sizeof` this struct as the caller's header declares it, set by the
    /// caller (`PERF_POLICY_INIT` or `perf_policy_init`): the library reads
    /// only the fields it covers, the ones past it taking their defaults.
    pub struct_size: usize,
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

// SAFETY: `repr(C)`, a leading `usize`, then numbers and nullable pointers.
unsafe impl Growable for perf_policy {
    /// The first version ends with `seed`.
    const MIN_SIZE: usize = size_of::<perf_policy>();
}

impl perf_policy {
    /// The policy this struct describes (not yet validated).
    ///
    /// # Safety
    /// The arrays are NULL or of their `_len`, and their strings
    /// NUL-terminated.
    unsafe fn policy(&self) -> Result<Policy, FfiError> {
        let mut policy = Policy::default();
        // SAFETY: NULL or `statistics_len` pointers (the contract).
        let texts =
            unsafe { slice_arg(self.statistics, self.statistics_len, "policy.statistics")? };
        if !texts.is_empty() {
            let stats = texts
                .iter()
                .enumerate()
                .map(|(i, &text)| {
                    let what = format!("policy.statistics[{i}]");
                    // SAFETY: each is NUL-terminated (the contract).
                    statistic(unsafe { str_arg(text, &what)? }, &what)
                })
                .collect::<Result<Vec<_>, _>>()?;
            policy = policy.statistics(&stats);
        }
        // SAFETY: NULL or `thresholds_len` thresholds (the contract).
        let thresholds =
            unsafe { slice_arg(self.thresholds, self.thresholds_len, "policy.thresholds")? };
        for (i, t) in thresholds.iter().enumerate() {
            let what = format!("policy.thresholds[{i}].statistic");
            // SAFETY: each statistic is NUL-terminated (the contract).
            let stat = statistic(unsafe { str_arg(t.statistic, &what)? }, &what)?;
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
///
/// # Safety
/// As [`Out::write`].
unsafe fn give(out: Out<*mut perf_baseline>, baseline: Baseline) {
    // SAFETY: as this function's contract.
    unsafe { out.write(into_handle(baseline)) };
}

/// Captures a baseline of `version` from every histogram series of the
/// monitor as recorded so far (cumulative), at the clock's now. Metadata
/// `perf_core` holds the library version.
///
/// Ownership: `version` is read during the call only; `*out` is a new
/// handle owned by the caller, freed with `perf_baseline_free`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
///
/// # Safety
/// `monitor` is NULL or a live `perf_monitor` handle; `version` is NULL or
/// a NUL-terminated string; `out` is NULL or valid for writing a `*mut
/// perf_baseline`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_capture(
    monitor: *const perf_monitor,
    version: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `monitor`,
    // `version`, `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            let version = str_arg(version, "version")?;
            give(out, handle(monitor, "monitor")?.baseline(version));
            Ok(())
        })
    }
}

/// Sets the metadata `key` to `value` (e.g. the commit or the host).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`.
///
/// # Safety
/// `baseline` is NULL or a live `perf_baseline` handle; `key` is NULL or a
/// NUL-terminated string; `value` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_set_metadata(
    baseline: *mut perf_baseline,
    key: *const c_char,
    value: *const c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`,
    // `key`, `value`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let key = str_arg(key, "key")?;
            let value = str_arg(value, "value")?;
            let b = handle_mut(baseline, "baseline")?;
            let taken = std::mem::replace(b, Baseline::new("", Default::default()));
            *b = taken.with_metadata(key, value);
            Ok(())
        })
    }
}

/// Writes how many series the baseline holds to `*out`.
///
/// Errors: `PERF_ERR_NULL_POINTER` (`baseline`, `out`).
///
/// # Safety
/// `baseline` is NULL or a live `perf_baseline` handle; `out` is NULL or
/// valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_series_count(
    baseline: *const perf_baseline,
    out: *mut usize,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`,
    // `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(handle(baseline, "baseline")?.series.len());
            Ok(())
        })
    }
}

/// Writes the baseline to the file `path` atomically (a temporary file,
/// synced, then renamed over it: a crash never leaves a half-written file).
///
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`, `PERF_ERR_IO`
/// (the previous file at `path`, if any, is intact).
///
/// # Safety
/// `baseline` is NULL or a live `perf_baseline` handle; `path` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_save(
    baseline: *const perf_baseline,
    path: *const c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`,
    // `path`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let path = str_arg(path, "path")?;
            Ok(handle(baseline, "baseline")?.save(path)?)
        })
    }
}

/// Reads the baseline file at `path`.
///
/// Ownership: `*out` is a new handle owned by the caller, freed with
/// `perf_baseline_free`. Written only on `PERF_OK`.
/// Errors: `PERF_ERR_NULL_POINTER`, `PERF_ERR_INVALID_UTF8`,
/// `PERF_ERR_INVALID_BASELINE` (unreadable, truncated, corrupt, or another
/// format version).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or valid for
/// writing a `*mut perf_baseline`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_load(
    path: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `path`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            give(out, Baseline::load(str_arg(path, "path")?)?);
            Ok(())
        })
    }
}

/// Writes the baseline as its file document (JSON) to `*out`.
///
/// Ownership: `*out` is a new string owned by the caller; free it with
/// `perf_string_free`.
/// Errors: `PERF_ERR_NULL_POINTER` (`baseline`, `out`).
///
/// # Safety
/// `baseline` is NULL or a live `perf_baseline` handle; `out` is NULL or
/// valid for writing a `char *`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_to_json(
    baseline: *const perf_baseline,
    out: *mut *mut c_char,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`,
    // `out`: the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            out.write(owned_string(handle(baseline, "baseline")?.to_json()));
            Ok(())
        })
    }
}

/// Reads a baseline document (the JSON of a baseline file).
///
/// Ownership: as `perf_baseline_load`.
/// Errors: as `perf_baseline_load`.
///
/// # Safety
/// `json` is NULL or a NUL-terminated string; `out` is NULL or valid for
/// writing a `*mut perf_baseline`.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_from_json(
    json: *const c_char,
    out: *mut *mut perf_baseline,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `json`, `out`:
    // the pointer conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out = Out::required(out, "out")?;
            give(out, Baseline::from_json(str_arg(json, "json")?)?);
            Ok(())
        })
    }
}

/// Frees a baseline; NULL does nothing.
///
/// # Safety
/// `baseline` is NULL or a `perf_baseline` handle this library made, not
/// yet freed, and not used by any thread during or after this call.
#[no_mangle]
pub unsafe extern "C" fn perf_baseline_free(baseline: *mut perf_baseline) {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`: the
    // pointer conversions below rely on nothing else.
    unsafe {
        call_void(|| free_handle(baseline));
    }
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
/// name), `PERF_ERR_INVALID_ARGUMENT` (`policy->struct_size` below the
/// first version's), `PERF_ERR_INVALID_COMPARISON` (an invalid policy).
///
/// # Safety
/// `baseline` is NULL or a live `perf_baseline` handle; `current` is NULL
/// or a live `perf_baseline` handle; `policy` is NULL or points to a
/// `perf_policy` whose `struct_size` bytes are readable and whose pointer
/// fields are NULL or valid as documented; `out_report_json` is NULL or
/// valid for writing a `char *`; `out_passed` is NULL or valid for
/// writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn perf_compare(
    baseline: *const perf_baseline,
    current: *const perf_baseline,
    policy: *const perf_policy,
    out_report_json: *mut *mut c_char,
    out_passed: *mut bool,
) -> perf_status {
    // SAFETY: the caller meets the `# Safety` contract above for `baseline`,
    // `current`, `policy`, `out_report_json`, `out_passed`: the pointer
    // conversions below rely on nothing else.
    unsafe {
        call(|| {
            let out_json = Out::required(out_report_json, "out_report_json")?;
            let out_passed = Out::required(out_passed, "out_passed")?;
            let base = handle(baseline, "baseline")?;
            let cur = handle(current, "current")?;
            let policy = match policy.is_null() {
                true => Policy::default(),
                false => read_sized(policy, "policy")?.policy()?,
            };
            let report = compare(base, cur, &policy)?;
            out_passed.write(report.passed());
            out_json.write(owned_string(report.to_json()));
            Ok(())
        })
    }
}
