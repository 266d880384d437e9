//! The background evaluator: a thread that runs an evaluation at an
//! interval until it is stopped or its target is dropped. What it runs is
//! up to its owner ([`crate::Monitor::start`] evaluates the monitor).
//!
//! The thread holds only a weak reference to its target, so it never keeps
//! it alive; dropping the target drops the [`Evaluator`] it owns, and with
//! it the stop channel's sender, which wakes the thread and ends it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

use crate::error::{PerfError, Result};

/// A running background evaluator.
pub(crate) struct Evaluator {
    /// Dropping (or sending on) this ends the thread.
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
    interval: Duration,
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
                    // The strong reference lives only inside the step, so a
                    // fork never copies one into a child.
                    let next = crate::lifecycle::background_step(|| target.upgrade().map(&run));
                    let Some(next) = next else {
                        return;
                    };
                    wait = next;
                }
            })
            .map_err(|e| PerfError::InvalidConfig(format!("cannot start the evaluator: {e}")))?;
        Ok(Evaluator {
            stop,
            thread,
            interval,
        })
    }

    /// The interval it was started with.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Lets go of an evaluator inherited through `fork()`, whose thread
    /// does not exist in this process: neither joined nor signalled (its
    /// handle and channel are copies of the parent's), only forgotten.
    pub(crate) fn abandon(self) {
        std::mem::forget(self);
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
