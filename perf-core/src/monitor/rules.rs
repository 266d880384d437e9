//! Rules, budgets, alerts and their subscribers on a monitor: the public
//! face of the rule engine in [`crate::evaluation`].

use std::sync::Arc;
use std::time::Duration;

use super::Monitor;
use crate::alerts::{Alert, AlertEvent, AlertId, SubscriptionId};
use crate::budget::Budget;
use crate::clock::Timestamp;
#[cfg(doc)]
use crate::error::PerfError;
use crate::error::Result;
use crate::rules::Rule;

/// Rules, evaluation and alerts.
impl Monitor {
    /// Adds a rule. Errors: the rule is invalid ([`PerfError::InvalidRule`]),
    /// its name is taken, or its window cannot be read (windows disabled,
    /// or longer than the retention).
    ///
    /// ```
    /// use perf_core::{Monitor, Rule, Severity, Target};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.add_rule(Rule::new("errors", Target::ratio("http.errors", "http.requests"))
    ///     .level(Severity::Warning, 0.01)
    ///     .level(Severity::Critical, 0.05))?;
    /// assert_eq!(monitor.rules().len(), 1);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn add_rule(&self, rule: Rule) -> Result<()> {
        self.install(vec![rule], Vec::new()).map(drop)
    }

    /// Adds rules and budgets all or none: checks every one (and that its
    /// windows can be read), that every name is new, then adds them all.
    /// Returns how many rules and budgets were added.
    pub(super) fn install(&self, rules: Vec<Rule>, budgets: Vec<Budget>) -> Result<usize> {
        let added = rules.len() + budgets.len();
        for budget in &budgets {
            budget.validate()?;
            for window in budget.items.iter().filter_map(|item| item.window) {
                self.check_window(window)?;
            }
        }
        let rules: Vec<Rule> = rules
            .into_iter()
            .chain(budgets.iter().flat_map(Budget::rules))
            .collect();
        for rule in &rules {
            rule.validate()?;
            if let Some(window) = rule.watch.reads_window() {
                self.check_window(window)?;
            }
        }
        self.inner
            .alerting
            .engine()
            .lock()
            .install(rules, budgets)?;
        Ok(added)
    }

    /// Adds a budget, and the rules raising its alerts if it has
    /// [`Budget::alerts`]. Errors: the budget or a rule it generates is
    /// invalid ([`PerfError::InvalidRule`] naming the budget and the field,
    /// e.g. `items[2].poor`), its name or a rule name is taken
    /// ([`PerfError::DuplicateRule`]), or a window cannot be read.
    ///
    /// ```
    /// use perf_core::{Budget, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.add_budget(Budget::web_vitals())?;
    /// monitor.add_budget(Budget::api_latency("api", "http.server.duration", 100.0, 300.0, 800.0))?;
    /// assert_eq!(monitor.budgets().len(), 2);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn add_budget(&self, budget: Budget) -> Result<()> {
        self.install(Vec::new(), vec![budget]).map(drop)
    }

    /// Removes the budget `name` and its rules, dropping their alerts
    /// without notifying. Returns whether it existed.
    pub fn remove_budget(&self, name: &str) -> bool {
        self.inner.alerting.engine().lock().remove_budget(name)
    }

    /// The budgets, in the order they were added.
    pub fn budgets(&self) -> Vec<Budget> {
        self.inner.alerting.engine().lock().budgets().to_vec()
    }

    /// Removes the rule `name` and drops its alerts without notifying (they
    /// did not resolve). Returns whether it existed.
    pub fn remove_rule(&self, name: &str) -> bool {
        self.inner.alerting.engine().lock().remove(name)
    }

    /// The rules, in the order they were added.
    pub fn rules(&self) -> Vec<Rule> {
        self.inner.alerting.engine().lock().rules()
    }

    /// Evaluates every rule at `now`, delivers the notifications to the
    /// subscribers and returns them.
    pub(super) fn evaluate_rules(&self, now: Timestamp) -> Vec<AlertEvent> {
        let inner = &self.inner;
        let events = inner
            .alerting
            .evaluate(&self.view(), inner.windows.as_ref(), now);
        inner.alerting.mirror_counts(&inner.registry);
        events
    }

    /// Calls `f` with every notification, in order, on the monitor's
    /// notification thread: an evaluation hands its notifications over
    /// and returns without waiting for `f` (see
    /// [`Monitor::flush_notifications`]). A panic in `f` is caught and
    /// counted in `perf_core_alert_subscriber_panics_total`; other
    /// subscribers still run.
    pub fn subscribe(&self, f: impl Fn(&AlertEvent) + Send + Sync + 'static) -> SubscriptionId {
        self.inner.alerting.subscribe(Arc::new(f))
    }

    /// Removes a subscriber. Returns whether it was subscribed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.inner.alerting.unsubscribe(id)
    }

    /// Subscriber panics caught so far.
    pub fn subscriber_panics(&self) -> u64 {
        self.inner.alerting.subscriber_panics()
    }

    /// Waits until every notification made so far (alert events and
    /// emergency transitions) has reached its callbacks, at most
    /// `timeout`; returns whether all have. From inside a callback it does
    /// not wait (the callback is the delivery) and returns whether nothing
    /// else is waiting. Also brings the subscriber-panic and drop counts
    /// into their exported counters.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use perf_core::{ManualClock, Monitor, Rule, Severity, Target, Timestamp};
    /// let clock = ManualClock::new(Timestamp::ZERO);
    /// let monitor = Monitor::builder().clock(clock.clone()).build()?;
    /// monitor.add_rule(Rule::new("slow", Target::percentile("api", 50.0)).level(Severity::Warning, 10.0))?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// monitor.subscribe(move |event| sink.lock().unwrap().push(event.rule.clone()));
    /// monitor.record("api", &[], 50.0)?;
    /// assert_eq!(monitor.evaluate().len(), 1); // returns without waiting
    /// assert!(monitor.flush_notifications(Duration::from_secs(5)));
    /// assert_eq!(seen.lock().unwrap().len(), 1);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn flush_notifications(&self, timeout: Duration) -> bool {
        let delivered = self.inner.dispatcher.flush(timeout);
        self.inner.alerting.mirror_counts(&self.inner.registry);
        delivered
    }

    /// Notifications dropped because callbacks fell
    /// [`MonitorBuilder::notification_capacity`](crate::MonitorBuilder::notification_capacity)
    /// behind (also exported as `perf_core_notifications_dropped_total`).
    ///
    /// ```
    /// let monitor = perf_core::Monitor::builder().build()?;
    /// assert_eq!(monitor.notifications_dropped(), 0);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn notifications_dropped(&self) -> u64 {
        self.inner.dispatcher.dropped()
    }

    /// The active alerts (firing or recovering), by rule then series.
    ///
    /// In multi-process mode, the group's: in a process that does not lead
    /// the group, those the leader wrote after its latest evaluation.
    pub fn alerts(&self) -> Vec<Alert> {
        if let Some(document) = self.leader_alerts() {
            return document.alerts;
        }
        self.inner.alerting.engine().lock().alerts()
    }

    /// The latest notifications, oldest first (at most the builder's
    /// `alert_history`, 1 000 by default).
    /// In multi-process mode, the group's (as [`Monitor::alerts`]).
    pub fn alert_history(&self) -> Vec<AlertEvent> {
        if let Some(document) = self.leader_alerts() {
            return document.history;
        }
        self.inner.alerting.engine().lock().history()
    }

    /// Acknowledges an active alert: its repeats stop until it escalates or
    /// resolves. Errors with [`PerfError::UnknownAlert`] if it is not active.
    ///
    /// In multi-process mode, from a process that does not lead the group:
    /// the acknowledgement is left for the leader, which applies it at its
    /// next evaluation.
    pub fn acknowledge(&self, id: AlertId) -> Result<()> {
        if let Some(document) = self.leader_alerts() {
            return self.acknowledge_for_leader(&document, id);
        }
        self.inner.alerting.engine().lock().acknowledge(id)
    }
}
