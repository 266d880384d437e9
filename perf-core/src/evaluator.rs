//! Evaluation runs: [`Monitor::evaluate`] on demand (rules, then emergency
//! triggers), and the background evaluator — a thread that evaluates at an
//! interval until it is stopped or its monitor is dropped.
//!
//! The thread holds only a weak reference to the monitor, so it never keeps
//! it alive; dropping the monitor drops the stop channel's sender, which
//! wakes the thread and ends it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

use crate::alerts::AlertEvent;
use crate::error::{PerfError, Result};
use crate::monitor::Monitor;

/// A running background evaluator.
pub(crate) struct Evaluator {
    /// Dropping (or sending on) this ends the thread.
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Evaluator {
    /// Starts a thread that calls `run` on the target while the target
    /// lives: first after `first` (`interval` is the one checked), then
    /// after the wait `run` returns.
    pub(crate) fn start<T: Send + Sync + 'static>(
        target: Weak<T>,
        interval: Duration,
        first: Duration,
        run: impl Fn(Arc<T>) -> Duration + Send + 'static,
    ) -> Result<Evaluator> {
        if interval < Duration::from_millis(1) {
            return Err(PerfError::InvalidConfig(format!(
                "the evaluation interval must be at least 1 ms, got {interval:?}"
            )));
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("perf-core-evaluator".into())
            .spawn(move || {
                let mut wait = first;
                loop {
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    let Some(target) = target.upgrade() else {
                        return;
                    };
                    wait = run(target);
                }
            })
            .map_err(|e| PerfError::InvalidConfig(format!("cannot start the evaluator: {e}")))?;
        Ok(Evaluator { stop, thread })
    }

    /// The evaluator thread's id.
    pub(crate) fn thread_id(&self) -> ThreadId {
        self.thread.thread().id()
    }

    /// Stops the thread and, if `wait`, waits for it — never when called
    /// from the thread itself (from a subscriber), where it only asks it to
    /// stop.
    pub(crate) fn stop(self, wait: bool) {
        let _ = self.stop.send(());
        if wait && thread::current().id() != self.thread_id() {
            let _ = self.thread.join();
        }
    }
}

/// Evaluation, on demand and in the background.
impl Monitor {
    /// Evaluates every rule at the clock's now and delivers the
    /// notifications to the subscribers, then reads the emergency triggers
    /// and makes the emergency transition due (delivered to its listeners).
    /// Returns the alert notifications. Deterministic with a
    /// [`crate::ManualClock`].
    pub fn evaluate(&self) -> Vec<AlertEvent> {
        let _in_order = self.inner.alerting.delivery.lock();
        let now = self.now();
        let events = self.evaluate_rules(now);
        self.evaluate_emergency(now);
        events
    }

    /// Starts the background evaluator: [`Monitor::evaluate`] every
    /// `interval` (at least 1 ms) on its own thread — or every
    /// [`crate::EmergencyConfig::evaluate_every`] while emergency mode is
    /// on —, replacing a running one. It stops with [`Monitor::stop`] or
    /// when the last clone of the monitor is dropped.
    pub fn start(&self, interval: Duration) -> Result<()> {
        self.stop();
        let first = self.next_wait(interval);
        let evaluator =
            Evaluator::start(Arc::downgrade(&self.inner), interval, first, move |inner| {
                let monitor = Monitor { inner };
                monitor.evaluate();
                monitor.next_wait(interval)
            })?;
        *self.inner.alerting.evaluator.lock() = Some(evaluator);
        Ok(())
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
        let alerting = &self.inner.alerting;
        let evaluator = alerting.evaluator.lock().take();
        if let Some(evaluator) = evaluator {
            evaluator.stop(!alerting.delivery.is_owned_by_current_thread());
        }
    }

    /// Whether the background evaluator runs.
    pub fn is_evaluating(&self) -> bool {
        self.inner.alerting.evaluator.lock().is_some()
    }
}
