//! Rule evaluation: reads every rule's target on every series it applies
//! to, steps the (rule, series) state machines, and turns transitions into
//! notifications under the policies of [`crate::alerts`].
//!
//! # Cost
//!
//! One pass over the registry. Each series finds the rules of its metric
//! with one hash lookup; a series with rules reads each distinct window its
//! rules use once. State is stored only for (rule, series) pairs that are
//! not inactive, so idle pairs cost no memory, and the notification pass
//! only visits active ones.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use foldhash::HashMap as FoldHashMap;
use parking_lot::{Mutex, ReentrantMutex, ReentrantMutexGuard};

use crate::alerts::{
    Alert, AlertEvent, AlertId, AlertKind, AlertState, Subscriber, Subscribers, SubscriptionId,
};
use crate::budget::Budget;
use crate::changepoint::{detect_change_points, ChangePointConfig};
use crate::clock::Timestamp;
use crate::counter::CounterCore;
use crate::dispatch::Dispatcher;
use crate::error::{PerfError, Result};
use crate::registry::{Metric, Registry, Series};
use crate::rule_state::{step, Phase, Reading, Transition};
use crate::rules::{Op, RepeatIntervals, Rule, Severity, Target, Watch};
use crate::series::{SeriesKey, Tag};
use crate::snapshot::HistogramSnapshot;
use crate::window::WindowConfig;

/// The rules of a monitor, their per-series states and the alert history.
pub(crate) struct RuleEngine {
    rules: Vec<RuleSlot>,
    /// The budgets; the rules of those with alerts are among `rules`.
    budgets: Vec<Budget>,
    /// Metric name → indices into `rules`.
    by_metric: FoldHashMap<Box<str>, Vec<usize>>,
    repeat: RepeatIntervals,
    history: VecDeque<AlertEvent>,
    history_limit: usize,
    next_id: u64,
}

struct RuleSlot {
    rule: Rule,
    name: Arc<str>,
    /// Only pairs that are not inactive.
    states: HashMap<SeriesKey, Tracked>,
}

struct Tracked {
    phase: Phase,
    /// The latest reading.
    value: Option<f64>,
    alert: Option<AlertRecord>,
}

struct AlertRecord {
    id: AlertId,
    fired_at: Timestamp,
    last_notified: Option<Timestamp>,
    acknowledged: bool,
}

/// `Err(DuplicateRule)` for the first of `added` that is among `existing`
/// or earlier in `added`.
fn first_duplicate<'a>(
    existing: impl Iterator<Item = &'a str>,
    added: impl Iterator<Item = &'a str>,
) -> Result<()> {
    let mut seen: std::collections::HashSet<&str> = existing.collect();
    match added.into_iter().find(|name| !seen.insert(name)) {
        Some(name) => Err(PerfError::DuplicateRule { name: name.into() }),
        None => Ok(()),
    }
}

/// A transition waiting for the notification pass.
struct Raw {
    rule: usize,
    series: SeriesKey,
    transition: Transition,
}

impl RuleEngine {
    pub(crate) fn new(repeat: RepeatIntervals, history_limit: usize) -> Self {
        RuleEngine {
            rules: Vec::new(),
            budgets: Vec::new(),
            by_metric: FoldHashMap::default(),
            repeat,
            history: VecDeque::new(),
            history_limit,
            next_id: 1,
        }
    }

    /// Adds validated rules and budgets (whose rules are among `rules`),
    /// all or none: every rule name and every budget name must be new.
    pub(crate) fn install(&mut self, rules: Vec<Rule>, budgets: Vec<Budget>) -> Result<()> {
        let rule_names = self.rules.iter().map(|slot| slot.rule.name.as_str());
        first_duplicate(rule_names, rules.iter().map(|rule| rule.name.as_str()))?;
        let budget_names = self.budgets.iter().map(|budget| budget.name.as_str());
        first_duplicate(budget_names, budgets.iter().map(|b| b.name.as_str()))?;
        for rule in rules {
            let index = self.rules.len();
            self.by_metric
                .entry(rule.watch.target.metric().into())
                .or_default()
                .push(index);
            self.rules.push(RuleSlot {
                name: rule.name.as_str().into(),
                rule,
                states: HashMap::new(),
            });
        }
        self.budgets.extend(budgets);
        Ok(())
    }

    /// Removes a rule and its alerts (without notifying: nothing resolved).
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.remove_where(|rule| rule.name == name)
    }

    /// Removes the budget `name`, its rules and their alerts.
    pub(crate) fn remove_budget(&mut self, name: &str) -> bool {
        let Some(i) = self.budgets.iter().position(|b| b.name == name) else {
            return false;
        };
        let budget = self.budgets.remove(i);
        let names: Vec<String> = budget.rules().into_iter().map(|r| r.name).collect();
        self.remove_where(|rule| names.contains(&rule.name));
        true
    }

    fn remove_where(&mut self, doomed: impl Fn(&Rule) -> bool) -> bool {
        let before = self.rules.len();
        self.rules.retain(|slot| !doomed(&slot.rule));
        self.by_metric.clear();
        for (i, slot) in self.rules.iter().enumerate() {
            let metric = slot.rule.watch.target.metric();
            self.by_metric.entry(metric.into()).or_default().push(i);
        }
        self.rules.len() != before
    }

    pub(crate) fn rules(&self) -> Vec<Rule> {
        self.rules.iter().map(|slot| slot.rule.clone()).collect()
    }

    pub(crate) fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    /// Evaluates every rule at `now`; returns the notifications to deliver
    /// (already added to the history).
    pub(crate) fn evaluate(
        &mut self,
        registry: &Registry,
        windows: Option<&WindowConfig>,
        now: Timestamp,
    ) -> Vec<AlertEvent> {
        let mut raw = Vec::new();
        let mut transitions = Vec::new();
        registry.for_each(|key, series| {
            let Some(indices) = self.by_metric.get(key.name()) else {
                return;
            };
            let mut reader = SeriesReader::new(registry, series, windows, now);
            for &i in indices {
                let slot = &mut self.rules[i];
                if !slot.rule.applies_to(key) {
                    continue;
                }
                let Some(reading) = reader.read(&slot.rule.watch, key, slot.rule.limits()) else {
                    continue; // another kind of series: the rule does not apply
                };
                transitions.clear();
                slot.advance(key, reading, now, &mut transitions, &mut self.next_id);
                raw.extend(transitions.drain(..).map(|transition| Raw {
                    rule: i,
                    series: key.clone(),
                    transition,
                }));
            }
        });
        let events = self.notify(raw, now);
        self.record_history(&events);
        events
    }

    /// Turns transitions into notifications: inhibition, late `Fired`s,
    /// repeats and acknowledgement (see `alerts`).
    fn notify(&mut self, mut raw: Vec<Raw>, now: Timestamp) -> Vec<AlertEvent> {
        let strongest = self.strongest_per_series();
        raw.sort_by(|a, b| (a.rule, &a.series).cmp(&(b.rule, &b.series)));
        let mut events = Vec::new();
        let mut raw = raw.into_iter().peekable();
        for (i, slot) in self.rules.iter_mut().enumerate() {
            let mut keys: Vec<SeriesKey> = slot.states.keys().cloned().collect();
            while let Some(r) = raw.next_if(|r| r.rule == i) {
                let Some(t) = slot.states.get_mut(&r.series) else {
                    continue;
                };
                let inhibited = is_inhibited(t, &r.series, &strongest);
                if let Some(event) = slot_event(
                    &slot.name,
                    &slot.rule,
                    &r.series,
                    t,
                    r.transition,
                    inhibited,
                    now,
                ) {
                    events.push(event);
                }
            }
            keys.sort();
            for key in keys {
                let Some(t) = slot.states.get_mut(&key) else {
                    continue;
                };
                let inhibited = is_inhibited(t, &key, &strongest);
                if let Some(event) = self_owed(
                    &slot.name,
                    &slot.rule,
                    &key,
                    t,
                    inhibited,
                    &self.repeat,
                    now,
                ) {
                    events.push(event);
                }
            }
            slot.states.retain(|_, t| t.phase != Phase::Inactive);
        }
        events
    }

    /// The highest active alert severity per series (for inhibition).
    fn strongest_per_series(&self) -> HashMap<SeriesKey, Severity> {
        let mut strongest: HashMap<SeriesKey, Severity> = HashMap::new();
        for slot in &self.rules {
            for (key, t) in &slot.states {
                if let Some(s) = t.phase.alert_severity() {
                    let e = strongest.entry(key.clone()).or_insert(s);
                    *e = (*e).max(s);
                }
            }
        }
        strongest
    }

    fn record_history(&mut self, events: &[AlertEvent]) {
        for event in events {
            if self.history.len() == self.history_limit {
                self.history.pop_front();
            }
            if self.history_limit > 0 {
                self.history.push_back(event.clone());
            }
        }
    }

    pub(crate) fn history(&self) -> Vec<AlertEvent> {
        self.history.iter().cloned().collect()
    }

    /// Active alerts, by rule then series.
    pub(crate) fn alerts(&self) -> Vec<Alert> {
        let strongest = self.strongest_per_series();
        let mut all = Vec::new();
        for slot in &self.rules {
            let mut keys: Vec<&SeriesKey> = slot.states.keys().collect();
            keys.sort();
            for key in keys {
                let t = &slot.states[key];
                let (Some(record), Some(severity)) = (&t.alert, t.phase.alert_severity()) else {
                    continue;
                };
                all.push(Alert {
                    id: record.id,
                    rule: slot.name.clone(),
                    series: key.clone(),
                    severity,
                    state: match t.phase {
                        Phase::Recovering { .. } => AlertState::Recovering,
                        _ => AlertState::Firing,
                    },
                    value: t.value,
                    threshold: fire_threshold(&slot.rule, severity),
                    fired_at: record.fired_at,
                    last_notified: record.last_notified,
                    acknowledged: record.acknowledged,
                    inhibited: is_inhibited(t, key, &strongest),
                });
            }
        }
        all
    }

    /// Whether a rule named `name` exists.
    pub(crate) fn has_rule(&self, name: &str) -> bool {
        self.rules.iter().any(|slot| slot.rule.name == name)
    }

    /// The strongest active alert of the rule `name` at `at_least` or
    /// above (ties: the first series in order): its series, the rule's
    /// comparison, the latest reading and the fire threshold.
    pub(crate) fn strongest_alert(
        &self,
        name: &str,
        at_least: Severity,
    ) -> Option<(SeriesKey, Op, Option<f64>, f64)> {
        let slot = self.rules.iter().find(|slot| slot.rule.name == name)?;
        let active = slot.states.iter().filter_map(|(key, t)| {
            let severity = t.phase.alert_severity().filter(|&s| s >= at_least)?;
            Some((key, severity, t.value))
        });
        let (key, severity, value) = active.max_by(|a, b| (a.1, b.0).cmp(&(b.1, a.0)))?;
        let threshold = fire_threshold(&slot.rule, severity);
        Some((key.clone(), slot.rule.watch.op, value, threshold))
    }

    /// The id the next alert gets.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Takes over alerts another engine made (a process group's former
    /// leader): each active alert whose rule exists here and whose series
    /// has no state here carries on as firing, with its id, times and
    /// acknowledgement — so it is not fired again — and ids continue after
    /// `next_id`. The history is taken if this engine has none yet.
    pub(crate) fn adopt(&mut self, alerts: &[Alert], history: Vec<AlertEvent>, next_id: u64) {
        for alert in alerts {
            let Some(slot) = self.rules.iter_mut().find(|s| s.name == alert.rule) else {
                continue;
            };
            slot.states.entry(alert.series.clone()).or_insert(Tracked {
                phase: Phase::Firing {
                    severity: alert.severity,
                },
                value: alert.value,
                alert: Some(AlertRecord {
                    id: alert.id,
                    fired_at: alert.fired_at,
                    last_notified: alert.last_notified,
                    acknowledged: alert.acknowledged,
                }),
            });
        }
        self.next_id = self.next_id.max(next_id);
        if self.history.is_empty() {
            self.history = history.into();
            while self.history.len() > self.history_limit {
                self.history.pop_front();
            }
        }
    }

    pub(crate) fn acknowledge(&mut self, id: AlertId) -> Result<()> {
        let record = self
            .rules
            .iter_mut()
            .flat_map(|slot| slot.states.values_mut())
            .filter_map(|t| t.alert.as_mut())
            .find(|record| record.id == id);
        match record {
            Some(record) => {
                record.acknowledged = true;
                Ok(())
            }
            None => Err(PerfError::UnknownAlert { id: id.0 }),
        }
    }
}

impl RuleSlot {
    /// Steps the state of `(self, key)`.
    fn advance(
        &mut self,
        key: &SeriesKey,
        reading: Reading,
        now: Timestamp,
        out: &mut Vec<Transition>,
        next_id: &mut u64,
    ) {
        let value = match reading {
            Reading::Value(v) => Some(v),
            Reading::NoData => None,
        };
        let phase = self.states.get(key).map_or(Phase::Inactive, |t| t.phase);
        let next = step(&self.rule, phase, reading, now, out);
        if next == Phase::Inactive && out.is_empty() {
            self.states.remove(key);
            return;
        }
        let t = self.states.entry(key.clone()).or_insert(Tracked {
            phase,
            value,
            alert: None,
        });
        t.phase = next;
        t.value = value;
        if out.iter().any(|tr| matches!(tr, Transition::Fired(_))) {
            t.alert = Some(AlertRecord {
                id: AlertId(*next_id),
                fired_at: now,
                last_notified: None,
                acknowledged: false,
            });
            *next_id += 1;
        }
    }
}

fn is_inhibited(t: &Tracked, key: &SeriesKey, strongest: &HashMap<SeriesKey, Severity>) -> bool {
    match (t.phase.alert_severity(), strongest.get(key)) {
        (Some(own), Some(&top)) => own < top,
        _ => false,
    }
}

fn fire_threshold(rule: &Rule, severity: Severity) -> f64 {
    rule.level_for(severity).map_or(f64::NAN, |l| l.threshold)
}

fn clear_threshold(rule: &Rule, severity: Severity) -> f64 {
    rule.level_for(severity)
        .map_or(f64::NAN, |l| l.clear_threshold())
}

/// The notification for one transition of `t`, if any reaches subscribers.
fn slot_event(
    name: &Arc<str>,
    rule: &Rule,
    key: &SeriesKey,
    t: &mut Tracked,
    transition: Transition,
    inhibited: bool,
    now: Timestamp,
) -> Option<AlertEvent> {
    let record = t.alert.as_mut()?;
    let (kind, severity, previous, threshold) = match transition {
        Transition::Fired(s) => (AlertKind::Fired, s, None, fire_threshold(rule, s)),
        Transition::Escalated { from, to } => {
            record.acknowledged = false; // the new severity was not acknowledged
            (
                AlertKind::Escalated,
                to,
                Some(from),
                fire_threshold(rule, to),
            )
        }
        Transition::DeEscalated { from, to } => (
            AlertKind::DeEscalated,
            to,
            Some(from),
            fire_threshold(rule, to),
        ),
        Transition::Recovered(s) => (AlertKind::Recovered, s, None, clear_threshold(rule, s)),
        Transition::Relapsed(s) => (AlertKind::Relapsed, s, None, fire_threshold(rule, s)),
        Transition::Resolved { severity, .. } => (
            AlertKind::Resolved,
            severity,
            None,
            clear_threshold(rule, severity),
        ),
    };
    let resolved = kind == AlertKind::Resolved;
    let notified = record.last_notified.is_some();
    // An alert never announced stays silent while inhibited and when it
    // resolves — including the `Recovered` that precedes its `Resolved` in
    // the same evaluation (it is no longer active, so no longer counts as
    // inhibited); otherwise its first delivered event is a `Fired`.
    let gone = t.phase.alert_severity().is_none();
    let silent = if notified {
        inhibited && !resolved
    } else {
        inhibited || resolved || gone
    };
    if silent {
        if resolved {
            t.alert = None;
        }
        return None;
    }
    let (kind, previous, threshold) = if notified {
        (kind, previous, threshold)
    } else {
        let s = t.phase.alert_severity().unwrap_or(severity);
        return Some(announce(name, key, t, s, fire_threshold(rule, s), now));
    };
    // Every delivered event, `Recovered` included, restarts the repeat
    // interval (a repeat right after a recovery would say nothing new).
    record.last_notified = Some(now);
    let event = AlertEvent {
        id: record.id,
        kind,
        rule: name.clone(),
        series: key.clone(),
        severity,
        previous_severity: previous,
        value: t.value,
        threshold,
        at: now,
        fired_at: record.fired_at,
    };
    if resolved {
        t.alert = None;
    }
    Some(event)
}

/// A `Fired` for an alert announced late, or a repeat that is due.
fn self_owed(
    name: &Arc<str>,
    rule: &Rule,
    key: &SeriesKey,
    t: &mut Tracked,
    inhibited: bool,
    defaults: &RepeatIntervals,
    now: Timestamp,
) -> Option<AlertEvent> {
    let severity = t.phase.alert_severity()?;
    let record = t.alert.as_ref()?;
    if inhibited {
        return None;
    }
    let threshold = fire_threshold(rule, severity);
    let Some(last) = record.last_notified else {
        return Some(announce(name, key, t, severity, threshold, now));
    };
    let interval = rule.repeat.as_ref().unwrap_or(defaults).get(severity);
    // Never a repeat at the time of another notification (a zero interval
    // repeats at every later evaluation, not right after a `Fired`).
    let elapsed = now.saturating_duration_since(last);
    if record.acknowledged || elapsed.is_zero() || elapsed < interval {
        return None;
    }
    let record = t.alert.as_mut()?;
    record.last_notified = Some(now);
    Some(AlertEvent {
        id: record.id,
        kind: AlertKind::Repeated,
        rule: name.clone(),
        series: key.clone(),
        severity,
        previous_severity: None,
        value: t.value,
        threshold,
        at: now,
        fired_at: record.fired_at,
    })
}

/// The first delivered event of an alert: `Fired` at its current severity.
fn announce(
    name: &Arc<str>,
    key: &SeriesKey,
    t: &mut Tracked,
    severity: Severity,
    threshold: f64,
    now: Timestamp,
) -> AlertEvent {
    let record = t.alert.as_mut().expect("announced alerts exist");
    record.last_notified = Some(now);
    AlertEvent {
        id: record.id,
        kind: AlertKind::Fired,
        rule: name.clone(),
        series: key.clone(),
        severity,
        previous_severity: None,
        value: t.value,
        threshold,
        at: now,
        fired_at: record.fired_at,
    }
}

/// Reads rule targets on one series (each counter window once; histogram
/// windows come from their running sums, which repeated reads reuse).
pub(crate) struct SeriesReader<'a> {
    registry: &'a Registry,
    series: &'a Series,
    windows: Option<&'a WindowConfig>,
    now: Timestamp,
    increases: Vec<(Duration, Option<u64>)>,
}

impl<'a> SeriesReader<'a> {
    pub(crate) fn new(
        registry: &'a Registry,
        series: &'a Series,
        windows: Option<&'a WindowConfig>,
        now: Timestamp,
    ) -> Self {
        SeriesReader {
            registry,
            series,
            windows,
            now,
            increases: Vec::new(),
        }
    }

    /// The reading of `watch` on the series `key` (which the watch
    /// applies to), or `None` if the series is of another kind. `limits`
    /// are the thresholds the reading will be compared with: a percentile
    /// within a limit's bucket reads as that limit
    /// (`Statistic::compared_with`).
    pub(crate) fn read(
        &mut self,
        watch: &Watch,
        key: &SeriesKey,
        limits: impl IntoIterator<Item = f64>,
    ) -> Option<Reading> {
        let enough = |n: u64| n >= watch.min_samples;
        let value = |v: Option<f64>| Some(v.map_or(Reading::NoData, Reading::Value));
        let window = watch.window;
        match &watch.target {
            Target::Histogram { stat, .. } => {
                let stat = |s: &HistogramSnapshot| {
                    enough(s.count())
                        .then(|| stat.compared_with(s, limits))
                        .flatten()
                };
                value(self.histogram(window, stat)?)
            }
            Target::CounterRate { .. } => {
                let increase = self.increase(window)?;
                let seconds = self.windows?.rounded(window).as_secs_f64();
                value(increase.filter(|&n| enough(n)).map(|n| n as f64 / seconds))
            }
            Target::CounterRatio { denominator, .. } => {
                let numerator = self.increase(window)?;
                let denominator = self.denominator(denominator, key, window);
                let ratio = match (numerator, denominator) {
                    (Some(n), Some(d)) if d > 0 && enough(d) => Some(n as f64 / d as f64),
                    _ => None,
                };
                value(ratio)
            }
            Target::Gauge { .. } => match &self.series.metric {
                Metric::Gauge(core) => Some(Reading::Value(core.value())),
                _ => None,
            },
            Target::ChangePoint { stat, .. } => {
                let per_interval =
                    |s: &HistogramSnapshot| enough(s.count()).then(|| stat.of(s)).flatten();
                value(
                    self.interval_values(window, per_interval)?
                        .and_then(|v| latest_step(&v)),
                )
            }
        }
    }

    /// `f` of each complete interval's values within `window` (those `f`
    /// finds a value for): `None` if not a histogram, `Some(None)` if the
    /// window cannot be read.
    fn interval_values(
        &self,
        window: Duration,
        f: impl Fn(&HistogramSnapshot) -> Option<f64>,
    ) -> Option<Option<Vec<f64>>> {
        if !matches!(self.series.metric, Metric::Histogram(_)) {
            return None;
        }
        let read = self
            .windows
            .map(|config| self.series.interval_snapshots(config, self.now, window));
        let snapshots = read.and_then(|r| r.ok().flatten());
        Some(snapshots.map(|all| all.iter().filter_map(&f).collect()))
    }

    /// `f` of the window's values (read from the window's running sum):
    /// `None` if not a histogram, `Some(None)` if the window cannot be read
    /// (windows disabled or too long) or `f` found no value.
    fn histogram(
        &self,
        window: Duration,
        f: impl FnOnce(&HistogramSnapshot) -> Option<f64>,
    ) -> Option<Option<f64>> {
        if !matches!(self.series.metric, Metric::Histogram(_)) {
            return None;
        }
        let Some(config) = self.windows else {
            return Some(None);
        };
        let read = self.series.read_window(config, self.now, window, f);
        Some(read.ok().flatten().flatten())
    }

    fn increase(&mut self, window: Duration) -> Option<Option<u64>> {
        if !matches!(self.series.metric, Metric::Counter(_)) {
            return None;
        }
        if let Some((_, n)) = self.increases.iter().find(|(w, _)| *w == window) {
            return Some(*n);
        }
        let n = self.windows.and_then(|config| {
            self.series
                .window_increase(config, self.now, window)
                .ok()
                .flatten()
        });
        self.increases.push((window, n));
        Some(n)
    }

    /// The increase of the denominator series with the same tags.
    fn denominator(&self, name: &str, key: &SeriesKey, window: Duration) -> Option<u64> {
        let config = self.windows?;
        let tags: Vec<Tag<'_>> = key.tags().collect();
        self.registry
            .with_existing(name, &tags, |series| {
                series
                    .window_increase(config, self.now, window)
                    .ok()
                    .flatten()
            })
            .ok()
            .flatten()
    }
}

/// Fewer intervals with values than this read as no data for a
/// [`Target::ChangePoint`].
pub(crate) const CHANGE_POINT_MIN_INTERVALS: usize = 10;

/// The relative change of the latest change point in `values` (0 if none),
/// or `None` if there are too few values to tell.
fn latest_step(values: &[f64]) -> Option<f64> {
    if values.len() < CHANGE_POINT_MIN_INTERVALS {
        return None;
    }
    let found = detect_change_points(values, &ChangePointConfig::default()).ok()?;
    Some(found.last().map_or(0.0, |point| point.relative_change))
}

/// Everything alerting keeps in a monitor: the rule engine, the
/// subscribers, and the dispatcher that delivers to them.
pub(crate) struct Alerting {
    engine: Mutex<RuleEngine>,
    subscribers: Arc<Subscribers<AlertEvent>>,
    /// Held while an evaluation runs and submits its events, so events
    /// reach the dispatcher in evaluation order; reentrant, so code that
    /// holds it (a monitor's `evaluate`) may evaluate the rules inside.
    delivery: ReentrantMutex<()>,
    dispatcher: Arc<Dispatcher>,
    panics: Arc<AtomicU64>,
    panics_counter: CountMirror,
    dropped_counter: CountMirror,
}

/// Name of the counter of subscriber panics.
pub const SUBSCRIBER_PANICS_COUNTER: &str = "perf_core_alert_subscriber_panics_total";

/// Name of the counter of notifications dropped because the dispatcher's
/// queue was full.
pub const NOTIFICATIONS_DROPPED_COUNTER: &str = "perf_core_notifications_dropped_total";

impl Alerting {
    /// No rules, no subscribers; `repeat` and `history_limit` as the
    /// [`RuleEngine`] takes them; notifications go through `dispatcher`.
    pub(crate) fn new(
        repeat: RepeatIntervals,
        history_limit: usize,
        dispatcher: Arc<Dispatcher>,
    ) -> Self {
        Alerting {
            engine: Mutex::new(RuleEngine::new(repeat, history_limit)),
            subscribers: Arc::default(),
            delivery: ReentrantMutex::new(()),
            dispatcher,
            panics: Arc::default(),
            panics_counter: CountMirror::new(SUBSCRIBER_PANICS_COUNTER),
            dropped_counter: CountMirror::new(NOTIFICATIONS_DROPPED_COUNTER),
        }
    }

    /// The rules, their states and the alert history, behind their lock.
    pub(crate) fn engine(&self) -> &Mutex<RuleEngine> {
        &self.engine
    }

    /// Holds evaluations back until the guard drops: events of evaluations
    /// made meanwhile on other threads are submitted after it.
    pub(crate) fn in_order(&self) -> ReentrantMutexGuard<'_, ()> {
        self.delivery.lock()
    }

    /// Whether the current thread holds [`Alerting::in_order`] (is
    /// evaluating).
    pub(crate) fn delivering_here(&self) -> bool {
        self.delivery.is_owned_by_current_thread()
    }

    /// Evaluates every rule at `now`, hands the notifications to the
    /// dispatcher (never waiting for a subscriber) and returns them.
    pub(crate) fn evaluate(
        &self,
        registry: &Registry,
        windows: Option<&WindowConfig>,
        now: Timestamp,
    ) -> Vec<AlertEvent> {
        let _in_order = self.in_order();
        let events = self.engine.lock().evaluate(registry, windows, now);
        self.submit(&events);
        events
    }

    /// Queues each event for the subscribers of the moment it is
    /// delivered; nothing when nobody is subscribed.
    fn submit(&self, events: &[AlertEvent]) {
        if self.subscribers.is_empty() {
            return;
        }
        for event in events {
            let subscribers = Arc::clone(&self.subscribers);
            let panics = Arc::clone(&self.panics);
            let event = event.clone();
            self.dispatcher.submit(Box::new(move || {
                subscribers.deliver(std::slice::from_ref(&event), || {
                    panics.fetch_add(1, Ordering::Relaxed);
                });
            }));
        }
    }

    /// Brings the panic and drop counts into their counters in `registry`
    /// (each created on its first non-zero count): the process's own
    /// registry, so in multi-process mode they are published like any
    /// counter.
    pub(crate) fn mirror_counts(&self, registry: &Registry) {
        let panics = self.panics.load(Ordering::Relaxed);
        self.panics_counter.catch_up(panics, registry);
        self.dropped_counter
            .catch_up(self.dispatcher.dropped(), registry);
    }

    /// Adds a subscriber to every notification.
    pub(crate) fn subscribe(&self, f: Subscriber<AlertEvent>) -> SubscriptionId {
        self.subscribers.add(f)
    }

    /// Removes a subscriber. Returns whether it was subscribed.
    pub(crate) fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.subscribers.remove(id)
    }

    /// Subscriber panics caught so far.
    pub(crate) fn subscriber_panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }
}

/// A registry counter that follows a count kept elsewhere (an atomic
/// updated off the registry's reach), created on the first non-zero one.
struct CountMirror {
    name: &'static str,
    counter: OnceLock<Arc<CounterCore>>,
    /// What the counter has been given so far.
    reported: Mutex<u64>,
}

impl CountMirror {
    fn new(name: &'static str) -> Self {
        CountMirror {
            name,
            counter: OnceLock::new(),
            reported: Mutex::new(0),
        }
    }

    /// Adds to the counter what `total` has gained since the last call.
    fn catch_up(&self, total: u64, registry: &Registry) {
        let mut reported = self.reported.lock();
        if total > *reported {
            let counter = self
                .counter
                .get_or_init(|| registry.internal_counter(self.name, &[]));
            counter.increment(total - *reported);
            *reported = total;
        }
    }
}
