//! Emergency mode's configuration as values: the triggers (conditions on
//! targets, or references to rules) and the timings, checked on their own.
//! The state machine that runs them is in the parent module.

use std::fmt;
use std::time::Duration;

use crate::error::{PerfError, Result};
use crate::numbers::compact;
use crate::rules::{check_rule_name, Op, Severity, Target, Watch};

/// Default [`EmergencyConfig::clear_for`]: 60 s.
pub const DEFAULT_CLEAR_FOR: Duration = Duration::from_secs(60);
/// Default [`EmergencyConfig::min_dwell`]: 60 s.
pub const DEFAULT_MIN_DWELL: Duration = Duration::from_secs(60);
/// Default [`EmergencyConfig::flap_window`]: 10 min.
pub const DEFAULT_FLAP_WINDOW: Duration = Duration::from_secs(600);
/// Default [`EmergencyConfig::max_dwell`]: 30 min.
pub const DEFAULT_MAX_DWELL: Duration = Duration::from_secs(1800);

/// How the mode switches automatically: its triggers and timings.
///
/// ```
/// use perf_core::{EmergencyConfig, Severity, Trigger};
/// use std::time::Duration;
/// let config = EmergencyConfig::default()
///     .trigger(Trigger::rule("http-latency", Severity::Critical))
///     .min_dwell(Duration::from_secs(300));
/// assert_eq!(config.clear_for, Duration::from_secs(60));
/// config.validate()?;
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EmergencyConfig {
    /// Any trigger holding turns the mode on.
    pub triggers: Vec<Trigger>,
    /// How long every trigger's condition must stay false before the mode
    /// turns off. Default 60 s.
    pub clear_for: Duration,
    /// The least time in the mode after an automatic activation. Default
    /// 60 s.
    pub min_dwell: Duration,
    /// Re-entering within this time of the last exit doubles the dwell.
    /// Default 10 min.
    pub flap_window: Duration,
    /// The longest dwell the back-off reaches. Default 30 min.
    pub max_dwell: Duration,
    /// While the mode is on, the background evaluator runs at this
    /// interval instead of the one given to
    /// [`Monitor::start`](crate::Monitor::start) (e.g. to see recovery
    /// sooner). Default `None`: the same interval.
    pub evaluate_every: Option<Duration>,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        EmergencyConfig {
            triggers: Vec::new(),
            clear_for: DEFAULT_CLEAR_FOR,
            min_dwell: DEFAULT_MIN_DWELL,
            flap_window: DEFAULT_FLAP_WINDOW,
            max_dwell: DEFAULT_MAX_DWELL,
            evaluate_every: None,
        }
    }
}

impl EmergencyConfig {
    /// Adds a trigger.
    pub fn trigger(mut self, trigger: Trigger) -> Self {
        self.triggers.push(trigger);
        self
    }

    /// Sets [`EmergencyConfig::clear_for`].
    pub fn clear_for(mut self, d: Duration) -> Self {
        self.clear_for = d;
        self
    }

    /// Sets [`EmergencyConfig::min_dwell`].
    pub fn min_dwell(mut self, d: Duration) -> Self {
        self.min_dwell = d;
        self
    }

    /// Sets [`EmergencyConfig::flap_window`].
    pub fn flap_window(mut self, d: Duration) -> Self {
        self.flap_window = d;
        self
    }

    /// Sets [`EmergencyConfig::max_dwell`].
    pub fn max_dwell(mut self, d: Duration) -> Self {
        self.max_dwell = d;
        self
    }

    /// Sets [`EmergencyConfig::evaluate_every`].
    pub fn evaluate_every(mut self, interval: Duration) -> Self {
        self.evaluate_every = Some(interval);
        self
    }

    /// Checks the configuration on its own (rule references are checked
    /// against a monitor's rules by
    /// [`Monitor::configure_emergency`](crate::Monitor::configure_emergency)).
    /// Errors: [`PerfError::InvalidEmergency`] naming the field, such as
    /// `triggers[1].threshold` or `max_dwell`.
    ///
    /// ```
    /// use perf_core::{EmergencyConfig, Op, PerfError, Target, Trigger, TriggerCondition};
    /// let nan = TriggerCondition::new(Target::percentile("lat", 95.0), Op::Gt, f64::NAN);
    /// match EmergencyConfig::default().trigger(Trigger::condition(nan)).validate() {
    ///     Err(PerfError::InvalidEmergency { field, .. }) => assert_eq!(field, "triggers[0].threshold"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.max_dwell < self.min_dwell {
            let reason = format!("must be at least min_dwell ({})", text(self.min_dwell));
            return Err(invalid("max_dwell".into(), reason));
        }
        if self
            .evaluate_every
            .is_some_and(|d| d < Duration::from_millis(1))
        {
            return Err(invalid(
                "evaluate_every".into(),
                "must be at least 1 ms".into(),
            ));
        }
        for (i, trigger) in self.triggers.iter().enumerate() {
            let field = |name: &str| format!("triggers[{i}].{name}");
            trigger
                .validate()
                .map_err(|(name, reason)| invalid(field(&name), reason))?;
            if self.triggers[..i].iter().any(|t| t.name == trigger.name) {
                let reason = format!("{:?} appears twice", trigger.name);
                return Err(invalid(field("name"), reason));
            }
        }
        Ok(())
    }
}

/// A [`PerfError::InvalidEmergency`].
pub(super) fn invalid(field: String, reason: String) -> PerfError {
    PerfError::InvalidEmergency { field, reason }
}

/// One way the mode turns on.
///
/// ```
/// use perf_core::{Op, Severity, Target, Trigger, TriggerCondition};
/// use std::time::Duration;
/// let slow = Trigger::condition(
///     TriggerCondition::new(Target::percentile("api.response_time", 95.0), Op::Gt, 1000.0)
///         .window(Duration::from_secs(60))
///         .min_samples(100),
/// )
/// .for_duration(Duration::from_secs(60));
/// assert_eq!(slow.name, "p95(api.response_time) > 1000");
/// let paged = Trigger::rule("http-errors", Severity::Critical).named("errors-paging");
/// assert_eq!(paged.name, "errors-paging");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// Names the trigger in transitions. Defaults: the condition as text
    /// (`p95(api.response_time) > 1000`), or the rule's name.
    pub name: String,
    /// What must be true.
    pub source: TriggerSource,
    /// How long it must be true at every evaluation before it holds.
    /// Default 0: at once.
    pub for_duration: Duration,
}

/// What a [`Trigger`] watches.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerSource {
    /// True while any series the condition applies to reads past its
    /// threshold.
    Condition(TriggerCondition),
    /// True while the rule has an active alert (firing or recovering) at
    /// `severity` or above on any series. The rule's own `for`,
    /// `min_samples` and no-data policy apply first. A rule removed later
    /// reads as false.
    Rule {
        /// The rule's name.
        rule: String,
        /// The least severity that counts.
        severity: Severity,
    },
}

/// A threshold on a [`Watch`], read like a rule's: true while any series
/// the watch applies to reads `value op threshold`.
///
/// ```
/// use perf_core::{Op, Target, TriggerCondition, Watch};
/// use std::time::Duration;
/// let slow = TriggerCondition::new(Target::percentile("api.response_time", 95.0), Op::Gt, 1000.0)
///     .window(Duration::from_secs(30))
///     .tag("route", "/login");
/// assert_eq!(slow.watch.window, Duration::from_secs(30));
/// assert!(slow.holds(1200.0) && !slow.holds(1000.0));
/// let watch = Watch::new(Target::percentile("api.response_time", 95.0))
///     .window(Duration::from_secs(30))
///     .tag("route", "/login");
/// assert_eq!(TriggerCondition::watching(watch, 1000.0), slow);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerCondition {
    /// What is read, on which series, and how it compares with the
    /// threshold (defaults: [`Watch::new`]).
    pub watch: Watch,
    /// The threshold; must be finite.
    pub threshold: f64,
}

impl TriggerCondition {
    /// `target op threshold`, with the other defaults of [`Watch::new`]
    /// (a 60 s window, every series of the metric).
    pub fn new(target: Target, op: Op, threshold: f64) -> TriggerCondition {
        TriggerCondition::watching(Watch::new(target).op(op), threshold)
    }

    /// `watch.op threshold` on `watch`.
    pub fn watching(watch: Watch, threshold: f64) -> TriggerCondition {
        TriggerCondition { watch, threshold }
    }

    /// Sets the window ([`Watch::window`]).
    pub fn window(mut self, window: Duration) -> Self {
        self.watch = self.watch.window(window);
        self
    }

    /// Sets the minimum of data ([`Watch::min_samples`]).
    pub fn min_samples(mut self, n: u64) -> Self {
        self.watch = self.watch.min_samples(n);
        self
    }

    /// Only series with the tag `key = value` ([`Watch::tag`]).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.watch = self.watch.tag(key, value);
        self
    }

    /// Only series without the tag `key = value` ([`Watch::exclude_tag`]).
    pub fn exclude_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.watch = self.watch.exclude_tag(key, value);
        self
    }

    /// Whether `value op threshold`. NaN never holds.
    pub fn holds(&self, value: f64) -> bool {
        self.watch.op.holds(value, self.threshold)
    }

    /// `Err((field, reason))` for the first field that is wrong, named as
    /// a trigger in JSON spells it: those of [`Watch`], then `threshold`.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        self.watch.check()?;
        if !self.threshold.is_finite() {
            return Err(("threshold", "must be a finite number".into()));
        }
        Ok(())
    }
}

impl fmt::Display for TriggerCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Watch { target, op, .. } = &self.watch;
        write!(f, "{target} {op} {}", compact(self.threshold))
    }
}

impl Trigger {
    /// A trigger on a threshold, named after it.
    pub fn condition(condition: TriggerCondition) -> Trigger {
        Trigger {
            name: condition.to_string(),
            source: TriggerSource::Condition(condition),
            for_duration: Duration::ZERO,
        }
    }

    /// A trigger on the rule `rule` having an alert at `severity` or above,
    /// named after the rule.
    pub fn rule(rule: impl Into<String>, severity: Severity) -> Trigger {
        let rule = rule.into();
        Trigger {
            name: rule.clone(),
            source: TriggerSource::Rule { rule, severity },
            for_duration: Duration::ZERO,
        }
    }

    /// Renames the trigger.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets how long the trigger must be true before it holds.
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_duration = d;
        self
    }

    /// `Err((field, reason))` with the field relative to the trigger.
    fn validate(&self) -> std::result::Result<(), (String, String)> {
        check_rule_name(&self.name).map_err(|reason| ("name".to_owned(), reason))?;
        match &self.source {
            TriggerSource::Condition(condition) => condition
                .check()
                .map_err(|(field, reason)| (field.to_owned(), reason)),
            TriggerSource::Rule { .. } => Ok(()),
        }
    }
}

/// A duration as people write it (`1m 30s`).
pub(super) fn text(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
