//! Rules, budgets and emergency triggers as data: the one JSON schema
//! every language loads.
//!
//! A team writes its rules once, in a *rules document*, and loads it with
//! [`Monitor::load_rules`](crate::Monitor::load_rules) from any service
//! (the bindings hand the JSON through unchanged). Version 1 of the schema:
//!
//! ```json
//! {
//!   "version": 1,
//!   "repeat": {"critical": "5m", "error": "15m", "warning": "1h", "info": "4h"},
//!   "rules": [
//!     {
//!       "name": "api-latency",
//!       "description": "optional free text",
//!       "metric": "http.server.duration",
//!       "stat": "p95",
//!       "window": "60s",
//!       "op": ">",
//!       "levels": [
//!         {"severity": "warning", "threshold": 500, "clear": 400},
//!         {"severity": "critical", "threshold": 1000}
//!       ],
//!       "for": "5m",
//!       "clear_for": "1m",
//!       "min_samples": 100,
//!       "no_data": "keep_last",
//!       "tags": {"route": "/login"},
//!       "exclude_tags": {"status": "404"},
//!       "repeat": {"critical": "10m"}
//!     }
//!   ],
//!   "budgets": [
//!     {"name": "web", "preset": "web_vitals", "alerts": {}},
//!     {"name": "checkout-api", "metric": "http.server.duration", "tags": {"route": "/checkout"},
//!      "window": "5m", "limits": {"p50": 100, "p95": 300, "p99": 800}},
//!     {"name": "custom",
//!      "items": [{"metric": "db.query", "stat": "p95", "good": 20, "poor": 50, "window": "5m",
//!                 "tags": {"db": "main"}}],
//!      "alerts": {"needs_improvement": "warning", "poor": "critical", "window": "5m",
//!                 "for": "1m", "clear_for": "1m", "min_samples": 20, "repeat": {"warning": "2h"}}}
//!   ],
//!   "emergency": {
//!     "triggers": [
//!       {"name": "slow-api", "metric": "api.response_time", "stat": "p95", "op": ">",
//!        "threshold": 1000, "window": "60s", "min_samples": 20, "tags": {"route": "/login"},
//!        "exclude_tags": {"status": "404"}, "for": "60s"},
//!       {"rule": "api-latency", "severity": "critical", "for": "30s"}
//!     ],
//!     "clear_for": "120s", "min_dwell": "300s", "flap_window": "10m", "max_dwell": "30m",
//!     "evaluate_every": "1s"
//!   }
//! }
//! ```
//!
//! * `version` is required and must be 1. Unknown fields are errors
//!   everywhere.
//! * Durations are strings: `"60s"`, `"5m"`, `"1h 30m"`, `"250ms"`.
//! * A rule's `stat` is a histogram statistic (`p50`, `p99.9` or `p999`,
//!   any `pNN`, `mean`, `min`, `max`, `count`, `sum`, `stddev`), `rate` (a
//!   counter's increase per second), `ratio` (a counter divided by the
//!   counter `denominator`, which it requires) or `value` (a gauge).
//! * Defaults: `window` 60 s, `op` `>`, `for` and `clear_for` 0,
//!   `min_samples` 0, `no_data` `keep_last` (or `resolve`, `fire`).
//! * Thresholds: either `levels` (one per severity: `info`, `warning`,
//!   `error`, `critical`; `clear` optional) or the shorthand `threshold`
//!   with optional `severity` (default `warning`) and `clear`.
//! * `repeat` sets repeat intervals per severity; severities it leaves out
//!   keep the defaults (critical 5 min, error 15 min, warning 1 h, info 4 h).
//!   The top-level `repeat` applies to every rule and every budget with
//!   `alerts` that has none of its own.
//! * A budget has exactly one of `preset` (`web_vitals`), `limits` (good
//!   limits per statistic of one `metric`, with optional `tags` and `window`
//!   for all) or `items`. With `alerts` (even `{}`) it raises alerts:
//!   `needs_improvement` (default `warning`), `poor` (`critical`), `window`
//!   (`5m`), `for`, `clear_for`, `min_samples`, `repeat`.
//! * `emergency` (optional) configures emergency mode
//!   ([`EmergencyConfig`]): `triggers` (default none), `clear_for` (60 s),
//!   `min_dwell` (60 s), `flap_window` (10 min), `max_dwell` (30 min),
//!   `evaluate_every` (default: the evaluator's interval). A trigger is
//!   either a *condition* — `metric`, `stat` (and `denominator`) as in a
//!   rule, `threshold` (required), `op` (`>`), `window` (60 s),
//!   `min_samples` (0), `tags`, `exclude_tags` — or a *rule reference* —
//!   `rule` (a rule of the document or of the monitor) and `severity` (the
//!   least that counts; default `info`: any). Either form takes `name`
//!   (default: the condition as text, `p95(api.response_time) > 1000`, or
//!   the rule's name) and `for` (0). A field of the other form is an error.
//!
//! * `regression` (optional) is the regression policy ([`Policy`]) that
//!   [`crate::compare`] and the `perf-gate` binary (`--rules`) use:
//!   `statistics` (default `["p50", "p95", "p99", "mean"]`), `threshold`
//!   (0.2: a 20 % change), `thresholds` (per statistic, `{"p99": 0.3}`),
//!   `alpha` (0.05), `min_samples` (30), `noise` (0.01), `resamples`
//!   (500), `seed` (0).
//!
//! Errors ([`PerfError::InvalidRulesJson`]) name the offending field's path,
//! such as `rules[2].for`, `budgets[0].items[1].poor` or
//! `emergency.triggers[1].rule`.
//!
//! ```
//! use perf_core::{Monitor, PerfError};
//! let monitor = Monitor::builder().build()?;
//! let added = monitor.load_rules(r#"{
//!     "version": 1,
//!     "rules": [{"name": "slow", "metric": "http.server.duration", "stat": "p95",
//!                "threshold": 500, "for": "1m"}],
//!     "budgets": [{"name": "web", "preset": "web_vitals"}]
//! }"#)?;
//! assert_eq!(added, 2);
//! let bad = r#"{"version": 1, "rules": [{"name": "x", "metric": "m", "stat": "p95",
//!                                        "threshold": 1, "for": "soon"}]}"#;
//! match monitor.load_rules(bad) {
//!     Err(PerfError::InvalidRulesJson { path, .. }) => assert_eq!(path, "rules[0].for"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), PerfError>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::budget::{Budget, BudgetAlerts, BudgetItem};
use crate::emergency::{EmergencyConfig, Trigger, TriggerCondition, TriggerSource};
use crate::error::{PerfError, Result};
use crate::regression::Policy;
use crate::rules::{Level, NoDataPolicy, Op, RepeatIntervals, Rule, Severity, Statistic, Target};

/// The severity of a rule written with the shorthand `threshold`.
const SHORTHAND_SEVERITY: Severity = Severity::Warning;

/// A rules document: rules, budgets and the emergency configuration as the
/// JSON schema (version 1, described in the module documentation) writes
/// them.
///
/// [`Monitor::load_rules`](crate::Monitor::load_rules) is the usual way
/// in; this type is for reading, checking and writing documents without a
/// monitor.
///
/// ```
/// use perf_core::{Rule, RulesConfig, Severity, Target};
/// let config = RulesConfig::from_json(r#"{"version": 1, "rules": [
///     {"name": "errors", "metric": "http.errors", "stat": "ratio",
///      "denominator": "http.requests", "threshold": 0.01}
/// ]}"#)?;
/// let (rules, budgets) = config.into_parts()?;
/// let expected = Rule::new("errors", Target::ratio("http.errors", "http.requests"))
///     .level(Severity::Warning, 0.01);
/// assert_eq!((rules, budgets.len()), (vec![expected], 0));
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    #[serde(deserialize_with = "supported_version")]
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repeat: Option<RepeatSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rules: Vec<RuleSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    budgets: Vec<BudgetSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    emergency: Option<EmergencySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    regression: Option<RegressionSpec>,
}

impl RulesConfig {
    /// The schema version this perf-core reads and writes.
    ///
    /// ```
    /// assert_eq!(perf_core::RulesConfig::VERSION, 1);
    /// ```
    pub const VERSION: u32 = 1;

    /// Reads a rules document. Errors: [`PerfError::InvalidRulesJson`] with
    /// the path of the offending field (`rules[2].for`; `.` for the whole)
    /// and what is wrong there. Only the syntax and the types are checked
    /// here; [`RulesConfig::into_parts`] checks the rules themselves.
    ///
    /// ```
    /// use perf_core::{PerfError, RulesConfig};
    /// let err = RulesConfig::from_json(r#"{"version": 1, "rules": [{"name": "r", "thresold": 5}]}"#);
    /// match err {
    ///     Err(PerfError::InvalidRulesJson { path, reason }) => {
    ///         assert_eq!(path, "rules[0].thresold");
    ///         assert!(reason.contains("unknown field `thresold`"), "{reason}");
    ///     }
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// ```
    pub fn from_json(json: &str) -> Result<RulesConfig> {
        // serde reads a struct from an array too (fields in order): only
        // an object is a rules document.
        if !json.trim_start().starts_with('{') {
            let found = json
                .trim_start()
                .chars()
                .next()
                .map_or("nothing".into(), |c| format!("{c:?}"));
            return Err(invalid_json(
                ".".into(),
                format!("a rules document is a JSON object ({{...}}), found {found}"),
            ));
        }
        let mut reader = serde_json::Deserializer::from_str(json);
        let config = serde_path_to_error::deserialize(&mut reader)
            .map_err(|err| invalid_json(err.path().to_string(), err.into_inner()))?;
        reader.end().map_err(|err| invalid_json(".".into(), err))?;
        Ok(config)
    }

    /// The document as pretty-printed JSON, which [`RulesConfig::from_json`]
    /// reads back as it was.
    ///
    /// ```
    /// use perf_core::RulesConfig;
    /// let config = RulesConfig::from_json(r#"{"version": 1, "budgets": [{"name": "web", "preset": "web_vitals"}]}"#)?;
    /// assert_eq!(RulesConfig::from_json(&config.to_json())?, config);
    /// assert!(config.to_json().contains(r#""preset": "web_vitals""#));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("rules documents have string keys only")
    }

    /// The document of `rules` and `budgets` (without an `emergency`
    /// section), for export. Settings at their defaults are left out;
    /// budgets are written as their items (a preset as the items it expands
    /// to).
    ///
    /// ```
    /// use perf_core::{Budget, Rule, RulesConfig, Severity, Target};
    /// let rules = vec![Rule::new("slow", Target::percentile("lat", 99.9)).level(Severity::Error, 800.0)];
    /// let budgets = vec![Budget::web_vitals()];
    /// let config = RulesConfig::from_parts(&rules, &budgets);
    /// assert!(config.to_json().contains(r#""stat": "p99.9""#));
    /// assert_eq!(config.into_parts()?, (rules, budgets));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn from_parts(rules: &[Rule], budgets: &[Budget]) -> RulesConfig {
        RulesConfig {
            version: Self::VERSION,
            repeat: None,
            rules: rules.iter().map(RuleSpec::of).collect(),
            budgets: budgets.iter().map(BudgetSpec::of).collect(),
            emergency: None,
            regression: None,
        }
    }

    /// The rules and budgets of the document, each checked
    /// ([`Rule::validate`], [`Budget::validate`]). Errors:
    /// [`PerfError::InvalidRulesJson`] naming the offending field as the
    /// document spells it (`rules[0].levels[1].clear`, `budgets[2].alerts.poor`).
    ///
    /// ```
    /// use perf_core::{PerfError, RulesConfig};
    /// let config = RulesConfig::from_json(r#"{"version": 1, "rules": [
    ///     {"name": "r", "metric": "lat", "stat": "p95", "threshold": 500, "clear": 600}
    /// ]}"#)?;
    /// match config.into_parts() {
    ///     Err(PerfError::InvalidRulesJson { path, .. }) => assert_eq!(path, "rules[0].clear"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok::<(), PerfError>(())
    /// ```
    pub fn into_parts(self) -> Result<(Vec<Rule>, Vec<Budget>)> {
        self.parts()
    }

    /// The document's `emergency` section as a configuration, checked on
    /// its own ([`EmergencyConfig::validate`]; whether the rules that
    /// triggers name exist is checked when
    /// [`Monitor::load_rules`](crate::Monitor::load_rules) applies it).
    /// `None` if the document has no such section. Errors:
    /// [`PerfError::InvalidRulesJson`] naming the offending field
    /// (`emergency.triggers[0].threshold`, `emergency.max_dwell`).
    ///
    /// ```
    /// use perf_core::{EmergencyConfig, Op, RulesConfig, Severity, Target, Trigger, TriggerCondition};
    /// use std::time::Duration;
    /// let config = RulesConfig::from_json(r#"{"version": 1, "emergency": {
    ///     "triggers": [{"metric": "api.response_time", "stat": "p95", "threshold": 1000, "for": "60s"},
    ///                  {"rule": "http-errors", "severity": "critical"}],
    ///     "min_dwell": "5m"
    /// }}"#)?;
    /// let slow = TriggerCondition::new(Target::percentile("api.response_time", 95.0), Op::Gt, 1000.0);
    /// let expected = EmergencyConfig::default()
    ///     .trigger(Trigger::condition(slow).for_duration(Duration::from_secs(60)))
    ///     .trigger(Trigger::rule("http-errors", Severity::Critical))
    ///     .min_dwell(Duration::from_secs(300));
    /// assert_eq!(config.emergency()?, Some(expected));
    /// assert_eq!(RulesConfig::from_json(r#"{"version": 1}"#)?.emergency()?, None);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn emergency(&self) -> Result<Option<EmergencyConfig>> {
        self.emergency
            .as_ref()
            .map(EmergencySpec::config)
            .transpose()
    }

    /// The document's `regression` section as a [`Policy`] for
    /// [`crate::compare`] (and the `perf-gate` binary's `--rules`), checked
    /// ([`Policy::validate`]); `None` if the document has no such section.
    /// Errors: [`PerfError::InvalidRulesJson`] naming the field
    /// (`regression.thresholds.p99x`, `regression.alpha`).
    ///
    /// ```
    /// use perf_core::{Policy, RulesConfig, Statistic};
    /// let config = RulesConfig::from_json(r#"{"version": 1, "regression": {
    ///     "statistics": ["p50", "p99", "mean"], "threshold": 0.1, "thresholds": {"p99": 0.25}
    /// }}"#)?;
    /// let expected = Policy::default()
    ///     .statistics(&[Statistic::Percentile(50.0), Statistic::Percentile(99.0), Statistic::Mean])
    ///     .default_threshold(0.1)
    ///     .threshold(Statistic::Percentile(99.0), 0.25);
    /// assert_eq!(config.regression()?, Some(expected));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn regression(&self) -> Result<Option<Policy>> {
        self.regression
            .as_ref()
            .map(RegressionSpec::policy)
            .transpose()
    }

    /// The document with `policy` as its `regression` section (left out if
    /// `policy` is the default).
    ///
    /// ```
    /// use perf_core::{Policy, RulesConfig};
    /// let strict = Policy::default().default_threshold(0.05);
    /// let config = RulesConfig::from_parts(&[], &[]).with_regression(&strict);
    /// assert!(config.to_json().contains(r#""threshold": 0.05"#));
    /// assert_eq!(RulesConfig::from_json(&config.to_json())?.regression()?, Some(strict));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn with_regression(mut self, policy: &Policy) -> RulesConfig {
        self.regression = RegressionSpec::of(policy);
        self
    }

    /// [`RulesConfig::into_parts`], keeping the document (to locate errors
    /// with [`RulesConfig::locate`]).
    pub(crate) fn parts(&self) -> Result<(Vec<Rule>, Vec<Budget>)> {
        let repeat = self.repeat.as_ref();
        let rules = self.rules.iter().enumerate().map(|(i, spec)| {
            let built = spec.to_rule(repeat);
            checked(("rules", i), built, Rule::validate, |f| spec.doc_field(f))
        });
        let budgets = self.budgets.iter().enumerate().map(|(i, spec)| {
            let built = spec.to_budget(repeat);
            checked(("budgets", i), built, Budget::validate, |f| {
                spec.doc_field(f)
            })
        });
        Ok((
            rules.collect::<Result<_>>()?,
            budgets.collect::<Result<_>>()?,
        ))
    }

    /// Locates an error of adding the document's rules and budgets to a
    /// monitor in the document when it can tell where: an invalid rule or
    /// budget by its name, a window the monitor cannot read by its length.
    /// Other errors pass through.
    pub(crate) fn locate(&self, err: PerfError) -> PerfError {
        let path = match &err {
            PerfError::InvalidRule { rule, field, .. } => self.field_path(rule, field),
            PerfError::InvalidWindow { window, .. } => self.window_path(*window),
            _ => None,
        };
        match (path, err) {
            (Some(path), PerfError::InvalidRule { reason, .. }) => invalid_json(path, reason),
            (Some(path), err) => invalid_json(path, err),
            (None, err) => err,
        }
    }

    /// The path of `field` of the rule or budget named `name`.
    fn field_path(&self, name: &str, field: &str) -> Option<String> {
        let rule = self.rules.iter().position(|spec| spec.name == name);
        let budget = || self.budgets.iter().position(|spec| spec.name == name);
        match (rule, budget()) {
            (Some(i), _) => Some(self.rule_path(i, field)),
            (None, Some(i)) => Some(self.budget_path(i, field)),
            (None, None) => None,
        }
    }

    /// The path of the first window in the document as long as `window`: a
    /// rule's, a budget item's, or a budget's alerts'.
    fn window_path(&self, window: Duration) -> Option<String> {
        let (rules, budgets) = self.parts().ok()?;
        let rule = rules
            .iter()
            .position(|rule| rule.target.is_windowed() && rule.window == window)
            .map(|i| self.rule_path(i, "window"));
        let budget = || {
            budgets.iter().enumerate().find_map(|(i, budget)| {
                let field = budget_window_field(budget, window)?;
                Some(self.budget_path(i, &field))
            })
        };
        rule.or_else(budget)
    }

    /// The path of `field` (as [`Rule::validate`] names it) of rule `i`.
    fn rule_path(&self, i: usize, field: &str) -> String {
        element_path("rules", i, &self.rules[i].doc_field(field))
    }

    /// The path of `field` (as [`Budget::validate`] names it) of budget `i`.
    fn budget_path(&self, i: usize, field: &str) -> String {
        element_path("budgets", i, &self.budgets[i].doc_field(field))
    }
}

/// The field of `budget` (as [`Budget::validate`] names fields) whose
/// window is `window`.
fn budget_window_field(budget: &Budget, window: Duration) -> Option<String> {
    let item = budget
        .items
        .iter()
        .position(|item| item.window == Some(window));
    let item = item.map(|j| format!("items[{j}].window"));
    let alerts = || {
        let alerts = budget.alerts.filter(|alerts| alerts.window == window);
        alerts.map(|_| "alerts.window".to_owned())
    };
    item.or_else(alerts)
}

/// `{list}[{i}].{field}`.
fn element_path(list: &str, i: usize, field: &str) -> String {
    format!("{list}[{i}].{field}")
}

/// A [`PerfError::InvalidRulesJson`].
fn invalid_json(path: String, reason: impl fmt::Display) -> PerfError {
    PerfError::InvalidRulesJson {
        path,
        reason: reason.to_string(),
    }
}

/// A field of one element that is wrong, as the document spells it, and why.
type FieldResult<T> = std::result::Result<T, (&'static str, String)>;

/// Checks element `i` of `list` built from the document: a conversion
/// error (naming the document's field) or a validation error (naming the
/// built element's field, which `doc_field` spells as the document does)
/// becomes a [`PerfError::InvalidRulesJson`] at that field's path.
fn checked<T>(
    (list, i): (&str, usize),
    built: FieldResult<T>,
    validate: impl FnOnce(&T) -> Result<()>,
    doc_field: impl FnOnce(&str) -> String,
) -> Result<T> {
    let at = |field: &str| element_path(list, i, field);
    let element = built.map_err(|(field, reason)| invalid_json(at(field), reason))?;
    validate(&element).map_err(|err| match err {
        PerfError::InvalidRule { field, reason, .. } => {
            invalid_json(at(&doc_field(&field)), reason)
        }
        other => other,
    })?;
    Ok(element)
}

/// `Err` unless the document's `version` is [`RulesConfig::VERSION`].
fn supported_version<'de, D: Deserializer<'de>>(reader: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(reader)?;
    if version == RulesConfig::VERSION {
        return Ok(version);
    }
    Err(de::Error::custom(format!(
        "unsupported version {version}: this perf-core reads version {}",
        RulesConfig::VERSION
    )))
}

/// `Some(Text(value))` unless it is the default (for export).
fn changed<T: PartialEq>(value: T, default: T) -> Option<Text<T>> {
    unless_default(value, default).map(Text)
}

/// `value`, or `None` if it is `default` (a field the document leaves out).
fn unless_default<T: PartialEq>(value: T, default: T) -> Option<T> {
    (value != default).then_some(value)
}

/// The value of an optional field, or its default.
fn or_default<T>(field: Option<Text<T>>, default: T) -> T {
    field.map_or(default, |text| text.0)
}

/// The value of a required field, or `Err((field, reason))`.
fn required<T>(value: Option<T>, field: &'static str, reason: &str) -> FieldResult<T> {
    value.ok_or_else(|| (field, reason.to_owned()))
}

/// `{list}[{i}]{rest}` split into the index and the rest (`""` or `.field`).
fn split_index<'a>(field: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let inner = field.strip_prefix(list)?.strip_prefix('[')?;
    let (index, rest) = inner.split_once(']')?;
    Some((index.parse().ok()?, rest))
}

/// A rule as the document writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    metric: String,
    stat: Text<Reading>,
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
    fn to_rule(&self, default_repeat: Option<&RepeatSpec>) -> FieldResult<Rule> {
        let defaults = Rule::new(self.name.clone(), self.target()?);
        let rule = Rule {
            op: or_default(self.op, defaults.op),
            window: or_default(self.window, defaults.window),
            for_duration: or_default(self.for_duration, defaults.for_duration),
            clear_for: or_default(self.clear_for, defaults.clear_for),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            no_data: or_default(self.no_data, defaults.no_data),
            tags: self.tags.0.clone(),
            exclude_tags: self.exclude_tags.0.clone(),
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

    fn target(&self) -> FieldResult<Target> {
        self.stat
            .0
            .target(&self.metric, self.denominator.as_deref())
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
    fn doc_field(&self, field: &str) -> String {
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
    fn of(rule: &Rule) -> RuleSpec {
        let defaults = Rule::new(rule.name.clone(), rule.target.clone());
        let (metric, stat, denominator) = Reading::of(&rule.target);
        RuleSpec {
            name: rule.name.clone(),
            description: rule.description.clone(),
            metric,
            stat: Text(stat),
            denominator,
            window: changed(rule.window, defaults.window),
            op: changed(rule.op, defaults.op),
            levels: Some(rule.levels.iter().map(LevelSpec::of).collect()),
            threshold: None,
            severity: None,
            clear: None,
            for_duration: changed(rule.for_duration, defaults.for_duration),
            clear_for: changed(rule.clear_for, defaults.clear_for),
            min_samples: (rule.min_samples != defaults.min_samples).then_some(rule.min_samples),
            no_data: changed(rule.no_data, defaults.no_data),
            tags: Pairs(rule.tags.clone()),
            exclude_tags: Pairs(rule.exclude_tags.clone()),
            repeat: rule.repeat.as_ref().map(RepeatSpec::of_intervals),
        }
    }
}

/// One entry of a rule's `levels`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelSpec {
    severity: Text<Severity>,
    threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear: Option<f64>,
}

impl LevelSpec {
    fn level(&self) -> Level {
        Level {
            severity: self.severity.0,
            threshold: self.threshold,
            clear: self.clear,
        }
    }

    fn of(level: &Level) -> LevelSpec {
        LevelSpec {
            severity: Text(level.severity),
            threshold: level.threshold,
            clear: level.clear,
        }
    }
}

/// What a rule's `stat` names: a histogram statistic, or how a counter or
/// gauge is read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reading {
    /// A histogram statistic.
    Stat(Statistic),
    /// `rate`: a counter's increase per second.
    Rate,
    /// `ratio`: a counter divided by the `denominator` counter.
    Ratio,
    /// `value`: a gauge.
    Value,
    /// `change(p95)`: a step in a histogram statistic per interval.
    Change(Statistic),
}

impl Reading {
    /// The target reading `metric` this way: the inverse of
    /// [`Reading::of`]. A `denominator` is required with, and only allowed
    /// with, `ratio`.
    fn target(self, metric: &str, denominator: Option<&str>) -> FieldResult<Target> {
        let metric = metric.to_owned();
        match (self, denominator) {
            (Reading::Ratio, Some(denominator)) => Ok(Target::ratio(metric, denominator)),
            (Reading::Ratio, None) => Err(("denominator", r#"is required with "ratio""#.into())),
            (_, Some(_)) => Err(("denominator", r#"is only allowed with "ratio""#.into())),
            (Reading::Stat(stat), None) => Ok(Target::stat(metric, stat)),
            (Reading::Rate, None) => Ok(Target::rate(metric)),
            (Reading::Value, None) => Ok(Target::gauge(metric)),
            (Reading::Change(stat), None) => Ok(Target::change_point(metric, stat)),
        }
    }

    /// `(metric, stat, denominator)` of `target`.
    fn of(target: &Target) -> (String, Reading, Option<String>) {
        match target {
            Target::Histogram { metric, stat } => (metric.clone(), Reading::Stat(*stat), None),
            Target::CounterRate { metric } => (metric.clone(), Reading::Rate, None),
            Target::CounterRatio {
                numerator,
                denominator,
            } => (numerator.clone(), Reading::Ratio, Some(denominator.clone())),
            Target::Gauge { metric } => (metric.clone(), Reading::Value, None),
            Target::ChangePoint { metric, stat } => (metric.clone(), Reading::Change(*stat), None),
        }
    }
}

/// A budget as the document writes it: one of `preset`, `limits`, `items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSpec {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preset: Option<Text<Preset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Pairs<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limits: Option<Pairs<Text<Statistic>, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<ItemSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alerts: Option<AlertsSpec>,
}

impl BudgetSpec {
    /// The budget, unchecked; `default_repeat` applies to its alerts if
    /// they have no `repeat`.
    fn to_budget(&self, default_repeat: Option<&RepeatSpec>) -> FieldResult<Budget> {
        let budget = match self.preset {
            Some(preset) => self.only_form("preset").map(|()| preset.0.budget())?,
            None => self
                .item_specs()?
                .iter()
                .map(ItemSpec::item)
                .fold(Budget::new(self.name.clone()), Budget::item),
        };
        Ok(Budget {
            name: self.name.clone(),
            alerts: self.alerts.as_ref().map(|a| a.alerts(default_repeat)),
            ..budget
        })
    }

    /// The items of a `limits` or `items` budget.
    fn item_specs(&self) -> FieldResult<Vec<ItemSpec>> {
        let (Some(limits), None) = (&self.limits, &self.items) else {
            let items = self.items.as_ref().ok_or_else(|| {
                let reason = "is required (or preset, or limits)";
                ("items", reason.to_owned())
            })?;
            return self.only_form("items").map(|()| items.clone());
        };
        let metric = self.metric.as_ref().ok_or_else(|| {
            let reason = "is required with limits";
            ("metric", reason.to_owned())
        })?;
        let item = |&(stat, good): &(Text<Statistic>, f64)| ItemSpec {
            metric: metric.clone(),
            stat,
            good,
            poor: None,
            window: self.window,
            tags: self.tags.clone().unwrap_or_default(),
        };
        Ok(limits.0.iter().map(item).collect())
    }

    /// `Err` if a budget of the form `form` has another form's fields too.
    fn only_form(&self, form: &str) -> FieldResult<()> {
        let others = [
            ("preset", self.preset.is_some()),
            ("limits", self.limits.is_some()),
            ("items", self.items.is_some()),
            ("metric", self.metric.is_some()),
            ("tags", self.tags.is_some()),
            ("window", self.window.is_some()),
        ];
        match others.into_iter().find(|&(f, given)| given && f != form) {
            Some((field, _)) => Err((field, format!("is not allowed with {form}"))),
            None => Ok(()),
        }
    }

    /// `field` of the built budget as this document spells it: the items of
    /// `limits` and of a preset are not written out.
    fn doc_field(&self, field: &str) -> String {
        let item = split_index(field, "items");
        match (item, &self.limits) {
            _ if self.preset.is_some() && field.starts_with("items") => "preset".into(),
            (None, Some(_)) if field == "items" => "limits".into(),
            (Some((_, rest @ (".metric" | ".tags" | ".window"))), Some(_)) => rest[1..].into(),
            (Some((j, _)), Some(limits)) => match limits.0.get(j) {
                Some((stat, _)) => format!("limits.{stat}"),
                None => "limits".into(),
            },
            _ => field.to_owned(),
        }
    }

    /// The document form of `budget`: its items written out.
    fn of(budget: &Budget) -> BudgetSpec {
        BudgetSpec {
            name: budget.name.clone(),
            preset: None,
            metric: None,
            tags: None,
            window: None,
            limits: None,
            items: Some(budget.items.iter().map(ItemSpec::of).collect()),
            alerts: budget.alerts.as_ref().map(AlertsSpec::of),
        }
    }
}

/// One entry of a budget's `items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemSpec {
    metric: String,
    stat: Text<Statistic>,
    good: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    tags: Pairs<String, String>,
}

impl ItemSpec {
    fn item(&self) -> BudgetItem {
        BudgetItem {
            poor: self.poor,
            window: self.window.map(|w| w.0),
            tags: self.tags.0.clone(),
            ..BudgetItem::new(self.metric.clone(), self.stat.0, self.good)
        }
    }

    fn of(item: &BudgetItem) -> ItemSpec {
        ItemSpec {
            metric: item.metric.clone(),
            stat: Text(item.stat),
            good: item.good,
            poor: item.poor,
            window: item.window.map(Text),
            tags: Pairs(item.tags.clone()),
        }
    }
}

/// A budget's `alerts`: every field overrides [`BudgetAlerts::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    needs_improvement: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poor: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Text<Duration>>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    for_duration: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clear_for: Option<Text<Duration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repeat: Option<RepeatSpec>,
}

impl AlertsSpec {
    fn alerts(&self, default_repeat: Option<&RepeatSpec>) -> BudgetAlerts {
        let defaults = BudgetAlerts::default();
        BudgetAlerts {
            needs_improvement: or_default(self.needs_improvement, defaults.needs_improvement),
            poor: or_default(self.poor, defaults.poor),
            window: or_default(self.window, defaults.window),
            for_duration: or_default(self.for_duration, defaults.for_duration),
            clear_for: or_default(self.clear_for, defaults.clear_for),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            repeat: self
                .repeat
                .as_ref()
                .or(default_repeat)
                .map(RepeatSpec::intervals),
        }
    }

    fn of(alerts: &BudgetAlerts) -> AlertsSpec {
        let defaults = BudgetAlerts::default();
        AlertsSpec {
            needs_improvement: changed(alerts.needs_improvement, defaults.needs_improvement),
            poor: changed(alerts.poor, defaults.poor),
            window: changed(alerts.window, defaults.window),
            for_duration: changed(alerts.for_duration, defaults.for_duration),
            clear_for: changed(alerts.clear_for, defaults.clear_for),
            min_samples: (alerts.min_samples != defaults.min_samples).then_some(alerts.min_samples),
            repeat: alerts.repeat.as_ref().map(RepeatSpec::of_intervals),
        }
    }
}

/// The severity a rule reference counts from when it names none: any.
const ANY_SEVERITY: Severity = Severity::Info;

/// The comparison of a trigger condition that names none.
const TRIGGER_OP: Op = Op::Gt;

/// The `emergency` section: every field overrides
/// [`EmergencyConfig::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmergencySpec {
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
    fn config(&self) -> Result<EmergencyConfig> {
        let defaults = EmergencyConfig::default();
        let triggers = self.triggers.iter().enumerate().map(|(i, spec)| {
            spec.trigger().map_err(|(field, reason)| {
                invalid_json(element_path("emergency.triggers", i, field), reason)
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
        config.validate().map_err(in_emergency)?;
        Ok(config)
    }

    /// The document form of `config`, settings at their defaults left out;
    /// `None` if all are.
    fn of(config: &EmergencyConfig) -> Option<EmergencySpec> {
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

/// The `regression` section: every field overrides [`Policy::default`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegressionSpec {
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
    fn policy(&self) -> Result<Policy> {
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
    fn of(policy: &Policy) -> Option<RegressionSpec> {
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
struct TriggerSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Text<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stat: Option<Text<Reading>>,
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
    fn trigger(&self) -> FieldResult<Trigger> {
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
        let metric = required(self.metric.as_deref(), "metric", "is required (or rule)")?;
        self.only_form(false)?;
        let stat = required(self.stat, "stat", "is required with metric")?;
        let threshold = required(self.threshold, "threshold", "is required with metric")?;
        let target = stat.0.target(metric, self.denominator.as_deref())?;
        let defaults = TriggerCondition::new(target, TRIGGER_OP, threshold);
        Ok(TriggerCondition {
            op: or_default(self.op, defaults.op),
            window: or_default(self.window, defaults.window),
            min_samples: self.min_samples.unwrap_or(defaults.min_samples),
            tags: self.tags.0.clone(),
            exclude_tags: self.exclude_tags.0.clone(),
            ..defaults
        })
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
    fn of(trigger: &Trigger) -> TriggerSpec {
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

    fn of_condition(condition: &TriggerCondition) -> TriggerSpec {
        let target = condition.target.clone();
        let defaults = TriggerCondition::new(target, TRIGGER_OP, condition.threshold);
        let (metric, stat, denominator) = Reading::of(&condition.target);
        TriggerSpec {
            metric: Some(metric),
            stat: Some(Text(stat)),
            denominator,
            op: changed(condition.op, defaults.op),
            threshold: Some(condition.threshold),
            window: changed(condition.window, defaults.window),
            min_samples: (condition.min_samples != defaults.min_samples)
                .then_some(condition.min_samples),
            tags: Pairs(condition.tags.clone()),
            exclude_tags: Pairs(condition.exclude_tags.clone()),
            ..TriggerSpec::default()
        }
    }
}

/// A budget preset.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Preset {
    /// `web_vitals`: [`Budget::web_vitals`].
    WebVitals,
}

impl Preset {
    fn budget(self) -> Budget {
        match self {
            Preset::WebVitals => Budget::web_vitals(),
        }
    }
}

/// `repeat`: intervals for some severities, the others at their defaults.
type RepeatSpec = Pairs<Text<Severity>, Text<Duration>>;

impl RepeatSpec {
    fn intervals(&self) -> RepeatIntervals {
        let mut intervals = RepeatIntervals::default();
        for (severity, interval) in &self.0 {
            intervals.set(severity.0, interval.0);
        }
        intervals
    }

    /// The intervals that are not the defaults, highest severity first.
    fn of_intervals(intervals: &RepeatIntervals) -> RepeatSpec {
        let defaults = RepeatIntervals::default();
        let entry = |&severity: &Severity| {
            let interval = changed(intervals.get(severity), defaults.get(severity))?;
            Some((Text(severity), interval))
        };
        Pairs(Severity::ALL.iter().rev().filter_map(entry).collect())
    }
}

/// A JSON object read as its `(key, value)` pairs, in the document's order
/// and with unique keys.
#[derive(Clone, Debug, PartialEq)]
struct Pairs<K, V>(Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<K, V> Pairs<K, V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: Serializer>(&self, writer: S) -> Result<S::Ok, S::Error> {
        writer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K, V> Deserialize<'de> for Pairs<K, V>
where
    K: Deserialize<'de> + fmt::Display,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        reader.deserialize_map(PairsVisitor(PhantomData))
    }
}

struct PairsVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for PairsVisitor<K, V>
where
    K: Deserialize<'de> + fmt::Display,
    V: Deserialize<'de>,
{
    type Value = Pairs<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        let mut seen = HashSet::new();
        while let Some((key, value)) = map.next_entry::<K, V>()? {
            let text = key.to_string();
            if seen.contains(&text) {
                return Err(de::Error::custom(format!("duplicate key {text:?}")));
            }
            seen.insert(text);
            pairs.push((key, value));
        }
        Ok(Pairs(pairs))
    }
}

/// A value the document writes as a string, parsed and printed by its
/// [`Keyword`] implementation.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Text<T>(T);

/// A type written as a string in rules documents.
trait Keyword: Sized {
    /// What a value of the wrong JSON type should have been.
    const EXPECTING: &'static str;
    /// The value written as `text`, or why it is not one.
    fn parse(text: &str) -> std::result::Result<Self, String>;
    /// The value as the document writes it.
    fn text(&self) -> String;
}

impl<T: Keyword> fmt::Display for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text())
    }
}

impl<T: Keyword> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, writer: S) -> Result<S::Ok, S::Error> {
        writer.serialize_str(&self.0.text())
    }
}

impl<'de, T: Keyword> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        reader.deserialize_str(TextVisitor(PhantomData))
    }
}

struct TextVisitor<T>(PhantomData<T>);

impl<T: Keyword> Visitor<'_> for TextVisitor<T> {
    type Value = Text<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<T>, E> {
        T::parse(text).map(Text).map_err(E::custom)
    }
}

/// [`Keyword`] for types whose `FromStr` and `Display` are the JSON form.
macro_rules! keyword_by_from_str {
    ($($type:ty => $expecting:literal),* $(,)?) => {$(
        impl Keyword for $type {
            const EXPECTING: &'static str = $expecting;
            fn parse(text: &str) -> std::result::Result<Self, String> {
                text.parse()
            }
            fn text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

keyword_by_from_str! {
    Severity => "a severity: info, warning, error or critical",
    Op => "an operator: >, >=, < or <=",
    Statistic => "a statistic such as \"p95\", \"p99.9\" or \"mean\"",
}

impl Keyword for NoDataPolicy {
    const EXPECTING: &'static str = "a no-data policy: keep_last, resolve or fire";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        text.parse()
    }
    fn text(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Keyword for Duration {
    const EXPECTING: &'static str = "a duration such as \"60s\", \"5m\" or \"1h 30m\"";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        humantime::parse_duration(text).map_err(|err| format!("invalid duration {text:?}: {err}"))
    }
    fn text(&self) -> String {
        humantime::format_duration(*self).to_string()
    }
}

impl Keyword for Reading {
    const EXPECTING: &'static str =
        "a statistic such as \"p95\", change(p95), or rate, ratio or value";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let change = text
            .strip_prefix("change(")
            .and_then(|t| t.strip_suffix(')'));
        match (text, change) {
            (_, Some(stat)) => stat.parse().map(Reading::Change),
            ("rate", _) => Ok(Reading::Rate),
            ("ratio", _) => Ok(Reading::Ratio),
            ("value", _) => Ok(Reading::Value),
            _ => text.parse().map(Reading::Stat).map_err(|reason| {
                format!(
                    "{reason}; or change(<stat>), rate, ratio (of counters) or value (of a gauge)"
                )
            }),
        }
    }
    fn text(&self) -> String {
        match self {
            Reading::Stat(stat) => stat.to_string(),
            Reading::Rate => "rate".into(),
            Reading::Ratio => "ratio".into(),
            Reading::Value => "value".into(),
            Reading::Change(stat) => format!("change({stat})"),
        }
    }
}

impl Keyword for Preset {
    const EXPECTING: &'static str = "a preset: web_vitals";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        match text {
            "web_vitals" => Ok(Preset::WebVitals),
            _ => Err(format!("unknown preset {text:?}: use web_vitals")),
        }
    }
    fn text(&self) -> String {
        match self {
            Preset::WebVitals => "web_vitals".into(),
        }
    }
}

/// What the monitor needs to load and write rules documents.
impl RulesConfig {
    /// The document of a monitor with these `rules`, `budgets` and
    /// `emergency` configuration. The rules budgets raise alerts with are
    /// left out: their budgets bring them back. The `emergency` section is
    /// left out if the configuration is the default.
    pub(crate) fn of_monitor(
        mut rules: Vec<Rule>,
        budgets: &[Budget],
        emergency: &EmergencyConfig,
        regression: &Policy,
    ) -> RulesConfig {
        let generated: HashSet<String> = budgets
            .iter()
            .flat_map(Budget::rules)
            .map(|rule| rule.name)
            .collect();
        rules.retain(|rule| !generated.contains(&rule.name));
        RulesConfig {
            emergency: EmergencySpec::of(emergency),
            regression: RegressionSpec::of(regression),
            ..RulesConfig::from_parts(&rules, budgets)
        }
    }
}

/// The contents of the rules file `path`. A file that cannot be read is a
/// [`PerfError::InvalidRulesJson`] at path `.`.
pub(crate) fn read_rules_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|err| invalid_json(".".into(), format!("cannot read {}: {err}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        for text in ["60s", "5m", "1h 30m", "250ms", "0s"] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(Duration::parse(&d.text()), Ok(d), "{text}");
        }
        assert_eq!(Duration::parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(Duration::from_secs(90).text(), "1m 30s");
        let err = Duration::parse("soon").unwrap_err();
        assert!(err.starts_with(r#"invalid duration "soon": "#), "{err}");
    }

    #[test]
    fn readings_parse_and_print_back() {
        let parse = |s: &str| Reading::parse(s);
        assert_eq!(
            parse("p999"),
            Ok(Reading::Stat(Statistic::Percentile(99.9)))
        );
        assert_eq!(parse("ratio"), Ok(Reading::Ratio));
        assert_eq!(Reading::Stat(Statistic::Percentile(99.9)).text(), "p99.9");
        let err = parse("median").unwrap_err();
        assert!(
            err.contains("unknown statistic") && err.contains("rate, ratio"),
            "{err}"
        );
    }

    #[test]
    fn indexed_fields_split() {
        assert_eq!(
            split_index("levels[12].clear", "levels"),
            Some((12, ".clear"))
        );
        assert_eq!(split_index("items[0]", "items"), Some((0, "")));
        assert_eq!(split_index("levels", "levels"), None);
        assert_eq!(split_index("alerts.poor", "items"), None);
    }

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
    fn budget_fields_map_to_the_document() {
        let limits: BudgetSpec = serde_json::from_str(
            r#"{"name": "b", "metric": "m", "window": "1m", "limits": {"p50": 1, "p999": 2}}"#,
        )
        .unwrap();
        assert_eq!(limits.doc_field("items[1].good"), "limits.p99.9");
        assert_eq!(limits.doc_field("items[0].window"), "window");
        assert_eq!(limits.doc_field("items"), "limits");
        assert_eq!(limits.doc_field("alerts.poor"), "alerts.poor");
        let preset: BudgetSpec =
            serde_json::from_str(r#"{"name": "b", "preset": "web_vitals"}"#).unwrap();
        assert_eq!(preset.doc_field("items[3].poor"), "preset");
        assert_eq!(preset.doc_field("name"), "name");
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

    #[test]
    fn only_an_object_is_a_rules_document() {
        for json in ["[1]", "[1, 2]", " [] ", "1", "\"rules\"", "", "null"] {
            match RulesConfig::from_json(json) {
                Err(PerfError::InvalidRulesJson { path, reason }) => {
                    assert_eq!(path, ".", "{json}");
                    assert!(reason.contains("JSON object"), "{json}: {reason}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
        assert!(RulesConfig::from_json(" {\"version\": 1}").is_ok());
    }
}
