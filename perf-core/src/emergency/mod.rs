//! Emergency mode: one process-wide flag the application reads on its hot
//! path to shed load or degrade, switched by triggers and by hand.
//!
//! # Semantics
//!
//! * **Triggers** ([`Trigger`]) are either a threshold on a target, read
//!   like a rule's (any series the trigger applies to), or a reference to a
//!   rule (holding while the rule has an active alert at a severity or
//!   above). A trigger *holds* once its condition has been true at every
//!   evaluation for its `for`. An evaluation without data (no series, or
//!   fewer values than `min_samples`) changes nothing: no data never clears
//!   a trigger, and never starts one — a `for` that runs out during a
//!   silence activates at the next reading, if it is still true, as a
//!   pending rule fires.
//! * **Activation**: at an evaluation where any trigger holds and read
//!   data, the mode
//!   turns on for at least the *dwell*: `min_dwell`, or — when it re-enters
//!   within `flap_window` of its last exit — twice the previous automatic
//!   dwell, at most `max_dwell` (flap back-off).
//! * **Deactivation**: when every trigger's condition has been false for
//!   `clear_for` and the dwell has passed.
//! * **Manual control** takes precedence: [`Emergency::activate`] holds the
//!   mode on until [`Emergency::deactivate`]; triggers cannot end it (an
//!   automatic activation taken over this way is recorded as
//!   [`EmergencyChange::Held`]). [`Emergency::deactivate`] ends the mode at
//!   once, whatever the dwell, and restarts the triggers: a trigger still
//!   true must hold for its full `for` again, counted from the
//!   deactivation, before the mode re-enters.
//! * Every change is an [`EmergencyTransition`] with a reason, its source,
//!   a timestamp and the triggering values, kept in a bounded history and
//!   delivered to listeners in history order, on the monitor's
//!   notification thread: switching the mode never waits for a listener,
//!   and no lock is held while listeners run, so they may switch the mode
//!   or evaluate. A listener that panics is caught and counted; the others
//!   still run.
//!
//! The configuration's values (triggers, timings) are in [`config`], what
//! the mode reports (transitions, status) in [`transition`]; this module is
//! the state machine, and [`group`] shares it between processes.
//!
//! Triggers are read by [`Monitor::evaluate`](crate::Monitor::evaluate)
//! (and the background evaluator), after the rules, at the clock's now — so
//! every transition is deterministic under a [`crate::ManualClock`].
//!
//! # Memory model
//!
//! [`Emergency::is_active`] is one `Acquire` load of a word (0 off, 1 on):
//! the monitor's own, or in multi-process mode the group's, in shared
//! memory (see [`group`]). The word is written only under the state lock,
//! with `Release`, after the transition is in the history: a thread that
//! sees the mode on also sees the transition that turned it on in
//! [`Emergency::history`] (in a group, the group's state document is
//! written first, and both under the group's lock).
//!
//! ```
//! use perf_core::{EmergencyConfig, ManualClock, Monitor, Op, Target, Timestamp, Trigger, TriggerCondition};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new(Timestamp::ZERO);
//! let monitor = Monitor::builder().clock(clock.clone()).build()?;
//! let slow = TriggerCondition::new(Target::percentile("api.response_time", 95.0), Op::Gt, 1000.0);
//! monitor.configure_emergency(
//!     EmergencyConfig::default()
//!         .trigger(Trigger::condition(slow).for_duration(Duration::from_secs(60)))
//!         .clear_for(Duration::from_secs(120))
//!         .min_dwell(Duration::from_secs(300)),
//! )?;
//! let emergency = monitor.emergency();
//! for _ in 0..=60 {
//!     monitor.record("api.response_time", &[], 1500.0)?;
//!     monitor.evaluate();
//!     clock.advance(Duration::from_secs(1));
//! }
//! assert!(emergency.is_active());
//! println!("{}", emergency.history()[0]);
//! # Ok::<(), perf_core::PerfError>(())
//! ```

pub(crate) mod config;
mod group;
mod transition;

use self::config::{invalid, text};
pub use self::config::{
    EmergencyConfig, Trigger, TriggerCondition, TriggerSource, DEFAULT_CLEAR_FOR,
    DEFAULT_FLAP_WINDOW, DEFAULT_MAX_DWELL, DEFAULT_MIN_DWELL,
};
pub use self::transition::{
    EmergencyChange, EmergencySource, EmergencyStatus, EmergencyTransition, TriggerStatus,
    TriggerValue,
};

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::alerts::{Subscribers, SubscriptionId};
use crate::clock::{Clock, Timestamp};
use crate::dispatch::Dispatcher;
use crate::error::Result;
use crate::evaluation::{RuleEngine, SeriesReader};
use crate::multiproc::SharedEmergency;
use crate::registry::Registry;
use crate::rule_state::Reading;
use crate::rules::Rule;
use crate::series::SeriesKey;
use crate::window::WindowConfig;

/// The process-wide mode: cheap to read from any thread, switched by
/// triggers at each evaluation and by hand.
///
/// Obtained with [`Monitor::emergency`](crate::Monitor::emergency); clones
/// share the mode.
///
/// ```
/// use perf_core::{EmergencyChange, EmergencySource, Monitor};
/// let monitor = Monitor::builder().build()?;
/// let emergency = monitor.emergency().clone();
/// assert!(!emergency.is_active());
/// emergency.activate("database failover")?;
/// assert!(emergency.is_active());
/// emergency.deactivate("failover done")?;
/// let history = emergency.history();
/// assert_eq!((history[0].change, &history[0].source), (EmergencyChange::Activated, &EmergencySource::Manual));
/// assert_eq!(history[1].reason, "failover done");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone)]
pub struct Emergency {
    shared: Arc<Shared>,
}

struct Shared {
    /// The mode, 0 off or 1 on; written only under `state`, after the
    /// history. In multi-process mode the group's word is the mode instead.
    active: AtomicU32,
    /// In multi-process mode: the group's word and state document.
    group: Option<Arc<SharedEmergency>>,
    state: Mutex<State>,
    listeners: Subscribers<EmergencyTransition>,
    listener_panics: AtomicU64,
    clock: Arc<dyn Clock>,
    /// Delivers transitions to the listeners, off the switching thread.
    dispatcher: Arc<Dispatcher>,
}

/// Everything behind the lock.
struct State {
    config: EmergencyConfig,
    /// Parallel to `config.triggers`.
    triggers: Vec<TriggerState>,
    mode: Mode,
    /// Since when every trigger's condition has been false.
    clear_since: Option<Timestamp>,
    last_exit: Option<Timestamp>,
    /// The dwell of the last automatic activation (for the back-off).
    last_dwell: Option<Duration>,
    history: VecDeque<EmergencyTransition>,
    history_limit: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Mode {
    Off,
    Auto { since: Timestamp, dwell: Duration },
    Manual { since: Timestamp },
}

struct TriggerState {
    name: Arc<str>,
    /// Since when the condition has been true at every evaluation.
    true_since: Option<Timestamp>,
    /// Whether the latest evaluation read data.
    fresh: bool,
    last: Option<TriggerValue>,
}

/// What one evaluation read for a trigger.
#[derive(Clone, Debug, Default)]
struct TriggerReading {
    /// `None`: no data.
    truth: Option<bool>,
    /// The most extreme series read.
    value: Option<TriggerValue>,
}

impl TriggerState {
    fn new(trigger: &Trigger) -> TriggerState {
        TriggerState {
            name: trigger.name.as_str().into(),
            true_since: None,
            fresh: false,
            last: None,
        }
    }

    fn observe(&mut self, reading: TriggerReading, now: Timestamp) {
        match reading.truth {
            Some(true) => _ = self.true_since.get_or_insert(now),
            Some(false) => self.true_since = None,
            None => {}
        }
        // A reading with data replaces the last value (a rule reference
        // without an active alert has none); no data keeps it.
        self.fresh = reading.truth.is_some();
        if self.fresh {
            self.last = reading.value;
        }
    }

    fn holding(&self, trigger: &Trigger, now: Timestamp) -> bool {
        self.true_since
            .is_some_and(|since| now.saturating_duration_since(since) >= trigger.for_duration)
    }
}

impl TriggerReading {
    /// Counts one series' value of a condition trigger.
    fn observe(
        &mut self,
        trigger: &Arc<str>,
        condition: &TriggerCondition,
        key: &SeriesKey,
        value: f64,
    ) {
        let op = condition.watch.op;
        self.truth = Some(self.truth == Some(true) || condition.holds(value));
        let more_extreme = self
            .value
            .as_ref()
            .and_then(|v| v.value)
            .map_or(true, |old| {
                if op.is_upper_bound() {
                    value > old
                } else {
                    value < old
                }
            });
        if more_extreme {
            self.value = Some(TriggerValue {
                trigger: trigger.clone(),
                series: Some(key.clone()),
                value: Some(value),
                op,
                threshold: condition.threshold,
            });
        }
    }
}

impl State {
    fn new(history_limit: usize) -> State {
        State {
            config: EmergencyConfig::default(),
            triggers: Vec::new(),
            mode: Mode::Off,
            clear_since: None,
            last_exit: None,
            last_dwell: None,
            history: VecDeque::new(),
            history_limit,
        }
    }

    fn configure(&mut self, config: EmergencyConfig) {
        self.triggers = config.triggers.iter().map(TriggerState::new).collect();
        self.config = config;
        self.clear_since = None;
    }

    /// Counts one evaluation's readings and returns the transition due.
    fn step(
        &mut self,
        readings: Vec<TriggerReading>,
        now: Timestamp,
    ) -> Option<EmergencyTransition> {
        for (trigger, reading) in self.triggers.iter_mut().zip(readings) {
            trigger.observe(reading, now);
        }
        if self.triggers.iter().all(|t| t.true_since.is_none()) {
            self.clear_since.get_or_insert(now);
        } else {
            self.clear_since = None;
        }
        match self.mode {
            Mode::Off => self.auto_activation(now),
            Mode::Auto { since, dwell } => self.auto_deactivation(since, dwell, now),
            Mode::Manual { .. } => None,
        }
    }

    fn auto_activation(&mut self, now: Timestamp) -> Option<EmergencyTransition> {
        let holding: Vec<(&Trigger, &TriggerState)> = (self.config.triggers.iter())
            .zip(&self.triggers)
            .filter(|(trigger, state)| state.fresh && state.holding(trigger, now))
            .collect();
        if holding.is_empty() {
            return None;
        }
        let reason = holding
            .iter()
            .map(|(trigger, _)| format!("{} held for {}", trigger.name, text(trigger.for_duration)))
            .collect::<Vec<_>>()
            .join("; ");
        let names = holding
            .iter()
            .map(|(_, state)| state.name.clone())
            .collect();
        let values = holding
            .iter()
            .filter_map(|(_, state)| state.last.clone())
            .collect();
        let dwell = self.next_dwell(now);
        self.mode = Mode::Auto { since: now, dwell };
        self.last_dwell = Some(dwell);
        Some(EmergencyTransition {
            change: EmergencyChange::Activated,
            source: EmergencySource::Triggers(names),
            reason,
            at: now,
            values,
            dwell: Some(dwell),
        })
    }

    /// `min_dwell`, or twice the last automatic dwell (at most `max_dwell`)
    /// when re-entering within `flap_window` of the last exit.
    fn next_dwell(&self, now: Timestamp) -> Duration {
        let config = &self.config;
        let flapping = self
            .last_exit
            .is_some_and(|exit| now.saturating_duration_since(exit) < config.flap_window);
        match self.last_dwell {
            Some(last) if flapping => last
                .saturating_mul(2)
                .clamp(config.min_dwell, config.max_dwell),
            _ => config.min_dwell,
        }
    }

    fn auto_deactivation(
        &mut self,
        since: Timestamp,
        dwell: Duration,
        now: Timestamp,
    ) -> Option<EmergencyTransition> {
        let clear = now.saturating_duration_since(self.clear_since?);
        let on = now.saturating_duration_since(since);
        if clear < self.config.clear_for || on < dwell {
            return None;
        }
        self.mode = Mode::Off;
        self.last_exit = Some(now);
        let reason = format!(
            "all triggers clear for {} (on for {}, dwell {})",
            text(clear),
            text(on),
            text(dwell)
        );
        Some(EmergencyTransition {
            change: EmergencyChange::Deactivated,
            source: EmergencySource::Triggers(
                self.triggers.iter().map(|t| t.name.clone()).collect(),
            ),
            reason,
            at: now,
            values: self
                .triggers
                .iter()
                .filter_map(|t| t.last.clone())
                .collect(),
            dwell: None,
        })
    }

    fn manual_activation(&mut self, reason: &str, now: Timestamp) -> Option<EmergencyTransition> {
        let change = match self.mode {
            Mode::Manual { .. } => return None,
            Mode::Auto { .. } => EmergencyChange::Held,
            Mode::Off => EmergencyChange::Activated,
        };
        let since = match self.mode {
            Mode::Auto { since, .. } => since,
            _ => now,
        };
        self.mode = Mode::Manual { since };
        Some(manual(change, reason, now))
    }

    fn manual_deactivation(&mut self, reason: &str, now: Timestamp) -> Option<EmergencyTransition> {
        if self.mode == Mode::Off {
            return None;
        }
        self.mode = Mode::Off;
        self.last_exit = Some(now);
        for trigger in &mut self.triggers {
            trigger.true_since = trigger.true_since.map(|_| now);
        }
        Some(manual(EmergencyChange::Deactivated, reason, now))
    }

    fn record(&mut self, transition: &EmergencyTransition) {
        if self.history_limit == 0 {
            return;
        }
        if self.history.len() == self.history_limit {
            self.history.pop_front();
        }
        self.history.push_back(transition.clone());
    }

    fn status(&self, now: Timestamp) -> EmergencyStatus {
        let (since, dwell_until) = match self.mode {
            Mode::Off => (None, None),
            Mode::Auto { since, dwell } => (Some(since), Some(since + dwell)),
            Mode::Manual { since } => (Some(since), None),
        };
        let triggers = (self.config.triggers.iter())
            .zip(&self.triggers)
            .map(|(trigger, state)| TriggerStatus {
                name: state.name.clone(),
                holding: state.holding(trigger, now),
                true_since: state.true_since,
                last: state.last.clone(),
            })
            .collect();
        EmergencyStatus {
            active: self.mode != Mode::Off,
            manual: matches!(self.mode, Mode::Manual { .. }),
            since,
            dwell_until,
            triggers,
        }
    }
}

fn manual(change: EmergencyChange, reason: &str, now: Timestamp) -> EmergencyTransition {
    EmergencyTransition {
        change,
        source: EmergencySource::Manual,
        reason: reason.to_owned(),
        at: now,
        values: Vec::new(),
        dwell: None,
    }
}

impl Emergency {
    /// A mode of its own, or — given `group` — the process group's.
    pub(crate) fn new(
        clock: Arc<dyn Clock>,
        history_limit: usize,
        group: Option<Arc<SharedEmergency>>,
        dispatcher: Arc<Dispatcher>,
    ) -> Emergency {
        Emergency {
            shared: Arc::new(Shared {
                active: AtomicU32::new(0),
                group,
                state: Mutex::new(State::new(history_limit)),
                listeners: Subscribers::default(),
                listener_panics: AtomicU64::new(0),
                clock,
                dispatcher,
            }),
        }
    }

    /// Whether the mode is on: one atomic load, safe and cheap from any
    /// thread (benchmarked under 1 ns). In multi-process mode, the load of
    /// the group's word in shared memory.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.mode_word().load(Ordering::Acquire) != 0
    }

    /// The word the mode is read from: 0 off, 1 on. For bindings that
    /// read the mode without a call (Node.js maps its low byte into a
    /// `Uint8Array`); it lives as long as this `Emergency` or a clone, and
    /// only perf-core writes it.
    #[doc(hidden)]
    #[inline]
    pub fn mode_word(&self) -> &AtomicU32 {
        match &self.shared.group {
            None => &self.shared.active,
            Some(group) => group.word(),
        }
    }

    /// Turns the mode on by hand and holds it on until
    /// [`Emergency::deactivate`]: triggers cannot end it. Taking over an
    /// automatic activation records [`EmergencyChange::Held`]. Returns
    /// whether anything changed (`false` if already held by hand).
    /// Errors: [`PerfError::InvalidEmergency`](crate::PerfError::InvalidEmergency) if `reason` is blank.
    pub fn activate(&self, reason: &str) -> Result<bool> {
        self.switch(reason, State::manual_activation)
    }

    /// Turns the mode off by hand, at once, whatever the dwell. Triggers
    /// still true restart their `for` from now. Returns whether the mode
    /// was on. Errors: [`PerfError::InvalidEmergency`](crate::PerfError::InvalidEmergency) if `reason` is blank.
    pub fn deactivate(&self, reason: &str) -> Result<bool> {
        self.switch(reason, State::manual_deactivation)
    }

    fn switch(
        &self,
        reason: &str,
        change: fn(&mut State, &str, Timestamp) -> Option<EmergencyTransition>,
    ) -> Result<bool> {
        if reason.trim().is_empty() {
            return Err(invalid("reason".into(), "must not be blank".into()));
        }
        let now = self.shared.clock.now();
        Ok(self.transition(|state| change(state, reason, now)))
    }

    /// Makes the transition `f` returns (if any) under the lock and hands
    /// it to the dispatcher there, so transitions reach listeners in the
    /// order they were made; never waits for a listener. Returns whether
    /// there was a transition.
    fn transition(&self, f: impl FnOnce(&mut State) -> Option<EmergencyTransition>) -> bool {
        let shared = &self.shared;
        let mut state = shared.state.lock();
        let made = match &shared.group {
            Some(group) => Self::group_transition(group, &mut state, f),
            None => Self::local_transition(shared, &mut state, f),
        };
        let Some(transition) = made else {
            return false;
        };
        if !shared.listeners.is_empty() {
            let deliverer = Arc::clone(shared);
            shared.dispatcher.submit(Box::new(move || {
                let panics = &deliverer.listener_panics;
                deliverer
                    .listeners
                    .deliver(std::slice::from_ref(&transition), || {
                        panics.fetch_add(1, Ordering::Relaxed);
                    });
            }));
        }
        true
    }

    /// Makes and records the transition `f` returns, for this process.
    fn local_transition(
        shared: &Shared,
        state: &mut State,
        f: impl FnOnce(&mut State) -> Option<EmergencyTransition>,
    ) -> Option<EmergencyTransition> {
        let transition = f(state)?;
        state.record(&transition);
        let active = transition.change != EmergencyChange::Deactivated;
        shared.active.store(u32::from(active), Ordering::Release);
        Some(transition)
    }

    /// Makes and records the transition `f` returns for the whole group:
    /// on the group's state, under its lock, written back with the word.
    fn group_transition<F: FnOnce(&mut State) -> Option<EmergencyTransition>>(
        group: &SharedEmergency,
        state: &mut State,
        f: F,
    ) -> Option<EmergencyTransition> {
        let mut f = Some(f);
        let mut made = None;
        let mut step = |state: &mut State, f: Option<_>| {
            made = f.and_then(|f: F| f(state));
            if let Some(transition) = &made {
                state.record(transition);
            }
        };
        // If the document cannot be locked, the change is made here
        // alone; if it cannot be written, the change stands here.
        let _ = group.update(|bytes| {
            state.restore(bytes.as_deref());
            step(state, f.take());
            (state.persist(), state.is_on(), ())
        });
        if f.is_some() {
            step(state, f.take());
            group
                .word()
                .store(u32::from(state.is_on()), Ordering::Release);
        }
        made
    }

    /// The state to read: in multi-process mode, the group's latest.
    fn current_state(&self) -> parking_lot::MutexGuard<'_, State> {
        let mut state = self.shared.state.lock();
        if let Some(group) = &self.shared.group {
            state.restore(group.load().as_deref());
        }
        state
    }

    /// The latest transitions, oldest first (at most the monitor's
    /// `alert_history`, 1 000 by default).
    pub fn history(&self) -> Vec<EmergencyTransition> {
        self.current_state().history.iter().cloned().collect()
    }

    /// The mode and each trigger, at the clock's now.
    pub fn status(&self) -> EmergencyStatus {
        let now = self.shared.clock.now();
        self.current_state().status(now)
    }

    /// The configuration in effect.
    pub fn config(&self) -> EmergencyConfig {
        self.shared.state.lock().config.clone()
    }

    /// Calls `f` with every transition, in order, on the monitor's
    /// notification thread (never on the thread that switched the mode,
    /// which does not wait for it). A panic in `f` is caught and counted
    /// ([`Emergency::listener_panics`]); other listeners still run.
    pub fn subscribe(
        &self,
        f: impl Fn(&EmergencyTransition) + Send + Sync + 'static,
    ) -> SubscriptionId {
        self.shared.listeners.add(Arc::new(f))
    }

    /// Removes a listener. Returns whether it was subscribed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.shared.listeners.remove(id)
    }

    /// Waits until every notification made so far (this mode's
    /// transitions and the monitor's alert events, which share one
    /// notification thread) has reached its callbacks, at most `timeout`;
    /// returns whether all have. See
    /// [`Monitor::flush_notifications`](crate::Monitor::flush_notifications).
    ///
    /// ```
    /// use std::time::Duration;
    /// let monitor = perf_core::Monitor::builder().build()?;
    /// let emergency = monitor.emergency();
    /// emergency.subscribe(|t| println!("{:?}: {}", t.change, t.reason));
    /// emergency.activate("drill")?;
    /// assert!(emergency.flush_notifications(Duration::from_secs(5)));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn flush_notifications(&self, timeout: Duration) -> bool {
        self.shared.dispatcher.flush(timeout)
    }

    /// Listener panics caught so far.
    pub fn listener_panics(&self) -> u64 {
        self.shared.listener_panics.load(Ordering::Relaxed)
    }

    /// The background evaluator's interval while the mode is on, if the
    /// configuration sets one.
    pub(crate) fn interval_while_active(&self) -> Option<Duration> {
        if !self.is_active() {
            return None;
        }
        self.shared.state.lock().config.evaluate_every
    }
}

impl fmt::Debug for Emergency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emergency")
            .field("active", &self.is_active())
            .finish_non_exhaustive()
    }
}

/// What the monitor hands emergency mode: checks against its rules and
/// windows, and trigger readings from its series and alerts.
impl EmergencyConfig {
    /// Checks the configuration ([`EmergencyConfig::validate`]) against a
    /// monitor whose rules are those of `engine` and `new_rules`, and
    /// whose windows `check_window` checks. Errors:
    /// [`PerfError::InvalidEmergency`] naming the field — a rule reference
    /// to no rule (`triggers[0].rule`), a window that cannot be read
    /// (`triggers[0].window`).
    pub(crate) fn check_against(
        &self,
        engine: &Mutex<RuleEngine>,
        new_rules: &[Rule],
        check_window: impl Fn(Duration) -> Result<()>,
    ) -> Result<()> {
        self.validate()?;
        let engine = engine.lock();
        for (i, trigger) in self.triggers.iter().enumerate() {
            match &trigger.source {
                TriggerSource::Rule { rule, .. } => {
                    let known = engine.has_rule(rule) || new_rules.iter().any(|r| &r.name == rule);
                    if !known {
                        let reason = format!("no rule named {rule:?}");
                        return Err(invalid(format!("triggers[{i}].rule"), reason));
                    }
                }
                TriggerSource::Condition(c) => {
                    if let Some(window) = c.watch.reads_window() {
                        check_window(window).map_err(|err| {
                            invalid(format!("triggers[{i}].window"), err.to_string())
                        })?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Emergency {
    /// Replaces the configuration, checked by the caller
    /// ([`EmergencyConfig::check_against`]). Triggers start afresh; the mode
    /// itself is kept.
    pub(crate) fn configure(&self, config: EmergencyConfig) {
        self.shared.state.lock().configure(config);
    }

    /// Reads the triggers at `now` and makes the transition due, if any:
    /// conditions from the series of `registry` (over `windows`), rule
    /// references from the alerts of `engine`, locked while they are read.
    pub(crate) fn evaluate_triggers(
        &self,
        registry: &Registry,
        windows: Option<&WindowConfig>,
        engine: &Mutex<RuleEngine>,
        now: Timestamp,
    ) {
        self.transition(|state| {
            if state.triggers.is_empty() && state.mode == Mode::Off {
                return None;
            }
            let readings = state.read_triggers(registry, windows, engine, now);
            state.step(readings, now)
        });
    }
}

impl State {
    /// Every trigger's reading at `now`, in configuration order.
    fn read_triggers(
        &self,
        registry: &Registry,
        windows: Option<&WindowConfig>,
        engine: &Mutex<RuleEngine>,
        now: Timestamp,
    ) -> Vec<TriggerReading> {
        let mut readings = vec![TriggerReading::default(); self.triggers.len()];
        self.read_rules(&engine.lock(), &mut readings);
        let condition = |t: &Trigger| matches!(t.source, TriggerSource::Condition(_));
        if self.config.triggers.iter().any(condition) {
            self.read_conditions(registry, windows, now, &mut readings);
        }
        readings
    }

    /// The readings of the rule-reference triggers: whether the rule has an
    /// alert at the trigger's severity or above, and the strongest one.
    fn read_rules(&self, engine: &RuleEngine, readings: &mut [TriggerReading]) {
        let triggers = self.config.triggers.iter().zip(&self.triggers);
        for ((trigger, t), reading) in triggers.zip(readings) {
            let TriggerSource::Rule { rule, severity } = &trigger.source else {
                continue;
            };
            let strongest = engine.strongest_alert(rule, *severity);
            reading.truth = Some(strongest.is_some());
            reading.value = strongest.map(|(series, op, value, threshold)| TriggerValue {
                trigger: t.name.clone(),
                series: Some(series),
                value,
                op,
                threshold,
            });
        }
    }

    /// The readings of the condition triggers: one pass over the registry.
    fn read_conditions(
        &self,
        registry: &Registry,
        windows: Option<&WindowConfig>,
        now: Timestamp,
        readings: &mut [TriggerReading],
    ) {
        registry.for_each(|key, series| {
            let mut reader: Option<SeriesReader<'_>> = None;
            let triggers = self.config.triggers.iter().zip(&self.triggers);
            for ((trigger, t), reading) in triggers.zip(readings.iter_mut()) {
                let TriggerSource::Condition(condition) = &trigger.source else {
                    continue;
                };
                if !condition.watch.applies_to(key) {
                    continue;
                }
                let reader =
                    reader.get_or_insert_with(|| SeriesReader::new(registry, series, windows, now));
                let read = reader.read(&condition.watch, key, [condition.threshold]);
                if let Some(Reading::Value(value)) = read {
                    reading.observe(&t.name, condition, key, value);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Op, Target};

    const S: Duration = Duration::from_secs(1);

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    /// A state with one condition trigger (`for` 2 s) and short timings.
    fn state() -> State {
        let condition = TriggerCondition::new(Target::percentile("lat", 95.0), Op::Gt, 100.0);
        let mut state = State::new(10);
        state.configure(
            EmergencyConfig::default()
                .trigger(Trigger::condition(condition).for_duration(2 * S))
                .clear_for(3 * S)
                .min_dwell(10 * S)
                .flap_window(60 * S)
                .max_dwell(25 * S),
        );
        state
    }

    fn reading(truth: Option<bool>) -> Vec<TriggerReading> {
        vec![TriggerReading { truth, value: None }]
    }

    #[test]
    fn a_trigger_holds_after_its_for_and_no_data_changes_nothing() {
        let mut s = state();
        assert_eq!(s.step(reading(Some(true)), at(0)), None);
        assert_eq!(
            s.step(reading(None), at(1)),
            None,
            "no data keeps the clock running"
        );
        let on = s.step(reading(Some(true)), at(2)).expect("held for 2 s");
        assert_eq!(
            (on.change, on.dwell),
            (EmergencyChange::Activated, Some(10 * S))
        );
        assert_eq!(on.reason, "p95(lat) > 100 held for 2s");
    }

    #[test]
    fn deactivation_waits_for_clear_for_and_the_dwell() {
        let mut s = state();
        s.step(reading(Some(true)), at(0));
        s.step(reading(Some(true)), at(2)).expect("on at 2 s");
        assert_eq!(s.step(reading(Some(false)), at(3)), None);
        assert_eq!(
            s.step(reading(None), at(6)),
            None,
            "clear for 3 s, dwell not over"
        );
        let off = s
            .step(reading(Some(false)), at(12))
            .expect("dwell over at 12 s");
        assert_eq!(off.change, EmergencyChange::Deactivated);
        assert_eq!(s.mode, Mode::Off);
    }

    #[test]
    fn the_dwell_doubles_on_flapping_up_to_max_and_resets_when_calm() {
        let mut s = state();
        s.mode = Mode::Off;
        s.last_exit = Some(at(100));
        s.last_dwell = Some(10 * S);
        assert_eq!(s.next_dwell(at(120)), 20 * S);
        s.last_dwell = Some(20 * S);
        assert_eq!(s.next_dwell(at(120)), 25 * S, "bounded by max_dwell");
        assert_eq!(
            s.next_dwell(at(160)),
            10 * S,
            "a calm flap_window resets it"
        );
    }

    #[test]
    fn manual_activation_holds_and_manual_deactivation_restarts_triggers() {
        let mut s = state();
        s.step(reading(Some(true)), at(0));
        let on = s.step(reading(Some(true)), at(2)).expect("auto on");
        assert_eq!(on.change, EmergencyChange::Activated);
        let held = s
            .manual_activation("incident 42", at(3))
            .expect("taken over");
        assert_eq!(held.change, EmergencyChange::Held);
        assert_eq!(s.manual_activation("again", at(4)), None);
        for t in 5..100 {
            assert_eq!(
                s.step(reading(Some(false)), at(t)),
                None,
                "triggers cannot end it"
            );
        }
        s.step(reading(Some(true)), at(100));
        let off = s
            .manual_deactivation("fixed", at(101))
            .expect("off at once");
        assert_eq!(
            (off.change, off.source),
            (EmergencyChange::Deactivated, EmergencySource::Manual)
        );
        assert_eq!(s.triggers[0].true_since, Some(at(101)));
        assert_eq!(
            s.step(reading(Some(true)), at(102)),
            None,
            "for restarts at 101"
        );
        assert!(s.step(reading(Some(true)), at(103)).is_some());
    }

    #[test]
    fn history_is_bounded() {
        let mut s = State::new(2);
        for t in 0..5 {
            let transition = manual(EmergencyChange::Activated, "r", at(t));
            s.record(&transition);
        }
        let kept: Vec<Timestamp> = s.history.iter().map(|t| t.at).collect();
        assert_eq!(kept, [at(3), at(4)]);
    }
}
