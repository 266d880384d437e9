//! The `regression` section of a rules document: the [`Policy`] of the
//! regression gate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::text::Text;
use super::{invalid_json, unless_default};
use crate::error::Result;
use crate::regression::Policy;
use crate::rules::Statistic;

/// The `regression` section: every field overrides [`Policy::default`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegressionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statistics: Option<Vec<Text<Statistic>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    /// Per-statistic thresholds, keyed by the statistic as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    thresholds: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alpha: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noise: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resamples: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
}

impl RegressionSpec {
    /// The policy, checked.
    pub(super) fn policy(&self) -> Result<Policy> {
        let defaults = Policy::default();
        let statistics = match &self.statistics {
            Some(list) => list.iter().map(|stat| stat.0).collect(),
            None => defaults.statistics.clone(),
        };
        let mut policy = Policy {
            statistics,
            default_threshold: self.threshold.unwrap_or(defaults.default_threshold),
            thresholds: Vec::new(),
            alpha: self.alpha.unwrap_or(defaults.alpha),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            noise: self.noise.unwrap_or(defaults.noise),
            resamples: self.resamples.unwrap_or(defaults.resamples),
            seed: self.seed.unwrap_or(defaults.seed),
        };
        for (text, &ratio) in &self.thresholds {
            let stat = text
                .parse::<Statistic>()
                .map_err(|reason| invalid_json(format!("regression.thresholds.{text}"), reason))?;
            policy = policy.threshold(stat, ratio);
        }
        if let Some((setting, reason)) = policy.problem() {
            return Err(invalid_json(format!("regression.{setting}"), reason));
        }
        Ok(policy)
    }

    /// The document form of `policy`, settings at their defaults left out;
    /// `None` if all are.
    pub(super) fn of(policy: &Policy) -> Option<RegressionSpec> {
        let defaults = Policy::default();
        (*policy != defaults).then(|| RegressionSpec {
            statistics: (policy.statistics != defaults.statistics)
                .then(|| policy.statistics.iter().copied().map(Text).collect()),
            threshold: unless_default(policy.default_threshold, defaults.default_threshold),
            thresholds: policy
                .thresholds
                .iter()
                .map(|(stat, ratio)| (stat.to_string(), *ratio))
                .collect(),
            alpha: unless_default(policy.alpha, defaults.alpha),
            min_samples: unless_default(policy.min_samples, defaults.min_samples),
            noise: unless_default(policy.noise, defaults.noise),
            resamples: unless_default(policy.resamples, defaults.resamples),
            seed: unless_default(policy.seed, defaults.seed),
        })
    }
}
