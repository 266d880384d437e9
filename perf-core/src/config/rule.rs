//! A rule as a rules document writes it: its fields (those of its watch
//! converted by `config::watch`), its `levels` and `repeat`; and
//! [`Rule::from_json`] / [`Rule::to_json`], one rule on its own.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::text::{Pairs, Text};
use super::watch::{StatSpec, WatchFields};
use super::{
    changed, checked, invalid_rule, item_name, or_default, read_object, split_index, FieldResult,
};
use crate::error::Result;
use crate::rules::{Level, NoDataPolicy, Op, RepeatIntervals, Rule, Severity};

/// The severity of a rule written with the shorthand `threshold`.
const SHORTHAND_SEVERITY: Severity = Severity::Warning;

/// A rule as the document writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSpec {
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    metric: String,
    stat: Text<StatSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    denominator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Text<Op>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    levels: Option<Vec<LevelSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear: Option<f64>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    for_duration: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear_for: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    no_data: Option<Text<NoDataPolicy>>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    tags: Pairs<String, String>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    exclude_tags: Pairs<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repeat: Option<RepeatSpec>,
}

impl RuleSpec {
    /// The rule, unchecked; `default_repeat` applies if it has no `repeat`.
    pub(super) fn to_rule(&self, default_repeat: Option<&RepeatSpec>) -> FieldResult<Rule> {
        let defaults = Rule::watching(self.name.clone(), self.watch_fields().watch()?);
        let rule = Rule {
            for_duration: or_default(self.for_duration, defaults.for_duration),
            clear_for: or_default(self.clear_for, defaults.clear_for),
            no_data: or_default(self.no_data, defaults.no_data),
            repeat: self
                .repeat
                .as_ref()
                .or(default_repeat)
                .map(RepeatSpec::intervals),
            description: self.description.clone(),
            ..defaults
        };
        Ok(self
            .ladder()?
            .into_iter()
            .fold(rule, |rule, level| match level.clear {
                Some(clear) => rule.level_with_clear(level.severity, level.threshold, clear),
                None => rule.level(level.severity, level.threshold),
            }))
    }

    /// The fields of the rule's [`Watch`](crate::Watch), as written.
    fn watch_fields(&self) -> WatchFields {
        WatchFields {
            metric: self.metric.clone(),
            stat: self.stat.0,
            denominator: self.denominator.clone(),
            op: self.op,
            window: self.window,
            min_samples: self.min_samples,
            tags: self.tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
        }
    }

    /// The levels as written: `levels`, or the shorthand `threshold`.
    fn ladder(&self) -> FieldResult<Vec<Level>> {
        let Some(levels) = &self.levels else {
            let threshold = self.threshold.ok_or_else(|| {
                let reason = "is required (or the shorthand threshold)";
                ("levels", reason.to_owned())
            })?;
            let severity = or_default(self.severity, SHORTHAND_SEVERITY);
            let clear = self.clear;
            return Ok(vec![Level {
                severity,
                threshold,
                clear,
            }]);
        };
        let shorthand = [
            ("threshold", self.threshold.is_some()),
            ("severity", self.severity.is_some()),
            ("clear", self.clear.is_some()),
        ];
        match shorthand.into_iter().find(|&(_, given)| given) {
            Some((field, _)) => Err((field, "is not allowed with levels".into())),
            None => Ok(levels.iter().map(LevelSpec::level).collect()),
        }
    }

    /// `field` of the built rule as this document spells it: the rule's
    /// levels are sorted by severity, and the shorthand has no `levels`.
    pub(super) fn doc_field(&self, field: &str) -> String {
        let Some((i, rest)) = split_index(field, "levels") else {
            return field.to_owned();
        };
        let Some(levels) = &self.levels else {
            return rest.strip_prefix('.').unwrap_or("threshold").to_owned();
        };
        // The stable sort `Rule` keeps its levels in.
        let mut order: Vec<usize> = (0..levels.len()).collect();
        order.sort_by_key(|&j| levels[j].severity.0);
        format!("levels[{}]{rest}", order.get(i).copied().unwrap_or(i))
    }

    /// The document form of `rule`, settings at their defaults left out.
    pub(super) fn of(rule: &Rule) -> RuleSpec {
        let defaults = Rule::watching(rule.name.clone(), rule.watch.clone());
        let WatchFields {
            metric,
            stat,
            denominator,
            op,
            window,
            min_samples,
            tags,
            exclude_tags,
        } = WatchFields::of(&rule.watch);
        RuleSpec {
            name: rule.name.clone(),
            description: rule.description.clone(),
            metric,
            stat: Text(stat),
            denominator,
            window,
            op,
            levels: Some(rule.levels.iter().map(LevelSpec::of).collect()),
            threshold: None,
            severity: None,
            clear: None,
            for_duration: changed(rule.for_duration, defaults.for_duration),
            clear_for: changed(rule.clear_for, defaults.clear_for),
            min_samples,
            no_data: changed(rule.no_data, defaults.no_data),
            tags,
            exclude_tags,
            repeat: rule.repeat.as_ref().map(RepeatSpec::of_intervals),
        }
    }
}

/// One entry of a rule's `levels`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LevelSpec {
    severity: Text<Severity>,
    threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear: Option<f64>,
}

impl LevelSpec {
    pub(super) fn level(&self) -> Level {
        Level {
            severity: self.severity.0,
            threshold: self.threshold,
            clear: self.clear,
        }
    }

    pub(super) fn of(level: &Level) -> LevelSpec {
        LevelSpec {
            severity: Text(level.severity),
            threshold: level.threshold,
            clear: level.clear,
        }
    }
}

/// `repeat`: intervals for some severities, the others at their defaults.
pub(super) type RepeatSpec = Pairs<Text<Severity>, Text<Duration>>;

impl RepeatSpec {
    pub(super) fn intervals(&self) -> RepeatIntervals {
        let mut intervals = RepeatIntervals::default();
        for (severity, interval) in &self.0 {
            intervals.set(severity.0, interval.0);
        }
        intervals
    }

    /// The intervals that are not the defaults, highest severity first.
    pub(super) fn of_intervals(intervals: &RepeatIntervals) -> RepeatSpec {
        let defaults = RepeatIntervals::default();
        let entry = |&severity: &Severity| {
            let interval = changed(intervals.get(severity), defaults.get(severity))?;
            Some((Text(severity), interval))
        };
        Pairs(Severity::ALL.iter().rev().filter_map(entry).collect())
    }
}

/// One rule on its own, as an entry of a rules document's `rules`.
impl Rule {
    /// Reads one rule written as an entry of a rules document's `rules`
    /// (see [`crate::RulesConfig`]), checked ([`Rule::validate`]). Errors:
    /// [`PerfError::InvalidRule`](crate::PerfError::InvalidRule) naming the
    /// field as the entry spells it (`levels[1].clear`, `for`; `.` for the
    /// whole).
    ///
    /// ```
    /// use perf_core::{PerfError, Rule, Severity, Target};
    /// let rule = Rule::from_json(r#"{"name": "slow", "metric": "lat", "stat": "p95", "threshold": 500}"#)?;
    /// assert_eq!(rule, Rule::new("slow", Target::percentile("lat", 95.0)).level(Severity::Warning, 500.0));
    /// match Rule::from_json(r#"{"name": "slow", "metric": "lat", "stat": "p95", "threshold": 5, "for": "soon"}"#) {
    ///     Err(PerfError::InvalidRule { rule, field, .. }) => assert_eq!((rule.as_str(), field.as_str()), ("slow", "for")),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Rule> {
        let spec: RuleSpec = read_object(json, "a rule")
            .map_err(|(field, reason)| invalid_rule(&item_name(json))(field, reason))?;
        let built = spec.to_rule(None);
        checked(
            built,
            Rule::validate,
            |f| spec.doc_field(f),
            invalid_rule(&spec.name),
        )
    }

    /// The rule as an entry of a rules document's `rules` (settings at
    /// their defaults left out), which [`Rule::from_json`] reads back as it
    /// was.
    ///
    /// ```
    /// use perf_core::{Rule, Severity, Target};
    /// let rule = Rule::new("slow", Target::percentile("lat", 99.9)).level(Severity::Error, 800.0);
    /// assert_eq!(Rule::from_json(&rule.to_json())?, rule);
    /// assert!(rule.to_json().contains(r#""stat":"p99.9""#));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(&RuleSpec::of(self)).expect("a rule has string keys only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_spec(json: &str) -> RuleSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rule_fields_map_to_the_document() {
        let ladder = rule_spec(
            r#"{"name": "r", "metric": "m", "stat": "p95", "levels": [
                {"severity": "critical", "threshold": 9}, {"severity": "info", "threshold": 1}]}"#,
        );
        assert_eq!(ladder.doc_field("levels[0].clear"), "levels[1].clear");
        assert_eq!(
            ladder.doc_field("levels[1].threshold"),
            "levels[0].threshold"
        );
        assert_eq!(ladder.doc_field("window"), "window");
        let shorthand = rule_spec(r#"{"name": "r", "metric": "m", "stat": "p95", "threshold": 1}"#);
        assert_eq!(shorthand.doc_field("levels[0].clear"), "clear");
    }

    #[test]
    fn repeat_keeps_defaults_for_severities_left_out() {
        let spec: RepeatSpec = serde_json::from_str(r#"{"critical": "10m"}"#).unwrap();
        let intervals = spec.intervals();
        assert_eq!(intervals.critical, Duration::from_secs(600));
        assert_eq!(intervals.warning, RepeatIntervals::default().warning);
        assert_eq!(RepeatSpec::of_intervals(&intervals), spec);
        let twice = serde_json::from_str::<RepeatSpec>(r#"{"info": "1m", "info": "2m"}"#);
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains(r#"duplicate key "info""#));
    }
}
