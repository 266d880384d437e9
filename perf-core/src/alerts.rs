//! Alerts and their notifications: what subscribers receive and what
//! [`crate::Monitor::alerts`] lists.
//!
//! Notification is separate from state (`rule_state`). An alert exists from
//! the moment its (rule, series) fires until it resolves, under one
//! [`AlertId`]. What reaches subscribers follows three policies:
//!
//! * **Repeats**: while an alert stays active, a [`AlertKind::Repeated`]
//!   event follows the last notification after the repeat interval of its
//!   severity ([`crate::RepeatIntervals`]; critical 5 min, error 15 min,
//!   warning 1 h, info 4 h by default).
//! * **Acknowledgement**: [`crate::Monitor::acknowledge`] stops the repeats
//!   of an alert; an escalation is still notified (and ends the
//!   acknowledgement: the new severity was not acknowledged). Resolving ends
//!   it too.
//! * **Inhibition**: while an alert of a higher severity is active on the
//!   same series, lower ones are *inhibited*: their notifications are held
//!   back. An inhibited alert whose `Fired` was never sent is never reported
//!   as resolved; one that outlives the inhibiting alert is then notified as
//!   `Fired`.
//!
//! Subscribers are called on the monitor's notification thread (the
//! `dispatch` module), after the evaluation's state is committed: an
//! evaluation never waits for them, and they may call back into the
//! monitor. One that panics is caught; the others still run, and the panic
//! is counted in the `perf_core_alert_subscriber_panics_total` counter.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::{ReentrantMutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::rules::Severity;
use crate::series::SeriesKey;

/// Identifies one alert from firing to resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(pub u64);

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What happened to an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A level held for `for`: the alert starts.
    Fired,
    /// A higher level holds: the severity rose at once.
    Escalated,
    /// The alert's level stayed cleared for `clear_for` while a lower level
    /// still holds: the severity fell.
    DeEscalated,
    /// The alert's level cleared; it resolves if it stays cleared for
    /// `clear_for`.
    Recovered,
    /// The level held again before `clear_for` passed: firing again.
    Relapsed,
    /// The alert ended. `value` is `None` when it ended for lack of data
    /// ([`crate::NoDataPolicy::Resolve`]).
    Resolved,
    /// Still active after the repeat interval.
    Repeated,
}

impl AlertKind {
    /// The lowercase name (`"de_escalated"`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Fired => "fired",
            AlertKind::Escalated => "escalated",
            AlertKind::DeEscalated => "de_escalated",
            AlertKind::Recovered => "recovered",
            AlertKind::Relapsed => "relapsed",
            AlertKind::Resolved => "resolved",
            AlertKind::Repeated => "repeated",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One notification.
///
/// ```
/// use perf_core::{AlertKind, ManualClock, Monitor, Rule, Severity, Target, Timestamp};
/// let clock = ManualClock::new(Timestamp::ZERO);
/// let monitor = Monitor::builder().clock(clock.clone()).build()?;
/// monitor.add_rule(Rule::new("slow", Target::percentile("lat", 95.0)).level(Severity::Warning, 100.0))?;
/// monitor.record("lat", &[], 250.0)?;
/// let events = monitor.evaluate();
/// assert_eq!(events[0].kind, AlertKind::Fired);
/// assert_eq!((events[0].severity, events[0].threshold), (Severity::Warning, 100.0));
/// assert_eq!(&*events[0].rule, "slow");
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The alert.
    pub id: AlertId,
    /// What happened.
    pub kind: AlertKind,
    /// The rule's name.
    pub rule: Arc<str>,
    /// The series (for ratios, the numerator's).
    pub series: SeriesKey,
    /// The alert's severity after the event.
    pub severity: Severity,
    /// The severity before an escalation or de-escalation.
    pub previous_severity: Option<Severity>,
    /// The reading that caused the event (the latest, for repeats); `None`
    /// for no data.
    pub value: Option<f64>,
    /// The threshold concerned: the fire threshold of `severity` for fired,
    /// escalated, de-escalated, relapsed and repeated; the clear threshold
    /// for recovered and resolved.
    pub threshold: f64,
    /// When it happened (the evaluation time).
    pub at: Timestamp,
    /// When the alert fired.
    pub fired_at: Timestamp,
}

/// Whether an active alert's level still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The level holds (or has not cleared).
    Firing,
    /// The level cleared; waiting for `clear_for`.
    Recovering,
}

/// An active alert, as [`crate::Monitor::alerts`] lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Its id (for [`crate::Monitor::acknowledge`]).
    pub id: AlertId,
    /// The rule's name.
    pub rule: Arc<str>,
    /// The series.
    pub series: SeriesKey,
    /// Current severity.
    pub severity: Severity,
    /// Firing or recovering.
    pub state: AlertState,
    /// The latest reading (`None`: no data).
    pub value: Option<f64>,
    /// The fire threshold of `severity`.
    pub threshold: f64,
    /// When it fired.
    pub fired_at: Timestamp,
    /// When a notification about it was last sent (`None`: never, because
    /// it has been inhibited since it fired).
    pub last_notified: Option<Timestamp>,
    /// Whether it was acknowledged (repeats are suppressed).
    pub acknowledged: bool,
    /// Whether a higher-severity alert on the same series holds back its
    /// notifications.
    pub inhibited: bool,
}

/// Identifies a subscription, for [`crate::Monitor::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub u64);

/// A callback for events of type `E`.
pub(crate) type Subscriber<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// Callbacks for events of type `E`: a monitor's alert subscribers, its
/// emergency listeners.
///
/// Invariant: `delivering` is held for the whole of each delivery, and
/// [`Subscribers::remove`] takes it after taking the subscriber out of the
/// list, so once `remove` returns the removed callback is neither running
/// nor about to run — except when `remove` is called from a callback, on
/// the delivering thread, where the (reentrant) lock does not wait.
pub(crate) struct Subscribers<E> {
    list: RwLock<Vec<(SubscriptionId, Subscriber<E>)>>,
    next: AtomicU64,
    delivering: ReentrantMutex<()>,
}

impl<E> Default for Subscribers<E> {
    fn default() -> Self {
        Subscribers {
            list: RwLock::new(Vec::new()),
            next: AtomicU64::new(0),
            delivering: ReentrantMutex::new(()),
        }
    }
}

impl<E> Subscribers<E> {
    pub(crate) fn add(&self, f: Subscriber<E>) -> SubscriptionId {
        let id = SubscriptionId(self.next.fetch_add(1, Relaxed));
        self.list.write().push((id, f));
        id
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.read().is_empty()
    }

    /// Removes subscriber `id`; returns whether it was subscribed. Waits
    /// for a delivery in progress on another thread to end, so the removed
    /// callback is not running once this returns.
    pub(crate) fn remove(&self, id: SubscriptionId) -> bool {
        let removed = {
            let mut list = self.list.write();
            let before = list.len();
            list.retain(|(i, _)| *i != id);
            list.len() != before
        };
        drop(self.delivering.lock());
        removed
    }

    /// Calls every subscriber with every event, in order. A panicking
    /// subscriber is caught and counted with `on_panic`; the others still
    /// run. The list's lock is not held while subscribers run (they may
    /// subscribe and unsubscribe); only the delivery gate is, which makes
    /// an unsubscribe from another thread wait for the delivery to end.
    pub(crate) fn deliver(&self, events: &[E], on_panic: impl Fn()) {
        if events.is_empty() {
            return;
        }
        let _delivering = self.delivering.lock();
        let list: Vec<Subscriber<E>> = self.list.read().iter().map(|(_, f)| f.clone()).collect();
        for event in events {
            for f in &list {
                if catch_unwind(AssertUnwindSafe(|| f(event))).is_err() {
                    on_panic();
                }
            }
        }
    }
}
