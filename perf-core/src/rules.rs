//! Rules: what to watch, and at which values to alert — the model only.
//!
//! A [`Rule`] reads one [`Target`] value per series (a histogram statistic
//! over a window, a counter rate, a ratio of two counters, a gauge) and
//! compares it with a *severity ladder*: one [`Level`] per severity, all with
//! the same [`Op`]. What is read, on which series, and how it compares — the
//! target, op, window, `min_samples` and tag matchers — is a [`Watch`],
//! which emergency trigger conditions share. How the comparisons turn into
//! states and alerts is in `rule_state` (the state machine) and `alerts`
//! (notifications); the JSON form is in `config`.
//!
//! # Conditions
//!
//! * A level **holds** when `value op threshold` (e.g. `p95 > 500`).
//! * A level **clears** when `value op clear` does *not* hold. Without an
//!   explicit clear threshold, `clear == threshold`, so clearing is simply
//!   "the fire condition no longer holds"; a clear threshold on the calm side
//!   of the threshold (e.g. 400 for `> 500`) adds hysteresis.
//! * The ladder is ordered: for `>`/`>=` thresholds rise with severity, for
//!   `<`/`<=` they fall, so a value that holds a level holds every lower one.
//!
//! ```
//! use perf_core::{Op, Rule, Severity, Statistic, Target};
//! use std::time::Duration;
//! let rule = Rule::new("api-latency", Target::stat("api.response_time", Statistic::Percentile(95.0)))
//!     .op(Op::Gt)
//!     .level_with_clear(Severity::Warning, 500.0, 400.0)
//!     .level(Severity::Critical, 1000.0)
//!     .window(Duration::from_secs(60))
//!     .for_duration(Duration::from_secs(60))
//!     .clear_for(Duration::from_secs(120))
//!     .min_samples(20)
//!     .tag("route", "/checkout");
//! assert!(rule.validate().is_ok());
//! assert_eq!(rule.highest_holding(1200.0), Some(Severity::Critical));
//! assert_eq!(rule.highest_holding(600.0), Some(Severity::Warning));
//! assert!(!rule.level_for(Severity::Warning).unwrap().clears(Op::Gt, 450.0)); // hysteresis
//! # Ok::<(), perf_core::PerfError>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{PerfError, Result};
use crate::series::{validate_name, validate_tags, SeriesKey};

/// How urgent an alert is. Ordered: `Info < Warning < Error < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nobody needs to act.
    Info,
    /// Degraded; act during working hours.
    Warning,
    /// Failing for some users; act soon.
    Error,
    /// Broken; act now.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    /// The lowercase name used in JSON and output (`"warning"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown severity {s:?}: use info, warning, error or critical"))
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    /// Whether `value op threshold`. NaN never holds.
    ///
    /// ```
    /// use perf_core::Op;
    /// assert!(Op::Ge.holds(5.0, 5.0) && !Op::Gt.holds(5.0, 5.0));
    /// ```
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }

    /// Whether larger values are worse (`>`, `>=`).
    pub fn is_upper_bound(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }

    /// The symbol (`">="`).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            ">" => Ok(Op::Gt),
            ">=" | "≥" => Ok(Op::Ge),
            "<" => Ok(Op::Lt),
            "<=" | "≤" => Ok(Op::Le),
            _ => Err(format!("unknown operator {s:?}: use >, >=, < or <=")),
        }
    }
}

/// A statistic of a histogram's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// The `q`-th percentile, `q` in `[0, 100]` (nearest rank).
    Percentile(f64),
    /// Arithmetic mean.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Number of values.
    Count,
    /// Sum of the values.
    Sum,
    /// Population standard deviation.
    Stddev,
}

impl Statistic {
    /// The statistic of `snapshot`, or `None` if it has no values (a count
    /// or sum of nothing is 0, not missing).
    pub fn of(self, snapshot: &crate::HistogramSnapshot) -> Option<f64> {
        match self {
            Statistic::Count => return Some(snapshot.count() as f64),
            Statistic::Sum => return Some(snapshot.sum()),
            _ if snapshot.is_empty() => return None,
            _ => {}
        }
        Some(match self {
            Statistic::Percentile(q) => snapshot.percentile(q).ok()?,
            Statistic::Mean => snapshot.mean(),
            Statistic::Min => snapshot.min(),
            Statistic::Max => snapshot.max(),
            Statistic::Stddev => snapshot.stddev(),
            Statistic::Count | Statistic::Sum => unreachable!("handled above"),
        })
    }
}

impl Statistic {
    /// The statistic of `snapshot` as compared with `limits` (thresholds,
    /// budget limits): a percentile that the histogram cannot tell from a
    /// limit — it lies in the limit's bucket — reads as that limit (the
    /// nearest, if several), so a tie within the bucket resolution compares
    /// as equal and goes to the better side of a strict comparison. Other
    /// statistics are exact enough to compare as they are.
    pub(crate) fn compared_with(
        self,
        snapshot: &crate::HistogramSnapshot,
        limits: impl IntoIterator<Item = f64>,
    ) -> Option<f64> {
        let value = self.of(snapshot)?;
        if !matches!(self, Statistic::Percentile(_)) {
            return Some(value);
        }
        let precision = snapshot.precision();
        let tie = limits
            .into_iter()
            .filter(|&limit| precision.indistinguishable(value, limit))
            .min_by(|a, b| (a - value).abs().total_cmp(&(b - value).abs()));
        Some(tie.unwrap_or(value))
    }

    /// `Err(reason)` for a percentile outside `[0, 100]` (or NaN).
    pub(crate) fn check(self) -> std::result::Result<(), String> {
        match self {
            Statistic::Percentile(q) if !(0.0..=100.0).contains(&q) => {
                Err(format!("percentile {q} is outside [0, 100]"))
            }
            _ => Ok(()),
        }
    }
}

/// `Err(reason)` unless `name` is a valid rule or budget name: 1-200
/// characters, no control characters.
pub(crate) fn check_rule_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err("must be 1-200 characters without control characters".into());
    }
    Ok(())
}

/// `p50`, `p99.9`, `mean`, …: the names used in JSON and output. `p999`
/// reads as 99.9 and `p9999` as 99.99 (the usual shorthand).
impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::Percentile(q) => write!(f, "p{q}"),
            Statistic::Mean => f.write_str("mean"),
            Statistic::Min => f.write_str("min"),
            Statistic::Max => f.write_str("max"),
            Statistic::Count => f.write_str("count"),
            Statistic::Sum => f.write_str("sum"),
            Statistic::Stddev => f.write_str("stddev"),
        }
    }
}

impl FromStr for Statistic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mean" | "avg" => return Ok(Statistic::Mean),
            "min" => return Ok(Statistic::Min),
            "max" => return Ok(Statistic::Max),
            "count" => return Ok(Statistic::Count),
            "sum" => return Ok(Statistic::Sum),
            "stddev" => return Ok(Statistic::Stddev),
            _ => {}
        }
        let bad = || {
            format!("unknown statistic {s:?}: use pNN (p95, p99.9), mean, min, max, count, sum or stddev")
        };
        let digits = s.strip_prefix('p').ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(bad());
        }
        // `p999` is shorthand for 99.9: a dot goes after the first two digits.
        let q: f64 = if digits.len() > 2 && !digits.contains('.') && digits.starts_with("99") {
            format!("{}.{}", &digits[..2], &digits[2..]).parse()
        } else {
            digits.parse()
        }
        .map_err(|_| bad())?;
        if (0.0..=100.0).contains(&q) {
            Ok(Statistic::Percentile(q))
        } else {
            Err(format!("percentile {s:?} is outside p0..p100"))
        }
    }
}

/// What a rule reads, per series.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A statistic of a histogram's values over the rule's window.
    Histogram {
        /// The histogram metric.
        metric: String,
        /// Which statistic.
        stat: Statistic,
    },
    /// A counter's increase per second over the rule's window.
    CounterRate {
        /// The counter metric.
        metric: String,
    },
    /// The increase of `numerator` divided by the increase of `denominator`
    /// over the window, both read from series with the same tags (for an
    /// error rate: `http.errors{route}` / `http.requests{route}`).
    CounterRatio {
        /// The counter whose series the rule follows (e.g. errors).
        numerator: String,
        /// The counter it is divided by (e.g. requests).
        denominator: String,
    },
    /// A gauge's current value.
    Gauge {
        /// The gauge metric.
        metric: String,
    },
    /// A step in a histogram statistic: `stat` is read per window interval
    /// (those with values) across the rule's window, change-point detection
    /// ([`crate::detect_change_points`], default configuration) runs on
    /// that series, and the reading is the relative change of the latest
    /// change point found (`after / before - 1`: `0.25` for a 25 % step up),
    /// or 0 when there is none. `min_samples` applies per interval. Fewer
    /// than 10 intervals with values read as no data.
    ChangePoint {
        /// The histogram metric.
        metric: String,
        /// The statistic read per interval.
        stat: Statistic,
    },
}

impl Target {
    /// A histogram statistic: `Target::stat("api.latency", Statistic::Max)`.
    pub fn stat(metric: impl Into<String>, stat: Statistic) -> Target {
        Target::Histogram {
            metric: metric.into(),
            stat,
        }
    }

    /// A percentile of a histogram: `Target::percentile("api.latency", 95.0)`.
    pub fn percentile(metric: impl Into<String>, q: f64) -> Target {
        Target::stat(metric, Statistic::Percentile(q))
    }

    /// A counter rate per second.
    pub fn rate(metric: impl Into<String>) -> Target {
        Target::CounterRate {
            metric: metric.into(),
        }
    }

    /// A ratio of two counters' increases (an error rate).
    pub fn ratio(numerator: impl Into<String>, denominator: impl Into<String>) -> Target {
        Target::CounterRatio {
            numerator: numerator.into(),
            denominator: denominator.into(),
        }
    }

    /// A gauge's value.
    pub fn gauge(metric: impl Into<String>) -> Target {
        Target::Gauge {
            metric: metric.into(),
        }
    }

    /// A step in `stat` of a histogram, per interval across the window:
    /// `Target::change_point("api.latency", Statistic::Percentile(95.0))`
    /// with a level at `0.2` fires on a 20 % step up.
    pub fn change_point(metric: impl Into<String>, stat: Statistic) -> Target {
        Target::ChangePoint {
            metric: metric.into(),
            stat,
        }
    }

    /// The metric whose series the rule follows (the numerator of a ratio).
    pub fn metric(&self) -> &str {
        match self {
            Target::Histogram { metric, .. }
            | Target::ChangePoint { metric, .. }
            | Target::CounterRate { metric }
            | Target::Gauge { metric } => metric,
            Target::CounterRatio { numerator, .. } => numerator,
        }
    }

    /// Whether the target reads a window (all but gauges).
    pub fn is_windowed(&self) -> bool {
        !matches!(self, Target::Gauge { .. })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Histogram { metric, stat } => write!(f, "{stat}({metric})"),
            Target::CounterRate { metric } => write!(f, "rate({metric})"),
            Target::CounterRatio {
                numerator,
                denominator,
            } => write!(f, "ratio({numerator} / {denominator})"),
            Target::Gauge { metric } => write!(f, "value({metric})"),
            Target::ChangePoint { metric, stat } => write!(f, "change({stat}({metric}))"),
        }
    }
}

/// The default window of a [`Watch`] (of rules and trigger conditions): 60 s.
pub const DEFAULT_RULE_WINDOW: Duration = Duration::from_secs(60);

/// What a rule or an emergency trigger condition watches: the [`Target`]
/// read per series over a window, compared with an [`Op`], on the series
/// the tag matchers select, with a minimum of data. The thresholds it is
/// compared with belong to the holder: a rule's severity ladder, a trigger
/// condition's one threshold.
///
/// Defaults ([`Watch::new`]): window 60 s ([`DEFAULT_RULE_WINDOW`]), op
/// `>`, `min_samples` 0, no tag matchers (every series of the metric).
///
/// ```
/// use perf_core::{Op, Rule, Severity, Target, TriggerCondition, Watch};
/// use std::time::Duration;
/// let watch = Watch::new(Target::percentile("api.latency", 95.0));
/// assert_eq!((watch.op, watch.window, watch.min_samples), (Op::Gt, Duration::from_secs(60), 0));
/// assert!(watch.tags.is_empty() && watch.exclude_tags.is_empty());
///
/// // p95 of api.latency over 5 min, on /checkout but not on 404s, from 20 values.
/// let checkout = watch
///     .window(Duration::from_secs(300))
///     .min_samples(20)
///     .tag("route", "/checkout")
///     .exclude_tag("status", "404");
/// assert_eq!(checkout.reads_window(), Some(Duration::from_secs(300)));
///
/// // A rule and an emergency trigger condition on the same watch.
/// let rule = Rule::watching("checkout-latency", checkout.clone()).level(Severity::Warning, 500.0);
/// let trigger = TriggerCondition::watching(checkout.clone(), 2000.0);
/// assert_eq!((&rule.watch, &trigger.watch), (&checkout, &checkout));
/// // The builders of `Rule` and `TriggerCondition` set the watch's fields.
/// let built = Rule::new("checkout-latency", Target::percentile("api.latency", 95.0))
///     .window(Duration::from_secs(300))
///     .min_samples(20)
///     .tag("route", "/checkout")
///     .exclude_tag("status", "404")
///     .level(Severity::Warning, 500.0);
/// assert_eq!(built, rule);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    /// What is read per series; its metric (a ratio's numerator) names the
    /// series watched.
    pub target: Target,
    /// How readings are compared with thresholds (`value op threshold`).
    /// Default `>`.
    pub op: Op,
    /// The window windowed targets read (all but gauges); must be greater
    /// than zero for them. Default 60 s.
    pub window: Duration,
    /// Fewer values than this in the window (histograms; per interval for
    /// change points), a smaller increase (rates) or denominator increase
    /// (ratios) count as no data. Default 0. Gauges ignore it.
    pub min_samples: u64,
    /// Only series having all these tags (`key == value`). Default none.
    pub tags: Vec<(String, String)>,
    /// … and none of these (`key != value`; a missing tag matches).
    /// Default none.
    pub exclude_tags: Vec<(String, String)>,
}

impl Watch {
    /// A watch of `target` with the defaults above.
    pub fn new(target: Target) -> Watch {
        Watch {
            target,
            op: Op::Gt,
            window: DEFAULT_RULE_WINDOW,
            min_samples: 0,
            tags: Vec::new(),
            exclude_tags: Vec::new(),
        }
    }

    /// Sets the comparison.
    pub fn op(mut self, op: Op) -> Watch {
        self.op = op;
        self
    }

    /// Sets the window of windowed targets.
    pub fn window(mut self, window: Duration) -> Watch {
        self.window = window;
        self
    }

    /// Sets the minimum of data.
    pub fn min_samples(mut self, n: u64) -> Watch {
        self.min_samples = n;
        self
    }

    /// Only series with the tag `key == value`.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Watch {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Only series without the tag `key == value`.
    pub fn exclude_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Watch {
        self.exclude_tags.push((key.into(), value.into()));
        self
    }

    /// Whether `series` is watched: a series of the target's metric that
    /// the tag matchers select.
    pub fn applies_to(&self, series: &SeriesKey) -> bool {
        series.name() == self.target.metric() && series.matches_tags(&self.tags, &self.exclude_tags)
    }

    /// The window the target is read over: `Some(window)` for windowed
    /// targets, `None` for a gauge (read as it is now).
    pub fn reads_window(&self) -> Option<Duration> {
        self.target.is_windowed().then_some(self.window)
    }

    /// `Err((field, reason))` for the first field that is wrong, named as
    /// JSON spells it: `metric`, `denominator`, `stat`, `tags`,
    /// `exclude_tags` or `window`, in that order.
    pub(crate) fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        self.check_target()?;
        for (field, matchers) in [("tags", &self.tags), ("exclude_tags", &self.exclude_tags)] {
            let pairs: Vec<_> = matchers.iter().map(|(k, v)| (&**k, &**v)).collect();
            validate_tags(&pairs).map_err(|e| (field, e.to_string()))?;
        }
        if self.reads_window().is_some_and(|window| window.is_zero()) {
            return Err(("window", "must be greater than zero".into()));
        }
        Ok(())
    }

    /// The target's metric names and statistic.
    fn check_target(&self) -> std::result::Result<(), (&'static str, String)> {
        let (field, metric) = match &self.target {
            Target::CounterRatio { denominator, .. } => ("denominator", denominator.as_str()),
            other => ("metric", other.metric()),
        };
        validate_name(metric).map_err(|e| (field, e.to_string()))?;
        if let Target::CounterRatio { numerator, .. } = &self.target {
            validate_name(numerator).map_err(|e| ("metric", e.to_string()))?;
        }
        match &self.target {
            Target::Histogram { stat, .. } | Target::ChangePoint { stat, .. } => {
                stat.check().map_err(|reason| ("stat", reason))
            }
            _ => Ok(()),
        }
    }
}

/// One rung of a severity ladder.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// The severity of alerts at this level.
    pub severity: Severity,
    /// The level holds when `value op threshold`.
    pub threshold: f64,
    /// The level clears when `value op clear` no longer holds; `None` means
    /// `threshold` (no hysteresis).
    pub clear: Option<f64>,
}

impl Level {
    /// Whether this level holds for `value`.
    pub fn holds(&self, op: Op, value: f64) -> bool {
        op.holds(value, self.threshold)
    }

    /// Whether this level clears for `value`: the value is on the calm side
    /// of the clear threshold. NaN never clears.
    pub fn clears(&self, op: Op, value: f64) -> bool {
        !value.is_nan() && !op.holds(value, self.clear_threshold())
    }

    /// The clear threshold in effect.
    pub fn clear_threshold(&self) -> f64 {
        self.clear.unwrap_or(self.threshold)
    }
}

/// What a rule does for a series with no data in its window (or fewer than
/// `min_samples` values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NoDataPolicy {
    /// Nothing changes: a pending or firing alert stays so, and its `for` or
    /// `clear_for` clock keeps running from when it started.
    #[default]
    KeepLast,
    /// Active alerts resolve, marked as resolved for lack of data (the
    /// event's value is `None`); pending ones are dropped.
    Resolve,
    /// No data counts as the highest level holding (after `for`, as usual).
    Fire,
}

impl NoDataPolicy {
    /// The JSON name (`"keep_last"`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoDataPolicy::KeepLast => "keep_last",
            NoDataPolicy::Resolve => "resolve",
            NoDataPolicy::Fire => "fire",
        }
    }
}

impl FromStr for NoDataPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            NoDataPolicy::KeepLast,
            NoDataPolicy::Resolve,
            NoDataPolicy::Fire,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("unknown no-data policy {s:?}: use keep_last, resolve or fire"))
    }
}

/// How long to wait before repeating a notification for an alert that is
/// still active, per severity. The defaults are the field's usual ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepeatIntervals {
    /// Default 4 h.
    pub info: Duration,
    /// Default 1 h.
    pub warning: Duration,
    /// Default 15 min.
    pub error: Duration,
    /// Default 5 min.
    pub critical: Duration,
}

impl Default for RepeatIntervals {
    fn default() -> Self {
        RepeatIntervals {
            info: Duration::from_secs(4 * 3600),
            warning: Duration::from_secs(3600),
            error: Duration::from_secs(15 * 60),
            critical: Duration::from_secs(5 * 60),
        }
    }
}

impl RepeatIntervals {
    /// The interval for `severity`.
    ///
    /// ```
    /// use perf_core::{RepeatIntervals, Severity};
    /// use std::time::Duration;
    /// assert_eq!(RepeatIntervals::default().get(Severity::Critical), Duration::from_secs(300));
    /// ```
    pub fn get(&self, severity: Severity) -> Duration {
        match severity {
            Severity::Info => self.info,
            Severity::Warning => self.warning,
            Severity::Error => self.error,
            Severity::Critical => self.critical,
        }
    }

    /// Sets the interval for `severity`.
    pub fn set(&mut self, severity: Severity, interval: Duration) {
        match severity {
            Severity::Info => self.info = interval,
            Severity::Warning => self.warning = interval,
            Severity::Error => self.error = interval,
            Severity::Critical => self.critical = interval,
        }
    }
}

/// A rule: a [`Watch`] (target, comparison, window, minimum of data and
/// the series it applies to), a severity ladder and the timing that turns
/// readings into alerts. State is kept per (rule, series). Build with
/// [`Rule::new`] and the setters, or load from JSON with
/// [`crate::Monitor::load_rules`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    /// Unique among a monitor's rules; names its alerts.
    pub name: String,
    /// What is read, on which series, and how it compares: `watch.op` is
    /// the comparison every level uses.
    pub watch: Watch,
    /// The severity ladder, at least one level; kept sorted by severity.
    pub levels: Vec<Level>,
    /// How long some level must hold continuously before the alert fires.
    /// Default 0: at once.
    pub for_duration: Duration,
    /// How long the alert's level must stay cleared before it resolves (or
    /// de-escalates). Default 0.
    pub clear_for: Duration,
    /// What no data does (including fewer than `watch.min_samples`).
    /// Default [`NoDataPolicy::KeepLast`].
    pub no_data: NoDataPolicy,
    /// Repeat intervals for this rule's alerts; `None` uses the monitor's.
    pub repeat: Option<RepeatIntervals>,
    /// Free text carried into listings.
    pub description: Option<String>,
}

impl Rule {
    /// A rule on `target` with no levels yet, the defaults of
    /// [`Watch::new`] and the defaults above.
    pub fn new(name: impl Into<String>, target: Target) -> Rule {
        Rule::watching(name, Watch::new(target))
    }

    /// A rule on `watch` with no levels yet and the defaults above.
    ///
    /// ```
    /// use perf_core::{Rule, Severity, Target, Watch};
    /// let errors = Watch::new(Target::ratio("http.errors", "http.requests")).tag("route", "/pay");
    /// let rule = Rule::watching("pay-errors", errors.clone()).level(Severity::Critical, 0.05);
    /// assert_eq!(rule.watch, errors);
    /// ```
    pub fn watching(name: impl Into<String>, watch: Watch) -> Rule {
        Rule {
            name: name.into(),
            watch,
            levels: Vec::new(),
            for_duration: Duration::ZERO,
            clear_for: Duration::ZERO,
            no_data: NoDataPolicy::KeepLast,
            repeat: None,
            description: None,
        }
    }

    /// Sets the comparison ([`Watch::op`]).
    pub fn op(mut self, op: Op) -> Rule {
        self.watch = self.watch.op(op);
        self
    }

    /// Adds a level without hysteresis.
    pub fn level(self, severity: Severity, threshold: f64) -> Rule {
        self.push_level(Level {
            severity,
            threshold,
            clear: None,
        })
    }

    /// Adds a level that clears only past `clear` (hysteresis).
    pub fn level_with_clear(self, severity: Severity, threshold: f64, clear: f64) -> Rule {
        self.push_level(Level {
            severity,
            threshold,
            clear: Some(clear),
        })
    }

    fn push_level(mut self, level: Level) -> Rule {
        self.levels.push(level);
        self.levels.sort_by_key(|l| l.severity);
        self
    }

    /// Sets the window of windowed targets ([`Watch::window`]).
    pub fn window(mut self, window: Duration) -> Rule {
        self.watch = self.watch.window(window);
        self
    }

    /// Sets `for`: how long a level must hold before firing.
    pub fn for_duration(mut self, d: Duration) -> Rule {
        self.for_duration = d;
        self
    }

    /// Sets `clear_for`: how long the alert must stay cleared to resolve.
    pub fn clear_for(mut self, d: Duration) -> Rule {
        self.clear_for = d;
        self
    }

    /// Sets the minimum of data ([`Watch::min_samples`]).
    pub fn min_samples(mut self, n: u64) -> Rule {
        self.watch = self.watch.min_samples(n);
        self
    }

    /// Sets the no-data policy.
    pub fn no_data(mut self, policy: NoDataPolicy) -> Rule {
        self.no_data = policy;
        self
    }

    /// Restricts the rule to series with tag `key == value` ([`Watch::tag`]).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Rule {
        self.watch = self.watch.tag(key, value);
        self
    }

    /// Excludes series with tag `key == value` ([`Watch::exclude_tag`]).
    pub fn exclude_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Rule {
        self.watch = self.watch.exclude_tag(key, value);
        self
    }

    /// Overrides the repeat intervals for this rule's alerts.
    pub fn repeat(mut self, intervals: RepeatIntervals) -> Rule {
        self.repeat = Some(intervals);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Rule {
        self.description = Some(text.into());
        self
    }

    /// The level of `severity`, if the ladder has one.
    pub fn level_for(&self, severity: Severity) -> Option<&Level> {
        self.levels.iter().find(|l| l.severity == severity)
    }

    /// The highest severity whose level holds for `value`.
    pub fn highest_holding(&self, value: f64) -> Option<Severity> {
        self.levels
            .iter()
            .rev()
            .find(|l| l.holds(self.watch.op, value))
            .map(|l| l.severity)
    }

    /// Every threshold and clear threshold of the ladder: what a reading is
    /// compared with.
    pub(crate) fn limits(&self) -> impl Iterator<Item = f64> + '_ {
        self.levels
            .iter()
            .flat_map(|l| [l.threshold, l.clear_threshold()])
    }

    /// The highest severity of the ladder.
    pub fn top_severity(&self) -> Option<Severity> {
        self.levels.last().map(|l| l.severity)
    }

    /// Whether the rule applies to `series` ([`Watch::applies_to`]): its
    /// metric, and its tag matchers.
    pub fn applies_to(&self, series: &SeriesKey) -> bool {
        self.watch.applies_to(series)
    }

    /// Checks the rule. Errors ([`PerfError::InvalidRule`]) name the field
    /// as JSON spells it.
    pub fn validate(&self) -> Result<()> {
        let fail = |field: &str, reason: String| {
            Err(PerfError::InvalidRule {
                rule: self.name.clone(),
                field: field.to_owned(),
                reason,
            })
        };
        if let Err(reason) = check_rule_name(&self.name) {
            return fail("name", reason);
        }
        if let Err((field, reason)) = self.watch.check() {
            return fail(field, reason);
        }
        self.validate_levels(&fail)
    }

    fn validate_levels(&self, fail: &impl Fn(&str, String) -> Result<()>) -> Result<()> {
        let op = self.watch.op;
        if self.levels.is_empty() {
            return fail("levels", "at least one threshold is needed".into());
        }
        for (i, level) in self.levels.iter().enumerate() {
            let field = |name: &str| format!("levels[{i}].{name}");
            if !level.threshold.is_finite() {
                return fail(&field("threshold"), "must be a finite number".into());
            }
            let clear = level.clear_threshold();
            if !clear.is_finite() {
                return fail(&field("clear"), "must be a finite number".into());
            }
            // The clear threshold must lie on the calm side of the threshold.
            let calm = if op.is_upper_bound() {
                clear <= level.threshold
            } else {
                clear >= level.threshold
            };
            if !calm {
                let side = if op.is_upper_bound() {
                    "at or below"
                } else {
                    "at or above"
                };
                return fail(
                    &field("clear"),
                    format!("must be {side} the threshold {}", level.threshold),
                );
            }
            let Some(lower) = i.checked_sub(1).map(|j| self.levels[j]) else {
                continue;
            };
            if lower.severity == level.severity {
                return fail(
                    &field("severity"),
                    format!("{} appears twice", level.severity),
                );
            }
            let rising = level.threshold > lower.threshold;
            if rising != op.is_upper_bound() || level.threshold == lower.threshold {
                let way = if op.is_upper_bound() { "rise" } else { "fall" };
                return fail(
                    &field("threshold"),
                    format!("thresholds must {way} with severity for {}", op),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency_rule() -> Rule {
        Rule::new("r", Target::percentile("api.latency", 95.0))
            .level(Severity::Critical, 1000.0)
            .level_with_clear(Severity::Warning, 500.0, 400.0)
    }

    #[test]
    fn levels_are_sorted_and_the_highest_holding_wins() {
        let rule = latency_rule();
        assert_eq!(rule.levels[0].severity, Severity::Warning);
        assert_eq!(rule.highest_holding(499.0), None);
        assert_eq!(rule.highest_holding(500.5), Some(Severity::Warning));
        assert_eq!(rule.highest_holding(1000.0), Some(Severity::Warning));
        assert_eq!(rule.highest_holding(1000.5), Some(Severity::Critical));
        assert_eq!(rule.highest_holding(f64::NAN), None);
        rule.validate().unwrap();
    }

    #[test]
    fn clearing_uses_the_clear_threshold_or_the_negated_condition() {
        let rule = latency_rule();
        let warning = rule.level_for(Severity::Warning).unwrap();
        assert!(!warning.clears(Op::Gt, 450.0));
        assert!(warning.clears(Op::Gt, 400.0));
        let critical = rule.level_for(Severity::Critical).unwrap();
        assert!(critical.clears(Op::Gt, 1000.0)); // not > 1000
        assert!(!critical.clears(Op::Gt, f64::NAN));
    }

    #[test]
    fn validation_names_the_field() {
        let err = |rule: Rule| match rule.validate() {
            Err(PerfError::InvalidRule { field, .. }) => field,
            other => panic!("expected an invalid rule, got {other:?}"),
        };
        assert_eq!(err(Rule::new("r", Target::rate("x"))), "levels");
        assert_eq!(
            err(latency_rule().level(Severity::Error, 200.0)),
            "levels[1].threshold"
        );
        assert_eq!(
            err(Rule::new("r", Target::rate("x")).level_with_clear(Severity::Info, 5.0, 6.0)),
            "levels[0].clear"
        );
        assert_eq!(
            err(Rule::new("r", Target::rate("9x")).level(Severity::Info, 1.0)),
            "metric"
        );
        assert_eq!(
            err(Rule::new("r", Target::ratio("e", "")).level(Severity::Info, 1.0)),
            "denominator"
        );
        assert_eq!(
            err(Rule::new("r", Target::percentile("x", 101.0)).level(Severity::Info, 1.0)),
            "stat"
        );
        assert_eq!(
            err(Rule::new("", Target::rate("x")).level(Severity::Info, 1.0)),
            "name"
        );
        let info = Rule::new("r", Target::rate("x")).level(Severity::Info, 1.0);
        assert_eq!(err(info.clone().tag("9route", "/")), "tags");
        assert_eq!(err(info.exclude_tag("status", "")), "exclude_tags");
        assert_eq!(
            err(Rule::new("r", Target::rate("x"))
                .level(Severity::Info, 1.0)
                .level(Severity::Info, 2.0)),
            "levels[1].severity"
        );
        let falling = Rule::new("r", Target::gauge("free"))
            .op(Op::Lt)
            .level(Severity::Warning, 10.0)
            .level(Severity::Critical, 5.0);
        falling.validate().unwrap();
        assert_eq!(
            err(falling.level(Severity::Info, 3.0)),
            "levels[1].threshold"
        );
    }

    #[test]
    fn statistics_parse_and_print() {
        let parse = |s: &str| s.parse::<Statistic>();
        assert_eq!(parse("p95"), Ok(Statistic::Percentile(95.0)));
        assert_eq!(parse("p999"), Ok(Statistic::Percentile(99.9)));
        assert_eq!(parse("p99.99"), Ok(Statistic::Percentile(99.99)));
        assert_eq!(parse("p9999"), Ok(Statistic::Percentile(99.99)));
        assert_eq!(parse("mean"), Ok(Statistic::Mean));
        assert!(parse("p101").is_err() && parse("p").is_err() && parse("q5").is_err());
        assert_eq!(Statistic::Percentile(99.9).to_string(), "p99.9");
        assert_eq!(">=".parse::<Op>(), Ok(Op::Ge));
        assert!("=>".parse::<Op>().is_err());
        assert_eq!("critical".parse::<Severity>(), Ok(Severity::Critical));
        assert!(Severity::Info < Severity::Critical);
    }

    #[test]
    fn a_watch_checks_its_fields_and_reads_a_window_unless_a_gauge() {
        let zero = |target| Watch::new(target).window(Duration::ZERO);
        assert_eq!(zero(Target::rate("x")).reads_window(), Some(Duration::ZERO));
        assert_eq!(zero(Target::rate("x")).check().unwrap_err().0, "window");
        assert_eq!(zero(Target::gauge("free")).reads_window(), None);
        assert!(zero(Target::gauge("free")).check().is_ok());
        let tagged = Watch::new(Target::rate("x")).exclude_tag("9bad", "v");
        assert_eq!(tagged.check().unwrap_err().0, "exclude_tags");
    }

    #[test]
    fn tag_matchers_select_series() {
        let key = |tags: &[(&str, &str)]| SeriesKey::new(0, "api.latency", tags);
        let rule = latency_rule()
            .tag("route", "/a")
            .exclude_tag("method", "GET");
        assert!(rule.applies_to(&key(&[("route", "/a")])));
        assert!(rule.applies_to(&key(&[("route", "/a"), ("method", "POST")])));
        assert!(!rule.applies_to(&key(&[("route", "/a"), ("method", "GET")])));
        assert!(!rule.applies_to(&key(&[("route", "/b")])));
        assert!(!rule.applies_to(&SeriesKey::new(0, "other", &[("route", "/a")])));
    }
}
