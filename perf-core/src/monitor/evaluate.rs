//! Evaluation runs on a monitor: [`Monitor::evaluate`] on demand (rules,
//! then emergency triggers), and the background evaluator, whose thread
//! [`crate::evaluator`] runs.

use std::sync::Arc;
use std::time::Duration;

use super::Monitor;
use crate::alerts::AlertEvent;
use crate::error::Result;
use crate::evaluator::Evaluator;

/// Evaluation, on demand and in the background.
impl Monitor {
    /// Evaluates every rule at the clock's now and delivers the
    /// notifications to the subscribers, then reads the emergency triggers
    /// and makes the emergency transition due (delivered to its listeners).
    /// Returns the alert notifications. Deterministic with a
    /// [`crate::ManualClock`].
    ///
    /// In multi-process mode only the group's leader evaluates (over the
    /// merged view), so each notification is delivered once for the group:
    /// in another process this takes the lead if no process holds it, and
    /// otherwise evaluates nothing and returns no notification.
    pub fn evaluate(&self) -> Vec<AlertEvent> {
        if !self.leads() {
            return Vec::new();
        }
        let _in_order = self.inner.alerting.in_order();
        let now = self.now();
        let events = self.evaluate_rules(now);
        self.evaluate_emergency(now);
        self.publish_alerts();
        events
    }

    /// Starts the background evaluator: [`Monitor::evaluate`] every
    /// `interval` (at least 1 ms) on its own thread — or every
    /// [`crate::EmergencyConfig::evaluate_every`] while emergency mode is
    /// on —, replacing a running one. It stops with [`Monitor::stop`] or
    /// when the last clone of the monitor is dropped.
    pub fn start(&self, interval: Duration) -> Result<()> {
        self.after_fork();
        self.stop();
        let first = self.next_wait(interval);
        // The slot stays locked until the new evaluator is in it: a
        // subscriber that calls `stop` from the first evaluation then finds
        // it there, instead of nothing to stop.
        let mut slot = self.inner.evaluator.lock();
        let evaluator =
            Evaluator::start(Arc::downgrade(&self.inner), interval, first, move |inner| {
                let monitor = Monitor {
                    inner,
                    local_only: false,
                };
                monitor.evaluate();
                monitor.next_wait(interval)
            })?;
        let replaced = slot.replace(evaluator);
        drop(slot);
        // Another thread's `start` that ran between our `stop` and the lock.
        if let Some(old) = replaced {
            old.stop(!self.inner.alerting.delivering_here());
        }
        Ok(())
    }

    /// Whether this process evaluates: always outside multi-process mode;
    /// in it, if it leads the group (taking the lead if it is free).
    fn leads(&self) -> bool {
        self.after_fork();
        self.take_lead()
    }

    /// The background evaluator's next wait: `interval`, or
    /// [`crate::EmergencyConfig::evaluate_every`] while emergency mode is on.
    fn next_wait(&self, interval: Duration) -> Duration {
        self.emergency().interval_while_active().unwrap_or(interval)
    }

    /// Stops the background evaluator, waiting for a running evaluation to
    /// finish — unless called from a subscriber, where it only asks the
    /// evaluator to stop: a background evaluation may be waiting for this
    /// delivery to end, so waiting for it would deadlock. Does nothing if
    /// none runs.
    pub fn stop(&self) {
        self.after_fork();
        let evaluator = self.inner.evaluator.lock().take();
        if let Some(evaluator) = evaluator {
            evaluator.stop(!self.inner.alerting.delivering_here());
        }
    }

    /// Whether the background evaluator runs.
    pub fn is_evaluating(&self) -> bool {
        self.after_fork();
        self.inner.evaluator.lock().is_some()
    }
}
