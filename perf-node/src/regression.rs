//! Baselines and their comparison (the CI gate): `monitor.baseline()`,
//! `Baseline.load` / `save`, and `compare(baseline, current, policy)`.

use std::collections::BTreeMap;

use napi::bindgen_prelude::ClassInstance;
use napi_derive::napi;
use perf_core::{compare, Baseline, Policy, Statistic};

use crate::convert::{safe_integer, timestamp_ms, SeriesObject, StatsObject};
use crate::error::{binding_error, IntoJs, Result};

/// A comparison policy; every field is optional (defaults: p50, p95, p99
/// and mean; 20 % threshold; alpha 0.05; 30 samples; 1 % noise; 500
/// resamples; seed 0).
#[napi(object)]
pub struct PolicyOptions {
    /// The statistics compared (`p95`, `mean`, …).
    pub statistics: Option<Vec<String>>,
    /// The relative change that counts as a regression (0.2 = 20 %).
    pub threshold: Option<f64>,
    /// Thresholds per statistic, overriding `threshold`.
    pub thresholds: Option<BTreeMap<String, f64>>,
    /// The significance level.
    pub alpha: Option<f64>,
    /// Fewer samples than this on either side: insufficient data (a
    /// non-negative safe integer).
    pub min_samples: Option<f64>,
    /// Relative changes below this are never significant.
    pub noise: Option<f64>,
    /// Bootstrap resamples.
    pub resamples: Option<u32>,
    /// The bootstrap's seed (a non-negative safe integer).
    pub seed: Option<f64>,
}

impl From<&Policy> for PolicyOptions {
    /// Every setting of `policy` (what `monitor.regressionPolicy()` returns,
    /// and `compare` takes back).
    fn from(p: &Policy) -> Self {
        PolicyOptions {
            statistics: Some(p.statistics.iter().map(ToString::to_string).collect()),
            threshold: Some(p.default_threshold),
            thresholds: Some(
                p.thresholds
                    .iter()
                    .map(|(stat, t)| (stat.to_string(), *t))
                    .collect(),
            ),
            alpha: Some(p.alpha),
            min_samples: Some(p.min_samples as f64),
            noise: Some(p.noise),
            resamples: Some(p.resamples),
            seed: Some(p.seed as f64),
        }
    }
}

/// The code of a bad comparison setting.
const COMPARISON: &str = "ERR_PERF_INVALID_COMPARISON";

/// A statistic named as in rules (`p95`, `p99.9`, `mean`).
fn statistic(name: &str) -> Result<Statistic> {
    name.parse()
        .map_err(|reason: String| binding_error(COMPARISON, reason))
}

/// The policy of `options`.
fn policy(options: Option<PolicyOptions>) -> Result<Policy> {
    let mut p = Policy::default();
    let Some(o) = options else { return Ok(p) };
    if let Some(names) = &o.statistics {
        let stats = names
            .iter()
            .map(|n| statistic(n))
            .collect::<Result<Vec<_>>>()?;
        p = p.statistics(&stats);
    }
    if let Some(t) = o.threshold {
        p = p.default_threshold(t);
    }
    for (name, t) in o.thresholds.iter().flatten() {
        p = p.threshold(statistic(name)?, *t);
    }
    if let Some(a) = o.alpha {
        p = p.alpha(a);
    }
    if let Some(n) = o.min_samples {
        p = p.min_samples(safe_integer(COMPARISON, "minSamples", n)?);
    }
    if let Some(n) = o.noise {
        p = p.noise(n);
    }
    if let Some(n) = o.resamples {
        p = p.resamples(n);
    }
    if let Some(s) = o.seed {
        p = p.seed(safe_integer(COMPARISON, "seed", s)?);
    }
    Ok(p)
}

/// One series of a baseline: identity and summary.
#[napi(object)]
pub struct BaselineSeriesObject {
    /// The series.
    pub series: SeriesObject,
    /// Its statistics in the baseline.
    pub stats: StatsObject,
}

/// A baseline: per series, the full histogram plus summary statistics,
/// with a version and a timestamp.
#[napi]
pub struct NativeBaseline {
    pub(crate) inner: Baseline,
}

#[napi]
impl NativeBaseline {
    /// Reads a baseline file.
    #[napi(factory)]
    pub fn load(path: String) -> Result<Self> {
        Ok(NativeBaseline {
            inner: Baseline::load(path).js()?,
        })
    }

    /// Reads a baseline document.
    #[napi(factory)]
    pub fn from_json(json: String) -> Result<Self> {
        Ok(NativeBaseline {
            inner: Baseline::from_json(&json).js()?,
        })
    }

    /// Several runs merged into one baseline of `version`
    /// ([`Baseline::from_runs`]): per series, the histograms of every run
    /// added together.
    #[napi(factory)]
    pub fn from_runs(
        version: String,
        runs: Vec<ClassInstance<'_, NativeBaseline>>,
    ) -> Result<Self> {
        let runs: Vec<Baseline> = runs.iter().map(|run| run.inner.clone()).collect();
        Ok(NativeBaseline {
            inner: Baseline::from_runs(version, &runs).js()?,
        })
    }

    /// Writes the baseline to `path` atomically.
    #[napi]
    pub fn save(&self, path: String) -> Result<()> {
        self.inner.save(path).js()
    }

    /// The baseline as a JSON document.
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The version it was taken for.
    #[napi(getter)]
    pub fn version(&self) -> String {
        self.inner.version.clone()
    }

    /// When it was taken, in ms since the epoch.
    #[napi(getter)]
    pub fn created(&self) -> f64 {
        timestamp_ms(self.inner.created)
    }

    /// Its metadata (`perf_core` version, and whatever was added).
    #[napi(getter)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.inner.metadata.clone()
    }

    /// Adds (or replaces) a metadata entry.
    #[napi]
    pub fn set_metadata(&mut self, key: String, value: String) {
        self.inner.metadata.insert(key, value);
    }

    /// Every series with its statistics.
    #[napi]
    pub fn series(&self) -> Vec<BaselineSeriesObject> {
        self.inner
            .series
            .iter()
            .map(|s| BaselineSeriesObject {
                series: SeriesObject::new(&s.key, Some("histogram".into())),
                stats: StatsObject::from(&s.stats()),
            })
            .collect()
    }

    /// Compares `current` against this baseline under `policy`; returns
    /// the report as JSON (the facade parses it).
    #[napi]
    pub fn compare_json(
        &self,
        current: &NativeBaseline,
        policy_options: Option<PolicyOptions>,
    ) -> Result<String> {
        let report = compare(&self.inner, &current.inner, &policy(policy_options)?).js()?;
        Ok(report.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_options_apply() {
        let options = PolicyOptions {
            statistics: Some(vec!["p95".into(), "mean".into()]),
            threshold: Some(0.1),
            thresholds: Some(BTreeMap::from([("p95".to_owned(), 0.3)])),
            alpha: None,
            min_samples: Some(5.0),
            noise: None,
            resamples: None,
            seed: Some(7.0),
        };
        let p = policy(Some(options)).unwrap();
        assert_eq!(
            p.statistics,
            vec![Statistic::Percentile(95.0), Statistic::Mean]
        );
        assert_eq!(p.threshold_for(Statistic::Percentile(95.0)), 0.3);
        assert_eq!(p.threshold_for(Statistic::Mean), 0.1);
        assert_eq!((p.min_samples, p.seed), (5, 7));
    }

    #[test]
    fn unknown_statistics_are_comparison_errors() {
        let err = statistic("p1000x").unwrap_err();
        assert_eq!(err.status, "ERR_PERF_INVALID_COMPARISON");
    }
}
