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

mod budget;
mod emergency;
mod regression;
mod rule;
mod text;
mod watch;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

use self::budget::BudgetSpec;
use self::emergency::EmergencySpec;
use self::regression::RegressionSpec;
use self::rule::{RepeatSpec, RuleSpec};
use self::text::Text;
use crate::budget::Budget;
use crate::emergency::config::EmergencyConfig;
use crate::error::{PerfError, Result};
use crate::regression::Policy;
use crate::rules::Rule;

pub(crate) use self::emergency::in_emergency;

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

    /// The fields whose values are durations (`"60s"`, `"5m"`), wherever
    /// they appear: in rules, budget items and alerts, the emergency section
    /// and its triggers. The values of every `repeat` object are durations
    /// too. Bindings that take durations as numbers convert these fields.
    ///
    /// ```
    /// use perf_core::RulesConfig;
    /// assert!(RulesConfig::DURATION_FIELDS.contains(&"for"));
    /// assert!(!RulesConfig::DURATION_FIELDS.contains(&"threshold"));
    /// ```
    pub const DURATION_FIELDS: &'static [&'static str] = &[
        "window",
        "for",
        "clear_for",
        "min_dwell",
        "flap_window",
        "max_dwell",
        "evaluate_every",
    ];

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
        read_object(json, "a rules document").map_err(|(path, reason)| invalid_json(path, reason))
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
        let config = self.emergency.as_ref().map(EmergencySpec::config);
        config.transpose().map_err(in_emergency)
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
            checked(
                built,
                Rule::validate,
                |f| spec.doc_field(f),
                in_list("rules", i),
            )
        });
        let budgets = self.budgets.iter().enumerate().map(|(i, spec)| {
            let built = spec.to_budget(repeat);
            checked(
                built,
                Budget::validate,
                |f| spec.doc_field(f),
                in_list("budgets", i),
            )
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
            .position(|rule| rule.watch.reads_window() == Some(window))
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
pub(super) type FieldResult<T> = std::result::Result<T, (&'static str, String)>;

/// Checks an element built from the document: a conversion error (naming
/// the document's field) or a validation error (naming the built element's
/// field, which `doc_field` spells as the document does) becomes
/// `error(field, reason)`, the field as the document spells it.
fn checked<T>(
    built: FieldResult<T>,
    validate: impl FnOnce(&T) -> Result<()>,
    doc_field: impl FnOnce(&str) -> String,
    error: impl Fn(String, String) -> PerfError,
) -> Result<T> {
    let element = built.map_err(|(field, reason)| error(field.to_owned(), reason))?;
    validate(&element).map_err(|err| match err {
        PerfError::InvalidRule { field, reason, .. } => error(doc_field(&field), reason),
        other => other,
    })?;
    Ok(element)
}

/// The error of `field` of element `i` of the document's `list`.
fn in_list(list: &'static str, i: usize) -> impl Fn(String, String) -> PerfError {
    move |field, reason| invalid_json(element_path(list, i, &field), reason)
}

/// A [`PerfError::InvalidRule`]: `field` of the rule (or budget) `rule`,
/// read on its own, is wrong.
fn invalid_rule(rule: &str) -> impl Fn(String, String) -> PerfError + '_ {
    move |field, reason| PerfError::InvalidRule {
        rule: rule.to_owned(),
        field,
        reason,
    }
}

/// The `name` of the rule or budget `json`, as far as it can be read
/// (for the error of an item that does not parse); `""` if it cannot.
fn item_name(json: &str) -> String {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    serde_json::from_str::<Named>(json).map_or_else(|_| String::new(), |item| item.name)
}

/// Reads `json` as one object of the schema (`what`: "a rules document",
/// "a rule", …). Errors: the path of the offending field in it (`.` for
/// the whole) and what is wrong there.
fn read_object<T: DeserializeOwned>(
    json: &str,
    what: &str,
) -> std::result::Result<T, (String, String)> {
    // serde reads a struct from an array too (fields in order): only an
    // object is one.
    let start = json.trim_start();
    if !start.starts_with('{') {
        let found = start
            .chars()
            .next()
            .map_or("nothing".into(), |c| format!("{c:?}"));
        let reason = format!("{what} is a JSON object ({{...}}), found {found}");
        return Err((".".into(), reason));
    }
    let mut reader = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut reader)
        .map_err(|err| (err.path().to_string(), err.into_inner().to_string()))?;
    reader
        .end()
        .map_err(|err| (".".to_owned(), err.to_string()))?;
    Ok(value)
}

/// `Err` unless the document's `version` is [`RulesConfig::VERSION`].
fn supported_version<'de, D: Deserializer<'de>>(reader: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(reader)?;
    if version == RulesConfig::VERSION {
        return Ok(version);
    }
    Err(serde::de::Error::custom(format!(
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
    fn indexed_fields_split() {
        assert_eq!(
            split_index("levels[12].clear", "levels"),
            Some((12, ".clear"))
        );
        assert_eq!(split_index("items[0]", "items"), Some((0, "")));
        assert_eq!(split_index("levels", "levels"), None);
        assert_eq!(split_index("alerts.poor", "items"), None);
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

    /// Every place of the schema a duration can be written, with the
    /// value set to a number: each must fail as "not a duration" at exactly
    /// that field, and the field must be one of `DURATION_FIELDS`.
    #[test]
    fn duration_fields_are_the_schemas_durations() {
        let places = [
            (
                r#"{"rules": [{"name": "r", "metric": "m", "stat": "p95", "threshold": 1, "F": 5}]}"#,
                "rules[0].",
            ),
            (
                r#"{"budgets": [{"name": "b", "items": [{"metric": "m", "stat": "p95", "good": 1, "F": 5}]}]}"#,
                "budgets[0].items[0].",
            ),
            (
                r#"{"budgets": [{"name": "b", "preset": "web_vitals", "alerts": {"F": 5}}]}"#,
                "budgets[0].alerts.",
            ),
            (r#"{"emergency": {"F": 5}}"#, "emergency."),
            (
                r#"{"emergency": {"triggers": [{"metric": "m", "stat": "p95", "threshold": 1, "F": 5}]}}"#,
                "emergency.triggers[0].",
            ),
        ];
        let mut found = HashSet::new();
        for field in RulesConfig::DURATION_FIELDS {
            for (template, prefix) in places {
                let json = format!(r#"{{"version": 1, {}"#, &template.replace('F', field)[1..]);
                match RulesConfig::from_json(&json) {
                    Err(PerfError::InvalidRulesJson { path, reason })
                        if reason.contains("duration") =>
                    {
                        assert_eq!(path, format!("{prefix}{field}"));
                        found.insert(*field);
                    }
                    Err(PerfError::InvalidRulesJson { reason, .. }) => {
                        assert!(reason.contains("unknown field"), "{json}: {reason}")
                    }
                    other => panic!("{json}: {other:?}"),
                }
            }
        }
        assert_eq!(found.len(), RulesConfig::DURATION_FIELDS.len());
    }
}
