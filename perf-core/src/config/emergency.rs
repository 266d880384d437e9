//! The `emergency` section of a rules document: triggers and the mode's
//! timings; and [`EmergencyConfig::from_json`] /
//! [`EmergencyConfig::to_json`], the section on its own.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::text::{Pairs, Text};
use super::watch::{StatSpec, WatchFields};
use super::{changed, element_path, invalid_json, or_default, read_object, required, FieldResult};
use crate::emergency::config::{EmergencyConfig, Trigger, TriggerCondition, TriggerSource};
use crate::error::{PerfError, Result};
use crate::rules::{Op, Severity};

/// The severity a rule reference counts from when it names none: any.
const ANY_SEVERITY: Severity = Severity::Info;

/// The `emergency` section: every field overrides
/// [`EmergencyConfig::default`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmergencySpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    triggers: Vec<TriggerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear_for: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_dwell: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flap_window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_dwell: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evaluate_every: Option<Text<Duration>>,
}

impl EmergencySpec {
    /// The configuration, checked on its own ([`EmergencyConfig::validate`]:
    /// rule references are checked against a monitor when it is loaded).
    /// Errors: [`PerfError::InvalidEmergency`] naming the field within the
    /// section (`triggers[0].threshold`).
    pub(super) fn config(&self) -> Result<EmergencyConfig> {
        let defaults = EmergencyConfig::default();
        let triggers = self.triggers.iter().enumerate().map(|(i, spec)| {
            spec.trigger()
                .map_err(|(field, reason)| PerfError::InvalidEmergency {
                    field: element_path("triggers", i, field),
                    reason,
                })
        });
        let min_dwell = or_default(self.min_dwell, defaults.min_dwell);
        let config = EmergencyConfig {
            triggers: triggers.collect::<Result<_>>()?,
            clear_for: or_default(self.clear_for, defaults.clear_for),
            min_dwell,
            flap_window: or_default(self.flap_window, defaults.flap_window),
            // Unset, it is at least min_dwell: a long min_dwell alone is
            // not an error about a field the document does not have.
            max_dwell: or_default(self.max_dwell, defaults.max_dwell.max(min_dwell)),
            evaluate_every: self.evaluate_every.map(|interval| interval.0),
        };
        config.validate()?;
        Ok(config)
    }

    /// The document form of `config`, settings at their defaults left out;
    /// `None` if all are.
    pub(super) fn of(config: &EmergencyConfig) -> Option<EmergencySpec> {
        let defaults = EmergencyConfig::default();
        (*config != defaults).then(|| EmergencySpec {
            triggers: config.triggers.iter().map(TriggerSpec::of).collect(),
            clear_for: changed(config.clear_for, defaults.clear_for),
            min_dwell: changed(config.min_dwell, defaults.min_dwell),
            flap_window: changed(config.flap_window, defaults.flap_window),
            max_dwell: changed(config.max_dwell, defaults.max_dwell),
            evaluate_every: config.evaluate_every.map(Text),
        })
    }
}

/// An error of the emergency configuration ([`PerfError::InvalidEmergency`])
/// at its path in the document (`emergency.triggers[0].rule`); other errors
/// pass through.
pub(crate) fn in_emergency(err: PerfError) -> PerfError {
    match err {
        PerfError::InvalidEmergency { field, reason } => {
            invalid_json(format!("emergency.{field}"), reason)
        }
        other => other,
    }
}

/// One of `emergency.triggers`: a condition (`metric`, `stat`,
/// `threshold`, …) or a rule reference (`rule`, `severity`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TriggerSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stat: Option<Text<StatSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    denominator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Text<Op>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    tags: Pairs<String, String>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    exclude_tags: Pairs<String, String>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    for_duration: Option<Text<Duration>>,
}

impl TriggerSpec {
    /// The trigger, unchecked.
    pub(super) fn trigger(&self) -> FieldResult<Trigger> {
        let trigger = match &self.rule {
            Some(rule) => {
                self.only_form(true)?;
                Trigger::rule(rule.clone(), or_default(self.severity, ANY_SEVERITY))
            }
            None => Trigger::condition(self.condition()?),
        };
        let trigger = match &self.name {
            Some(name) => trigger.named(name.clone()),
            None => trigger,
        };
        Ok(trigger.for_duration(or_default(self.for_duration, Duration::ZERO)))
    }

    /// The condition of a trigger without `rule`.
    fn condition(&self) -> FieldResult<TriggerCondition> {
        let metric = required(self.metric.clone(), "metric", "is required (or rule)")?;
        self.only_form(false)?;
        let stat = required(self.stat, "stat", "is required with metric")?;
        let threshold = required(self.threshold, "threshold", "is required with metric")?;
        let fields = WatchFields {
            metric,
            stat: stat.0,
            denominator: self.denominator.clone(),
            op: self.op,
            window: self.window,
            min_samples: self.min_samples,
            tags: self.tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
        };
        Ok(TriggerCondition::watching(fields.watch()?, threshold))
    }

    /// `Err` if a rule reference (`rule_form`) has a condition's fields, or
    /// a condition a rule reference's.
    fn only_form(&self, rule_form: bool) -> FieldResult<()> {
        // (field, given, of a rule reference)
        let fields = [
            ("severity", self.severity.is_some(), true),
            ("metric", self.metric.is_some(), false),
            ("stat", self.stat.is_some(), false),
            ("denominator", self.denominator.is_some(), false),
            ("op", self.op.is_some(), false),
            ("threshold", self.threshold.is_some(), false),
            ("window", self.window.is_some(), false),
            ("min_samples", self.min_samples.is_some(), false),
            ("tags", !self.tags.is_empty(), false),
            ("exclude_tags", !self.exclude_tags.is_empty(), false),
        ];
        let form = if rule_form { "rule" } else { "metric" };
        match fields
            .into_iter()
            .find(|&(_, given, of_rule)| given && of_rule != rule_form)
        {
            Some((field, ..)) => Err((field, format!("is not allowed with {form}"))),
            None => Ok(()),
        }
    }

    /// The document form of `trigger`, settings at their defaults left out.
    pub(super) fn of(trigger: &Trigger) -> TriggerSpec {
        let (spec, default_name) = match &trigger.source {
            TriggerSource::Condition(condition) => {
                (Self::of_condition(condition), condition.to_string())
            }
            TriggerSource::Rule { rule, severity } => {
                let spec = TriggerSpec {
                    rule: Some(rule.clone()),
                    severity: changed(*severity, ANY_SEVERITY),
                    ..TriggerSpec::default()
                };
                (spec, rule.clone())
            }
        };
        TriggerSpec {
            name: (trigger.name != default_name).then(|| trigger.name.clone()),
            for_duration: changed(trigger.for_duration, Duration::ZERO),
            ..spec
        }
    }

    /// The document form of a condition trigger, without its `name` and
    /// `for`.
    pub(super) fn of_condition(condition: &TriggerCondition) -> TriggerSpec {
        let WatchFields {
            metric,
            stat,
            denominator,
            op,
            window,
            min_samples,
            tags,
            exclude_tags,
        } = WatchFields::of(&condition.watch);
        TriggerSpec {
            metric: Some(metric),
            stat: Some(Text(stat)),
            denominator,
            op,
            threshold: Some(condition.threshold),
            window,
            min_samples,
            tags,
            exclude_tags,
            ..TriggerSpec::default()
        }
    }
}

/// The `emergency` section of a rules document on its own.
impl EmergencyConfig {
    /// Reads the `emergency` section of a rules document (see
    /// [`crate::RulesConfig`]), checked on its own: whether the rules that
    /// triggers reference exist is checked by
    /// [`Monitor::configure_emergency`](crate::Monitor::configure_emergency).
    /// Errors: [`PerfError::InvalidEmergency`] naming the field within the
    /// section (`triggers[0].threshold`; `.` for the whole).
    ///
    /// ```
    /// use perf_core::{EmergencyConfig, PerfError};
    /// use std::time::Duration;
    /// let config = EmergencyConfig::from_json(r#"{"min_dwell": "5m"}"#)?;
    /// assert_eq!(config, EmergencyConfig::default().min_dwell(Duration::from_secs(300)));
    /// let bad = EmergencyConfig::from_json(r#"{"triggers": [{"metric": "lat", "stat": "p95"}]}"#);
    /// match bad {
    ///     Err(PerfError::InvalidEmergency { field, .. }) => assert_eq!(field, "triggers[0].threshold"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<EmergencyConfig> {
        let spec: EmergencySpec = read_object(json, "an emergency configuration")
            .map_err(|(field, reason)| PerfError::InvalidEmergency { field, reason })?;
        spec.config()
    }

    /// The configuration as the `emergency` section of a rules document,
    /// settings at their defaults left out (`{}` for the default), which
    /// [`EmergencyConfig::from_json`] reads back as it was.
    ///
    /// ```
    /// use perf_core::EmergencyConfig;
    /// assert_eq!(EmergencyConfig::default().to_json(), "{}");
    /// let config = EmergencyConfig::from_json(r#"{"clear_for": "2m"}"#)?;
    /// assert_eq!(EmergencyConfig::from_json(&config.to_json())?, config);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn to_json(&self) -> String {
        let spec = EmergencySpec::of(self).unwrap_or_default();
        serde_json::to_string(&spec).expect("an emergency section has string keys only")
    }
}
