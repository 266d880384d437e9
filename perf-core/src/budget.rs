//! Performance budgets: limits on statistics, rated good / needs
//! improvement / poor, with a report and optional alerts.
//!
//! A [`BudgetItem`] rates one statistic of a histogram metric against a
//! *good* limit and, optionally, a *poor* limit: a value at or below `good`
//! is [`Rating::Good`], at or below `poor` is [`Rating::NeedsImprovement`],
//! above it [`Rating::Poor`] — **a value on a boundary gets the better
//! rating**, as the Web Vitals definitions say. Without a poor limit there
//! is no middle rating. Lower is better for every item.
//!
//! ```
//! use perf_core::{Budget, Rating};
//! let vitals = Budget::web_vitals();
//! let lcp = vitals.items.iter().find(|i| i.metric == "web_vitals.lcp").unwrap();
//! assert_eq!(lcp.rate(2500.0), Rating::Good);
//! assert_eq!(lcp.rate(2500.1), Rating::NeedsImprovement);
//! assert_eq!(lcp.rate(4000.0), Rating::NeedsImprovement);
//! assert_eq!(lcp.rate(4000.1), Rating::Poor);
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{PerfError, Result};
use crate::rules::{check_rule_name, RepeatIntervals, Rule, Severity, Statistic, Target, Watch};
use crate::series::{validate_name, SeriesKey};

/// How a value compares with its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rating {
    /// At or below the good limit.
    Good,
    /// Above the good limit, at or below the poor limit.
    NeedsImprovement,
    /// Above the poor limit (or the good limit, when there is no poor one).
    Poor,
}

impl Rating {
    /// The name Web Vitals use: `good`, `needs-improvement`, `poor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::NeedsImprovement => "needs-improvement",
            Rating::Poor => "poor",
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rating {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Rating::Good, Rating::NeedsImprovement, Rating::Poor]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown rating {s:?}: use good, needs-improvement or poor"))
    }
}

/// One budgeted statistic of a histogram metric.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetItem {
    /// The histogram metric; the item applies to each of its series that
    /// match `tags`.
    pub metric: String,
    /// The statistic rated (Web Vitals: p75).
    pub stat: Statistic,
    /// The largest value rated good.
    pub good: f64,
    /// The largest value rated needs-improvement; `None`: no middle rating.
    pub poor: Option<f64>,
    /// Rate the values of this window; `None`: everything since start.
    pub window: Option<Duration>,
    /// Only series with all these tags.
    pub tags: Vec<(String, String)>,
}

impl BudgetItem {
    /// An item with a good limit only, over all values since start.
    pub fn new(metric: impl Into<String>, stat: Statistic, good: f64) -> BudgetItem {
        BudgetItem {
            metric: metric.into(),
            stat,
            good,
            poor: None,
            window: None,
            tags: Vec::new(),
        }
    }

    /// Sets the poor limit (the needs-improvement band is `(good, poor]`).
    pub fn poor(mut self, poor: f64) -> BudgetItem {
        self.poor = Some(poor);
        self
    }

    /// Rates the values of a sliding window instead of all values.
    pub fn window(mut self, window: Duration) -> BudgetItem {
        self.window = Some(window);
        self
    }

    /// Restricts the item to series with tag `key == value`.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> BudgetItem {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Whether the item rates `series`: its metric, with all the item's tags.
    pub fn applies_to(&self, series: &SeriesKey) -> bool {
        series.name() == self.metric && series.matches_tags(&self.tags, &[])
    }

    /// `Err((field, reason))` naming the field as JSON spells it.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        validate_name(&self.metric).map_err(|e| ("metric", e.to_string()))?;
        self.stat.check().map_err(|reason| ("stat", reason))?;
        if !self.good.is_finite() {
            return Err(("good", "must be a finite number".into()));
        }
        match self.poor {
            Some(poor) if !poor.is_finite() => {
                return Err(("poor", "must be a finite number".into()));
            }
            Some(poor) if poor < self.good => {
                let reason = format!("must be at or above good ({})", self.good);
                return Err(("poor", reason));
            }
            _ => {}
        }
        if self.window.is_some_and(|w| w.is_zero()) {
            return Err(("window", "must be greater than zero".into()));
        }
        let tags: Vec<_> = self.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        crate::series::validate_tags(&tags).map_err(|e| ("tags", e.to_string()))
    }

    /// Whether two items rate the same statistic of the same series.
    fn same_target(&self, other: &BudgetItem) -> bool {
        let sorted = |tags: &[(String, String)]| {
            let mut tags = tags.to_vec();
            tags.sort();
            tags
        };
        self.metric == other.metric
            && self.stat == other.stat
            && sorted(&self.tags) == sorted(&other.tags)
    }

    /// The name of the rule raising this item's alerts in `budget`:
    /// `budget:{budget}:{metric}:{stat}`, the metric followed by
    /// `{k=v,...}` when the item has tags.
    pub fn rule_name(&self, budget: &str) -> String {
        let mut tags = self.tags.clone();
        tags.sort();
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", tags.join(","))
        };
        format!("budget:{budget}:{}{tags}:{}", self.metric, self.stat)
    }

    /// The rule alerting on this item: `> good` at the needs-improvement
    /// severity and `> poor` at the poor severity (only `> good` at the
    /// poor severity when there is no middle band).
    fn rule(&self, budget: &str, alerts: &BudgetAlerts) -> Rule {
        let watch = Watch {
            window: self.window.unwrap_or(alerts.window),
            min_samples: alerts.min_samples,
            tags: self.tags.clone(),
            ..Watch::new(Target::stat(self.metric.clone(), self.stat))
        };
        let mut rule = Rule::watching(self.rule_name(budget), watch)
            .for_duration(alerts.for_duration)
            .clear_for(alerts.clear_for);
        rule.repeat = alerts.repeat;
        rule.description = Some(format!("budget {budget}: {} of {}", self.stat, self.metric));
        match self.poor.filter(|&poor| poor > self.good) {
            Some(poor) => rule
                .level(alerts.needs_improvement, self.good)
                .level(alerts.poor, poor),
            None => rule.level(alerts.poor, self.good),
        }
    }

    /// The rating of `value`; boundaries get the better rating. NaN is poor.
    pub fn rate(&self, value: f64) -> Rating {
        if value <= self.good {
            Rating::Good
        } else if self.poor.is_some_and(|poor| value <= poor) {
            Rating::NeedsImprovement
        } else {
            Rating::Poor
        }
    }
}

/// When and how a budget raises alerts: one rule per item, whose ladder is
/// `> good` at `needs_improvement` severity and `> poor` at `poor` severity.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetAlerts {
    /// Severity while needs-improvement. Default warning.
    pub needs_improvement: Severity,
    /// Severity while poor. Default critical.
    pub poor: Severity,
    /// The window the rules read (items with a window use their own).
    /// Default 5 min.
    pub window: Duration,
    /// `for` of the rules. Default 0.
    pub for_duration: Duration,
    /// `clear_for` of the rules. Default 0.
    pub clear_for: Duration,
    /// `min_samples` of the rules. Default 0.
    pub min_samples: u64,
    /// Repeat intervals of the alerts; `None` uses the monitor's.
    pub repeat: Option<RepeatIntervals>,
}

impl Default for BudgetAlerts {
    fn default() -> Self {
        BudgetAlerts {
            needs_improvement: Severity::Warning,
            poor: Severity::Critical,
            window: Duration::from_secs(300),
            for_duration: Duration::ZERO,
            clear_for: Duration::ZERO,
            min_samples: 0,
            repeat: None,
        }
    }
}

impl BudgetAlerts {
    /// Sets the severities while needs-improvement and while poor.
    ///
    /// ```
    /// use perf_core::{BudgetAlerts, Severity};
    /// use std::time::Duration;
    /// let alerts = BudgetAlerts::default()
    ///     .severities(Severity::Info, Severity::Error)
    ///     .window(Duration::from_secs(60))
    ///     .for_duration(Duration::from_secs(30));
    /// assert_eq!(alerts.poor, Severity::Error);
    /// ```
    pub fn severities(mut self, needs_improvement: Severity, poor: Severity) -> Self {
        self.needs_improvement = needs_improvement;
        self.poor = poor;
        self
    }

    /// Sets the window the rules read.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets `for` of the rules.
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_duration = d;
        self
    }

    /// Sets `clear_for` of the rules.
    pub fn clear_for(mut self, d: Duration) -> Self {
        self.clear_for = d;
        self
    }

    /// Sets `min_samples` of the rules.
    pub fn min_samples(mut self, n: u64) -> Self {
        self.min_samples = n;
        self
    }

    /// Sets the repeat intervals of the alerts.
    pub fn repeat(mut self, intervals: RepeatIntervals) -> Self {
        self.repeat = Some(intervals);
        self
    }
}

/// A named set of budget items.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Budget {
    /// Unique among a monitor's budgets; names the rows of the report.
    pub name: String,
    /// What is budgeted.
    pub items: Vec<BudgetItem>,
    /// Alerts raised by the budget, if any.
    pub alerts: Option<BudgetAlerts>,
}

/// The metric names [`Budget::web_vitals`] rates (and bindings record into).
pub const WEB_VITALS_METRICS: [&str; 6] = [
    "web_vitals.lcp",
    "web_vitals.inp",
    "web_vitals.cls",
    "web_vitals.fcp",
    "web_vitals.ttfb",
    "web_vitals.fid",
];

impl Budget {
    /// An empty budget.
    pub fn new(name: impl Into<String>) -> Budget {
        Budget {
            name: name.into(),
            items: Vec::new(),
            alerts: None,
        }
    }

    /// Adds an item.
    pub fn item(mut self, item: BudgetItem) -> Budget {
        self.items.push(item);
        self
    }

    /// Raises alerts as configured.
    pub fn with_alerts(mut self, alerts: BudgetAlerts) -> Budget {
        self.alerts = Some(alerts);
        self
    }

    /// Checks the budget. Errors ([`PerfError::InvalidRule`], naming the
    /// budget) name the field as JSON spells it: `items[2].poor`,
    /// `alerts.poor`.
    ///
    /// ```
    /// use perf_core::{Budget, BudgetItem, PerfError, Statistic};
    /// let budget = Budget::new("api")
    ///     .item(BudgetItem::new("api.latency", Statistic::Percentile(95.0), 300.0).poor(100.0));
    /// match budget.validate() {
    ///     Err(PerfError::InvalidRule { field, .. }) => assert_eq!(field, "items[0].poor"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// ```
    pub fn validate(&self) -> Result<()> {
        let fail = |field: String, reason: String| {
            Err(PerfError::InvalidRule {
                rule: self.name.clone(),
                field,
                reason,
            })
        };
        if let Err(reason) = check_rule_name(&self.name) {
            return fail("name".into(), reason);
        }
        if self.items.is_empty() {
            return fail("items".into(), "at least one item is needed".into());
        }
        for (i, item) in self.items.iter().enumerate() {
            if let Err((field, reason)) = item.check() {
                return fail(format!("items[{i}].{field}"), reason);
            }
            if let Some(j) = self.items[..i].iter().position(|o| o.same_target(item)) {
                return fail(
                    format!("items[{i}]"),
                    format!("rates the same as items[{j}]"),
                );
            }
        }
        let Some(alerts) = &self.alerts else {
            return Ok(());
        };
        if alerts.needs_improvement >= alerts.poor {
            let reason = format!(
                "must be above needs_improvement ({})",
                alerts.needs_improvement
            );
            return fail("alerts.poor".into(), reason);
        }
        if alerts.window.is_zero() {
            return fail("alerts.window".into(), "must be greater than zero".into());
        }
        for (i, rule) in self.rules().iter().enumerate() {
            if let Err(PerfError::InvalidRule { field, reason, .. }) = rule.validate() {
                return fail(
                    format!("items[{i}]"),
                    format!("its rule's {field} {reason}"),
                );
            }
        }
        Ok(())
    }

    /// The rules raising the budget's alerts, one per item (none without
    /// [`Budget::alerts`]); see [`BudgetItem::rule_name`].
    pub fn rules(&self) -> Vec<Rule> {
        let Some(alerts) = &self.alerts else {
            return Vec::new();
        };
        let rule = |item: &BudgetItem| item.rule(&self.name, alerts);
        self.items.iter().map(rule).collect()
    }

    /// Google's Core Web Vitals and other Web Vitals, with their published
    /// thresholds, assessed at p75: LCP 2500/4000 ms, INP 200/500 ms, CLS
    /// 0.1/0.25, FCP 1800/3000 ms, TTFB 800/1800 ms, FID 100/300 ms. Metric
    /// names are [`WEB_VITALS_METRICS`]; times in milliseconds, CLS unitless.
    pub fn web_vitals() -> Budget {
        let limits = [
            (2500.0, 4000.0),
            (200.0, 500.0),
            (0.1, 0.25),
            (1800.0, 3000.0),
            (800.0, 1800.0),
            (100.0, 300.0),
        ];
        WEB_VITALS_METRICS.iter().zip(limits).fold(
            Budget::new("web_vitals"),
            |budget, (metric, (good, poor))| {
                budget.item(BudgetItem::new(*metric, Statistic::Percentile(75.0), good).poor(poor))
            },
        )
    }

    /// An API latency budget: p50, p95 and p99 of `metric` at most the
    /// given limits (good or poor, no middle rating).
    pub fn api_latency(
        name: impl Into<String>,
        metric: &str,
        p50: f64,
        p95: f64,
        p99: f64,
    ) -> Budget {
        [(50.0, p50), (95.0, p95), (99.0, p99)].into_iter().fold(
            Budget::new(name),
            |budget, (q, limit)| {
                budget.item(BudgetItem::new(metric, Statistic::Percentile(q), limit))
            },
        )
    }
}
