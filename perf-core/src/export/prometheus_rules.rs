//! Prometheus alerting rules from a rules document: the same rules JSON
//! that a monitor loads, evaluated fleet-wide by Prometheus over the series
//! perf-core exports.
//!
//! [`RulesConfig::to_prometheus_rules`] maps every rule, every budget item
//! with `alerts`, and every emergency trigger condition to PromQL over the
//! exported series (named by the exposition's own sanitizer,
//! `exposition::family_name`), one alerting rule per severity level, and
//! writes the rule-file YAML Prometheus and `promtool check rules` read.
//! What has no faithful PromQL is left out and listed, never approximated
//! silently; what Prometheus does differently is listed as a note.
//!
//! | target | PromQL (`M` = matchers, `B` = the `by` labels, `W` = window) |
//! |---|---|
//! | `pNN` | `histogram_quantile(NN/100, sum by (le, B) (rate(x_bucket{M}[W])))` |
//! | `mean` | `sum by (B) (rate(x_sum{M}[W])) / sum by (B) (rate(x_count{M}[W]))` |
//! | `count`, `sum` | `sum by (B) (increase(x_count{M}[W]))`, `… x_sum …` |
//! | `rate` | `sum by (B) (rate(x_total{M}[W]))` |
//! | `ratio` | `sum by (B) (rate(n_total{M}[W])) / (sum by (B) (rate(d_total{M}[W])) > 0)` |
//! | `value` | `x{M}` (per series, not aggregated) |
//! | `min`, `max`, `stddev`, `p0`, `p100`, `change(…)` | skipped |
//!
//! With [`PrometheusRulesOptions::native_histograms`], for a Prometheus
//! that scrapes (or receives) the native histograms — it then stores no
//! `_bucket`, `_sum` or `_count` series — histogram targets read the native
//! histogram `x` instead:
//!
//! | target | PromQL over native histograms |
//! |---|---|
//! | `pNN` | `histogram_quantile(NN/100, sum by (B) (rate(x{M}[W])))` |
//! | `mean` | `histogram_sum(sum by (B) (rate(x{M}[W]))) / histogram_count(…)` |
//! | `count`, `sum` | `histogram_count(sum by (B) (increase(x{M}[W])))`, `histogram_sum(…)` |
//!
//! The YAML is written here rather than by a YAML library: the file is a
//! fixed shape of maps and lists whose every scalar is a string, and each
//! is written as a double-quoted scalar with JSON's escapes (`serde_json`),
//! which YAML 1.2 reads as the same string. That needs no dependency, and
//! the `serde_yaml` line is unmaintained (its forks are young or have had
//! soundness advisories).

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::time::Duration;

use super::exposition::{
    escape_label_value, family_name, format_float, sanitize_label_name, sanitize_name,
    ExpositionFormat,
};
use crate::budget::Budget;
use crate::config::RulesConfig;
use crate::emergency::config::{EmergencyConfig, TriggerSource};
use crate::error::{MetricKind, PerfError, Result};
use crate::rules::{NoDataPolicy, Op, Rule, Severity, Statistic, Target, Watch};
use crate::series::validate_tags;

/// The default name of the rule group ([`PrometheusRulesOptions::group`]).
pub const DEFAULT_PROMETHEUS_RULES_GROUP: &str = "perf-core";

/// How [`RulesConfig::to_prometheus_rules`] names the series and groups
/// the alerts. Mirror the exposition's settings (`unit`) so the names
/// match what Prometheus scrapes.
///
/// ```
/// use perf_core::PrometheusRulesOptions;
/// let options = PrometheusRulesOptions::new()
///     .group("checkout")
///     .by("route")?
///     .matcher("job", "checkout")?
///     .unit("http.server.duration", "milliseconds")?;
/// assert_eq!(options.group_name(), "checkout");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusRulesOptions {
    group: String,
    by: Vec<String>,
    matchers: Vec<(String, String)>,
    units: BTreeMap<String, String>,
    native_histograms: bool,
}

impl Default for PrometheusRulesOptions {
    fn default() -> Self {
        PrometheusRulesOptions {
            group: DEFAULT_PROMETHEUS_RULES_GROUP.to_owned(),
            by: Vec::new(),
            matchers: Vec::new(),
            units: BTreeMap::new(),
            native_histograms: false,
        }
    }
}

impl PrometheusRulesOptions {
    /// The defaults: group `perf-core`, aggregation by the rules' own tag
    /// keys only, no extra matchers, no units, classic histograms.
    pub fn new() -> Self {
        Self::default()
    }

    /// The name of the rule group (the emergency triggers' group is
    /// `{name}-emergency`).
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = name.into();
        self
    }

    /// The group's name.
    pub fn group_name(&self) -> &str {
        &self.group
    }

    /// Also keep `label` when aggregating across instances (`sum by (le,
    /// route, …)`), so an alert fires per value of it, as perf-core's
    /// per-series rules do. Repeatable. Errors: [`PerfError::InvalidTag`]
    /// for a name that is not a tag key.
    pub fn by(mut self, label: &str) -> Result<Self> {
        validate_tags(&[(label, "x")])?;
        if !self.by.iter().any(|l| l == label) {
            self.by.push(label.to_owned());
        }
        Ok(self)
    }

    /// Adds `key="value"` to every selector (e.g. `job="checkout"`), to
    /// scope the alerts to one service. Errors: [`PerfError::InvalidTag`].
    pub fn matcher(mut self, key: &str, value: &str) -> Result<Self> {
        validate_tags(&[(key, value)])?;
        self.matchers.push((key.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// The unit the exposition appends to `metric`'s name
    /// ([`ExpositionConfig::unit`](crate::ExpositionConfig::unit)), so the
    /// rules read the same series. Errors: [`PerfError::InvalidConfig`].
    pub fn unit(mut self, metric: &str, unit: &str) -> Result<Self> {
        if unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PerfError::InvalidConfig(format!(
                "unit {unit:?} must be [a-zA-Z0-9_]+"
            )));
        }
        self.units.insert(metric.to_owned(), unit.to_owned());
        Ok(self)
    }

    /// Reads histograms as native histograms (`histogram_quantile` over
    /// `rate(x[W])`, `histogram_count`, `histogram_sum`), for a Prometheus
    /// started with `--enable-feature=native-histograms`: it keeps the
    /// native histogram of a series that has one and stores none of its
    /// classic `_bucket`, `_sum` and `_count` series. Percentiles are then
    /// within 0.7 % instead of a classic bucket's width (see
    /// `docs/fleet.md`).
    ///
    /// ```
    /// use perf_core::{PrometheusRulesOptions, RulesConfig};
    /// let config = RulesConfig::from_json(r#"{"version": 1, "rules": [
    ///     {"name": "slow", "metric": "api.latency", "stat": "p99", "window": "5m", "threshold": 250}
    /// ]}"#)?;
    /// let options = PrometheusRulesOptions::new().native_histograms(true);
    /// let rules = config.to_prometheus_rules(&options)?;
    /// assert_eq!(
    ///     rules.alerts().next().unwrap().expr,
    ///     "histogram_quantile(0.99, sum(rate(api_latency[5m]))) > 250"
    /// );
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn native_histograms(mut self, native: bool) -> Self {
        self.native_histograms = native;
        self
    }
}

/// One Prometheus alerting rule: one severity level of a perf-core rule.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusAlert {
    /// The `alert` name: the perf-core rule's name sanitized like a metric
    /// name (`api-latency` → `api_latency`); the levels of one rule share it.
    pub alert: String,
    /// The PromQL condition.
    pub expr: String,
    /// `for`: the rule's `for` (trigger's `for`).
    pub for_duration: Duration,
    /// `keep_firing_for` (Prometheus 2.42+): the rule's `clear_for`.
    pub keep_firing_for: Duration,
    /// Labels: `severity`, and `perf_rule` (the rule's name; like every
    /// label, a Go template in Prometheus, so a `{{` in it is escaped) or
    /// `perf_emergency_trigger` (the trigger's).
    pub labels: BTreeMap<String, String>,
    /// Annotations: `summary` and `description`.
    pub annotations: BTreeMap<String, String>,
}

/// A rule group: a name and its alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusRuleGroup {
    /// The group's name.
    pub name: String,
    /// Its alerting rules, in the document's order.
    pub alerts: Vec<PrometheusAlert>,
}

/// Something said about one rule (budget item rule, trigger) while
/// translating: why it was left out, or how Prometheus treats it
/// differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRemark {
    /// The rule's (budget item rule's, trigger's) name.
    pub rule: String,
    /// What happened and why.
    pub text: String,
}

impl fmt::Display for RuleRemark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.text)
    }
}

/// The translation of a rules document: the rule groups, their YAML, and
/// what could not be (or was not exactly) translated.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusRules {
    /// The groups: the rules and budgets' group, then (if the document has
    /// translatable emergency trigger conditions) `{group}-emergency`.
    pub groups: Vec<PrometheusRuleGroup>,
    /// Rules and triggers left out, each with the reason.
    pub skipped: Vec<RuleRemark>,
    /// Translated rules whose settings Prometheus does not follow
    /// (hysteresis, `no_data: fire`, `repeat`).
    pub notes: Vec<RuleRemark>,
}

impl PrometheusRules {
    /// The rule file: `groups: - name: … rules: - alert: …`, with the
    /// skipped rules listed in comments at the top.
    pub fn to_yaml(&self) -> String {
        let mut out = String::from(
            "# Prometheus alerting rules generated from a perf-core rules document.\n",
        );
        for skipped in &self.skipped {
            let _ = writeln!(out, "# skipped {}", one_line(&skipped.to_string()));
        }
        for note in &self.notes {
            let _ = writeln!(out, "# note {}", one_line(&note.to_string()));
        }
        out.push_str("groups:\n");
        for group in &self.groups {
            let _ = writeln!(out, "  - name: {}", quoted(&group.name));
            if group.alerts.is_empty() {
                out.push_str("    rules: []\n");
                continue;
            }
            out.push_str("    rules:\n");
            for alert in &group.alerts {
                write_alert(&mut out, alert);
            }
        }
        out
    }

    /// Every alert of every group.
    pub fn alerts(&self) -> impl Iterator<Item = &PrometheusAlert> {
        self.groups.iter().flat_map(|g| g.alerts.iter())
    }
}

impl RulesConfig {
    /// The document's rules, budgets with `alerts` and emergency trigger
    /// conditions as Prometheus alerting rules over the series perf-core
    /// exports, for fleet-wide alerts (see `docs/fleet.md`). Rules whose
    /// statistic or target has no faithful PromQL are left out and listed in
    /// [`PrometheusRules::skipped`]. Errors: those of
    /// [`RulesConfig::into_parts`] and [`RulesConfig::emergency`].
    ///
    /// ```
    /// use perf_core::{PrometheusRulesOptions, RulesConfig};
    /// let config = RulesConfig::from_json(r#"{"version": 1, "rules": [
    ///     {"name": "slow", "metric": "http.server.duration", "stat": "p95", "window": "5m",
    ///      "threshold": 500, "for": "1m", "tags": {"route": "/pay"}},
    ///     {"name": "spiky", "metric": "http.server.duration", "stat": "max", "threshold": 9000}
    /// ]}"#)?;
    /// let rules = config.to_prometheus_rules(&PrometheusRulesOptions::new())?;
    /// let alert = rules.alerts().next().unwrap();
    /// assert_eq!(
    ///     alert.expr,
    ///     r#"histogram_quantile(0.95, sum by (le, route) (rate(http_server_duration_bucket{route="/pay"}[5m]))) > 500"#
    /// );
    /// assert_eq!(rules.skipped[0].rule, "spiky");
    /// assert!(rules.to_yaml().contains("alert: \"slow\"\n"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn to_prometheus_rules(&self, options: &PrometheusRulesOptions) -> Result<PrometheusRules> {
        let (rules, budgets) = self.parts()?;
        let emergency = self.emergency()?;
        Ok(translate(&rules, &budgets, emergency.as_ref(), options))
    }
}

/// Translates rules, the rules of budgets with alerts, and emergency
/// trigger conditions.
pub(crate) fn translate(
    rules: &[Rule],
    budgets: &[Budget],
    emergency: Option<&EmergencyConfig>,
    options: &PrometheusRulesOptions,
) -> PrometheusRules {
    let mut out = PrometheusRules {
        groups: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
    };
    let mut main = PrometheusRuleGroup {
        name: options.group.clone(),
        alerts: Vec::new(),
    };
    let all: Vec<Rule> = rules
        .iter()
        .cloned()
        .chain(budgets.iter().flat_map(Budget::rules))
        .collect();
    for rule in &all {
        match translate_rule(rule, options) {
            Ok(alerts) => {
                main.alerts.extend(alerts);
                out.notes.extend(rule_notes(rule));
            }
            Err(reason) => out.skipped.push(remark(&rule.name, reason)),
        }
    }
    out.groups.push(main);
    if let Some(emergency) = emergency {
        let group = translate_emergency(emergency, options, &mut out.skipped);
        if !group.alerts.is_empty() {
            out.groups.push(group);
        }
    }
    out
}

fn remark(rule: &str, text: impl Into<String>) -> RuleRemark {
    RuleRemark {
        rule: rule.to_owned(),
        text: text.into(),
    }
}

/// One alert per level of `rule`, or why it has no faithful PromQL.
fn translate_rule(
    rule: &Rule,
    options: &PrometheusRulesOptions,
) -> std::result::Result<Vec<PrometheusAlert>, String> {
    let value = Query::new(&rule.watch, options).value()?;
    let target = rule.watch.target.to_string();
    let window = window_text(&rule.watch);
    Ok(rule
        .levels
        .iter()
        .map(|level| {
            let expr = value.condition(rule.watch.op, level.threshold);
            let threshold = format_float(level.threshold, ExpositionFormat::Prometheus);
            let mut summary = format!(
                "{target}{window} {} {threshold} ({})",
                rule.watch.op, level.severity
            );
            if !rule.watch.tags.is_empty() || !rule.watch.exclude_tags.is_empty() {
                summary.push_str(&format!(" on {}", matcher_text(&rule.watch)));
            }
            let description = match &rule.description {
                Some(text) => format!("{}. Value: {{{{ $value }}}}", template_literal(text)),
                None => "Value: {{ $value }}".to_owned(),
            };
            PrometheusAlert {
                alert: sanitize_name(&rule.name),
                expr,
                for_duration: rule.for_duration,
                keep_firing_for: rule.clear_for,
                labels: BTreeMap::from([
                    ("severity".to_owned(), level.severity.as_str().to_owned()),
                    ("perf_rule".to_owned(), template_literal(&rule.name)),
                ]),
                annotations: BTreeMap::from([
                    ("summary".to_owned(), template_literal(&summary)),
                    ("description".to_owned(), description),
                ]),
            }
        })
        .collect())
}

/// What Prometheus does differently for `rule`, if anything worth saying.
fn rule_notes(rule: &Rule) -> Vec<RuleRemark> {
    let mut notes = Vec::new();
    let clears: Vec<String> = rule
        .levels
        .iter()
        .filter(|l| l.clear.is_some_and(|c| c != l.threshold))
        .map(|l| l.severity.as_str().to_owned())
        .collect();
    if !clears.is_empty() {
        notes.push(remark(
            &rule.name,
            format!(
                "clear thresholds ({}) are not translated: the alert resolves when its threshold no longer holds (use `for` and `keep_firing_for` against flapping)",
                clears.join(", ")
            ),
        ));
    }
    if rule.no_data == NoDataPolicy::Fire {
        notes.push(remark(
            &rule.name,
            "no_data \"fire\" is not translated: without data the expression is empty and Prometheus does not fire (add an absent() alert)",
        ));
    }
    if rule.repeat.is_some() {
        notes.push(remark(
            &rule.name,
            "repeat intervals are Alertmanager's repeat_interval, not part of the rule",
        ));
    }
    notes
}

/// The emergency triggers' group: each condition trigger as an `info`
/// alert; rule references and untranslatable conditions are skipped.
fn translate_emergency(
    emergency: &EmergencyConfig,
    options: &PrometheusRulesOptions,
    skipped: &mut Vec<RuleRemark>,
) -> PrometheusRuleGroup {
    let mut group = PrometheusRuleGroup {
        name: format!("{}-emergency", options.group),
        alerts: Vec::new(),
    };
    for trigger in &emergency.triggers {
        let name = format!("emergency trigger {}", trigger.name);
        let condition = match &trigger.source {
            TriggerSource::Condition(condition) => condition,
            TriggerSource::Rule { rule, .. } => {
                skipped.push(remark(
                    &name,
                    format!("refers to rule {rule:?}, whose own alerts are generated; route them in Alertmanager"),
                ));
                continue;
            }
        };
        let query = Query::new(&condition.watch, options);
        match query.value() {
            Ok(value) => group.alerts.push(PrometheusAlert {
                alert: "perf_core_emergency_trigger".to_owned(),
                expr: value.condition(condition.watch.op, condition.threshold),
                for_duration: trigger.for_duration,
                keep_firing_for: Duration::ZERO,
                labels: BTreeMap::from([
                    ("severity".to_owned(), Severity::Info.as_str().to_owned()),
                    (
                        "perf_emergency_trigger".to_owned(),
                        template_literal(&trigger.name),
                    ),
                ]),
                annotations: BTreeMap::from([
                    (
                        "summary".to_owned(),
                        template_literal(&format!(
                            "emergency trigger {} holds fleet-wide",
                            trigger.name
                        )),
                    ),
                    (
                        "description".to_owned(),
                        "perf-core's emergency mode is a per-process switch (dwell, flap protection); \
                         this alert reports its trigger condition across the fleet. Value: {{ $value }}"
                            .to_owned(),
                    ),
                ]),
            }),
            Err(reason) => skipped.push(remark(&name, reason)),
        }
    }
    group
}

/// The PromQL of one watch: its selectors and aggregation.
struct Query<'a> {
    watch: &'a Watch,
    options: &'a PrometheusRulesOptions,
}

/// A value expression and the guard that stands for `min_samples`.
struct Value {
    expr: String,
    /// A comparison wraps the value in parentheses (a division).
    compound: bool,
    guard: Option<String>,
}

impl Value {
    /// `value op threshold`, and the `min_samples` guard.
    fn condition(&self, op: Op, threshold: f64) -> String {
        let value = if self.compound {
            format!("({})", self.expr)
        } else {
            self.expr.clone()
        };
        let threshold = format_float(threshold, ExpositionFormat::Prometheus);
        let condition = format!("{value} {op} {threshold}");
        match &self.guard {
            Some(guard) => format!("({condition}) and ({guard})"),
            None => condition,
        }
    }
}

impl<'a> Query<'a> {
    fn new(watch: &'a Watch, options: &'a PrometheusRulesOptions) -> Self {
        Query { watch, options }
    }

    /// The exported name of `metric` as a series of `kind`, with `suffix`.
    fn name(&self, metric: &str, kind: MetricKind, suffix: &str) -> String {
        let unit = self.options.units.get(metric).map(String::as_str);
        format!("{}{suffix}", family_name(metric, kind, unit))
    }

    /// `name{matchers}`.
    fn selector(&self, name: &str) -> String {
        let mut matchers: Vec<String> = Vec::new();
        let pairs = self.options.matchers.iter().chain(&self.watch.tags);
        for (k, v) in pairs {
            matchers.push(format!(
                "{}=\"{}\"",
                sanitize_label_name(k),
                escape_label_value(v)
            ));
        }
        for (k, v) in &self.watch.exclude_tags {
            matchers.push(format!(
                "{}!=\"{}\"",
                sanitize_label_name(k),
                escape_label_value(v)
            ));
        }
        if matchers.is_empty() {
            name.to_owned()
        } else {
            format!("{name}{{{}}}", matchers.join(", "))
        }
    }

    /// `name{matchers}[window]`.
    fn range(&self, name: &str) -> String {
        format!(
            "{}[{}]",
            self.selector(name),
            duration_text(self.watch.window)
        )
    }

    /// The labels kept across instances: the `by` options and the rule's
    /// tag keys, sorted.
    fn by_labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self
            .options
            .by
            .iter()
            .chain(self.watch.tags.iter().map(|(k, _)| k))
            .map(|k| sanitize_label_name(k))
            .collect();
        labels.sort();
        labels.dedup();
        labels
    }

    /// `sum by (extra, labels) (inner)`, or `sum (inner)` without labels.
    fn sum(&self, extra: &[&str], inner: &str) -> String {
        let mut labels: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        labels.extend(self.by_labels());
        if labels.is_empty() {
            format!("sum({inner})")
        } else {
            format!("sum by ({}) ({inner})", labels.join(", "))
        }
    }

    /// `sum by (B) (fun(name{M}[W]))`.
    fn summed(&self, fun: &str, name: &str) -> String {
        self.sum(&[], &format!("{fun}({})", self.range(name)))
    }

    /// The guard `sum by (B) (increase(name{M}[W])) >= min_samples`.
    fn at_least(&self, name: &str) -> Option<String> {
        (self.watch.min_samples > 0).then(|| {
            format!(
                "{} >= {}",
                self.summed("increase", name),
                self.watch.min_samples
            )
        })
    }

    /// `fun` (`rate`, `increase`) of a histogram's observation count,
    /// summed by (B): over `x_count`, or the native histogram `x`.
    fn histogram_count(&self, metric: &str, fun: &str) -> String {
        self.histogram_part(metric, fun, "_count", "histogram_count")
    }

    /// As [`Self::histogram_count`], of the sum of observations.
    fn histogram_sum(&self, metric: &str, fun: &str) -> String {
        self.histogram_part(metric, fun, "_sum", "histogram_sum")
    }

    fn histogram_part(&self, metric: &str, fun: &str, suffix: &str, native: &str) -> String {
        if self.options.native_histograms {
            let name = self.name(metric, MetricKind::Histogram, "");
            format!("{native}({})", self.summed(fun, &name))
        } else {
            self.summed(fun, &self.name(metric, MetricKind::Histogram, suffix))
        }
    }

    /// `histogram_quantile` over the summed rate of the buckets (`le` kept)
    /// or of the native histogram.
    fn histogram_quantile(&self, metric: &str, q: f64) -> String {
        let inner = if self.options.native_histograms {
            let name = self.name(metric, MetricKind::Histogram, "");
            self.summed("rate", &name)
        } else {
            let name = self.name(metric, MetricKind::Histogram, "_bucket");
            self.sum(&["le"], &format!("rate({})", self.range(&name)))
        };
        format!("histogram_quantile({}, {inner})", quantile_text(q))
    }

    /// A histogram statistic's value, or why there is no faithful PromQL.
    fn histogram_value(&self, metric: &str, stat: Statistic) -> std::result::Result<Value, String> {
        let guard = (self.watch.min_samples > 0).then(|| {
            let count = self.histogram_count(metric, "increase");
            format!("{count} >= {}", self.watch.min_samples)
        });
        let (expr, compound) = match stat {
            Statistic::Percentile(q) if q > 0.0 && q < 100.0 => {
                (self.histogram_quantile(metric, q), false)
            }
            Statistic::Percentile(q) => {
                return Err(format!(
                    "p{q} is the {} value: buckets only bound it to a bucket, so there is no faithful PromQL",
                    if q <= 0.0 { "smallest" } else { "largest" }
                ))
            }
            Statistic::Mean => (
                format!(
                    "{} / {}",
                    self.histogram_sum(metric, "rate"),
                    self.histogram_count(metric, "rate")
                ),
                true,
            ),
            Statistic::Count => (self.histogram_count(metric, "increase"), false),
            Statistic::Sum => (self.histogram_sum(metric, "increase"), false),
            Statistic::Min | Statistic::Max => {
                return Err(format!(
                    "{stat} is exact in-process, but the exported buckets only bound it to a bucket: no faithful PromQL"
                ))
            }
            Statistic::Stddev => {
                return Err(
                    "stddev needs the sum of squares, which the exposition does not export: no faithful PromQL".to_owned(),
                )
            }
        };
        Ok(Value {
            expr,
            compound,
            guard,
        })
    }

    /// The target's value, or why there is no faithful PromQL for it.
    fn value(&self) -> std::result::Result<Value, String> {
        let simple = |expr: String, guard: Option<String>| Value {
            expr,
            compound: false,
            guard,
        };
        match &self.watch.target {
            Target::Histogram { metric, stat } => self.histogram_value(metric, *stat),
            Target::CounterRate { metric } => {
                let total = self.name(metric, MetricKind::Counter, "_total");
                Ok(simple(self.summed("rate", &total), self.at_least(&total)))
            }
            Target::CounterRatio {
                numerator,
                denominator,
            } => {
                let num = self.name(numerator, MetricKind::Counter, "_total");
                let den = self.name(denominator, MetricKind::Counter, "_total");
                Ok(Value {
                    expr: format!(
                        "{} / ({} > 0)",
                        self.summed("rate", &num),
                        self.summed("rate", &den)
                    ),
                    compound: true,
                    guard: self.at_least(&den),
                })
            }
            Target::Gauge { metric } => Ok(simple(
                self.selector(&self.name(metric, MetricKind::Gauge, "")),
                None,
            )),
            Target::ChangePoint { .. } => Err(format!(
                "{} runs change-point detection over per-interval statistics, which PromQL cannot express",
                self.watch.target
            )),
        }
    }
}

/// ` over 5m` for windowed targets, `` for gauges.
fn window_text(watch: &Watch) -> String {
    watch
        .reads_window()
        .map(|w| format!(" over {}", duration_text(w)))
        .unwrap_or_default()
}

/// `route="/a", status!="404"`, as the summary shows the matchers.
fn matcher_text(watch: &Watch) -> String {
    let tags = watch.tags.iter().map(|(k, v)| format!("{k}={v:?}"));
    let excluded = watch
        .exclude_tags
        .iter()
        .map(|(k, v)| format!("{k}!={v:?}"));
    tags.chain(excluded).collect::<Vec<_>>().join(", ")
}

/// `q / 100` as a decimal, shifted in text so `99.9` gives `0.999` (not
/// `0.9990000000000001`).
fn quantile_text(q: f64) -> String {
    let text = format!("{q}"); // Display never uses an exponent
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int = format!("{int:0>3}");
    let (whole, cents) = int.split_at(int.len() - 2);
    let whole = whole.trim_start_matches('0');
    let frac = format!("{cents}{frac}");
    let frac = frac.trim_end_matches('0');
    match (whole.is_empty(), frac.is_empty()) {
        (true, true) => "0".to_owned(),
        (true, false) => format!("0.{frac}"),
        (false, true) => whole.to_owned(),
        (false, false) => format!("{whole}.{frac}"),
    }
}

/// A duration as Prometheus writes one: in the largest of `h`, `m`, `s`,
/// `ms` that divides it (rounded up to a whole millisecond).
fn duration_text(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms > 0 && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Text placed in a label or an annotation (both are Go templates in
/// Prometheus), with template actions disarmed: a literal `{{` becomes
/// `{{ "{{" }}`.
fn template_literal(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

/// Text on one line (for a YAML comment).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// A YAML double-quoted scalar: JSON's string escapes, which YAML 1.2
/// double-quoted scalars read the same way.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

fn write_alert(out: &mut String, alert: &PrometheusAlert) {
    let _ = writeln!(out, "      - alert: {}", quoted(&alert.alert));
    let _ = writeln!(out, "        expr: {}", quoted(&alert.expr));
    if !alert.for_duration.is_zero() {
        let _ = writeln!(
            out,
            "        for: {}",
            quoted(&duration_text(alert.for_duration))
        );
    }
    if !alert.keep_firing_for.is_zero() {
        let _ = writeln!(
            out,
            "        keep_firing_for: {}",
            quoted(&duration_text(alert.keep_firing_for))
        );
    }
    for (key, map) in [
        ("labels", &alert.labels),
        ("annotations", &alert.annotations),
    ] {
        let _ = writeln!(out, "        {key}:");
        for (k, v) in map {
            let _ = writeln!(out, "          {}: {}", quoted(k), quoted(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(rule: Rule) -> String {
        expr_with(rule, &PrometheusRulesOptions::new())
    }

    fn expr_with(rule: Rule, options: &PrometheusRulesOptions) -> String {
        let alerts = translate_rule(&rule, options).expect("translatable");
        alerts[0].expr.clone()
    }

    fn skipped(rule: Rule) -> String {
        translate_rule(&rule, &PrometheusRulesOptions::new()).expect_err("skipped")
    }

    fn window(rule: Rule, secs: u64) -> Rule {
        rule.window(Duration::from_secs(secs))
    }

    #[test]
    fn percentiles_are_histogram_quantiles_over_summed_bucket_rates() {
        let rule = Rule::new("r", Target::percentile("http.server.duration", 99.9))
            .level(Severity::Warning, 500.0)
            .tag("route", "/a");
        assert_eq!(
            expr(window(rule, 300)),
            r#"histogram_quantile(0.999, sum by (le, route) (rate(http_server_duration_bucket{route="/a"}[5m]))) > 500"#
        );
        let plain = Rule::new("r", Target::percentile("lat", 50.0)).level(Severity::Info, 1.5);
        assert_eq!(
            expr(plain),
            "histogram_quantile(0.5, sum by (le) (rate(lat_bucket[1m]))) > 1.5"
        );
    }

    #[test]
    fn quantiles_are_exact_decimals() {
        let cases = [
            (95.0, "0.95"),
            (99.9, "0.999"),
            (99.99, "0.9999"),
            (50.0, "0.5"),
            (0.5, "0.005"),
            (75.0, "0.75"),
            (100.0, "1"),
            (12.345, "0.12345"),
        ];
        for (q, text) in cases {
            assert_eq!(quantile_text(q), text, "{q}");
        }
    }

    #[test]
    fn mean_count_and_sum_use_the_sum_and_count_series() {
        let mean = Rule::new("m", Target::stat("q.wait", Statistic::Mean))
            .op(Op::Ge)
            .level(Severity::Error, 100.0);
        assert_eq!(
            expr(mean),
            "(sum(rate(q_wait_sum[1m])) / sum(rate(q_wait_count[1m]))) >= 100"
        );
        let count = Rule::new("c", Target::stat("q.wait", Statistic::Count))
            .op(Op::Lt)
            .level(Severity::Warning, 10.0);
        assert_eq!(expr(count), "sum(increase(q_wait_count[1m])) < 10");
        let sum = Rule::new("s", Target::stat("q.wait", Statistic::Sum)).level(Severity::Info, 1e6);
        assert_eq!(expr(sum), "sum(increase(q_wait_sum[1m])) > 1000000");
    }

    #[test]
    fn counters_rates_and_ratios() {
        let rate = Rule::new("r", Target::rate("jobs.done")).level(Severity::Warning, 5.0);
        assert_eq!(expr(rate), "sum(rate(jobs_done_total[1m])) > 5");
        // A counter already named `_total` keeps one suffix, as exported.
        let total = Rule::new("r", Target::rate("requests_total")).level(Severity::Warning, 5.0);
        assert_eq!(expr(total), "sum(rate(requests_total[1m])) > 5");
        let ratio = Rule::new("e", Target::ratio("http.errors", "http.requests"))
            .level(Severity::Critical, 0.05)
            .tag("route", "/pay")
            .min_samples(500);
        assert_eq!(
            expr(window(ratio, 120)),
            "((sum by (route) (rate(http_errors_total{route=\"/pay\"}[2m])) / \
             (sum by (route) (rate(http_requests_total{route=\"/pay\"}[2m])) > 0)) > 0.05) \
             and (sum by (route) (increase(http_requests_total{route=\"/pay\"}[2m])) >= 500)"
        );
    }

    #[test]
    fn gauges_are_read_per_series() {
        let disk = Rule::new("d", Target::gauge("disk.free_gb"))
            .op(Op::Le)
            .level(Severity::Critical, 5.0)
            .exclude_tag("mount", "/tmp");
        assert_eq!(expr(disk), r#"disk_free_gb{mount!="/tmp"} <= 5"#);
    }

    #[test]
    fn tag_values_are_escaped_and_options_apply() {
        let rule = Rule::new("r", Target::percentile("lat", 95.0))
            .level(Severity::Warning, 1.0)
            .tag("path", r#"C:\tmp "x""#)
            .exclude_tag("status", "4\"04");
        let options = PrometheusRulesOptions::new()
            .by("host")
            .unwrap()
            .matcher("job", "a\\b")
            .unwrap()
            .unit("lat", "milliseconds")
            .unwrap();
        assert_eq!(
            expr_with(rule, &options),
            r#"histogram_quantile(0.95, sum by (le, host, path) (rate(lat_milliseconds_bucket{job="a\\b", path="C:\\tmp \"x\"", status!="4\"04"}[1m]))) > 1"#
        );
    }

    #[test]
    fn min_samples_guards_histograms_with_their_count() {
        let rule = Rule::new("r", Target::percentile("lat", 95.0))
            .level(Severity::Warning, 100.0)
            .min_samples(20);
        assert_eq!(
            expr(rule),
            "(histogram_quantile(0.95, sum by (le) (rate(lat_bucket[1m]))) > 100) and (sum(increase(lat_count[1m])) >= 20)"
        );
    }

    #[test]
    fn statistics_without_faithful_promql_are_skipped() {
        for stat in [
            Statistic::Min,
            Statistic::Max,
            Statistic::Stddev,
            Statistic::Percentile(0.0),
            Statistic::Percentile(100.0),
        ] {
            let rule = Rule::new("r", Target::stat("lat", stat)).level(Severity::Warning, 1.0);
            assert!(skipped(rule).contains("no faithful PromQL"), "{stat}");
        }
        let change = Rule::new(
            "c",
            Target::change_point("lat", Statistic::Percentile(95.0)),
        )
        .level(Severity::Warning, 0.2);
        assert!(skipped(change).contains("change-point"));
    }

    #[test]
    fn one_alert_per_level_with_for_and_keep_firing_for() {
        let rule = Rule::new("api-latency", Target::percentile("lat", 95.0))
            .level_with_clear(Severity::Warning, 500.0, 400.0)
            .level(Severity::Critical, 1000.0)
            .for_duration(Duration::from_secs(90))
            .clear_for(Duration::from_secs(3600));
        let alerts = translate_rule(&rule, &PrometheusRulesOptions::new()).unwrap();
        let summary: Vec<_> = alerts
            .iter()
            .map(|a| (a.alert.as_str(), a.labels["severity"].as_str()))
            .collect();
        assert_eq!(
            summary,
            [("api_latency", "warning"), ("api_latency", "critical")]
        );
        assert!(alerts[1].expr.ends_with("> 1000"));
        assert_eq!(duration_text(alerts[0].for_duration), "90s");
        assert_eq!(duration_text(alerts[0].keep_firing_for), "1h");
        assert_eq!(rule_notes(&rule).len(), 1); // the clear threshold
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        let cases = [
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(1), "1ms"),
        ];
        for (d, text) in cases {
            assert_eq!(duration_text(d), text);
        }
    }

    #[test]
    fn annotations_disarm_template_actions_and_yaml_quotes_everything() {
        let rule = Rule::new("a{{b}}", Target::gauge("g"))
            .level(Severity::Warning, 1.0)
            .description("say \"{{ .x }}\"\\");
        let rules = PrometheusRules {
            groups: vec![PrometheusRuleGroup {
                name: "g: \"x\"".into(),
                alerts: translate_rule(&rule, &PrometheusRulesOptions::new()).unwrap(),
            }],
            skipped: vec![remark("bad\nname", "why")],
            notes: Vec::new(),
        };
        let alert = rules.alerts().next().unwrap();
        assert_eq!(
            alert.annotations["description"],
            "say \"{{ \"{{\" }} .x }}\"\\. Value: {{ $value }}"
        );
        let yaml = rules.to_yaml();
        assert!(yaml.contains("# skipped bad name: why\n"), "{yaml}");
        assert!(yaml.contains("  - name: \"g: \\\"x\\\"\"\n"), "{yaml}");
        assert!(
            yaml.contains(r#""perf_rule": "a{{ \"{{\" }}b}}""#),
            "{yaml}"
        );
    }
}
