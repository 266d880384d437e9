//! A monitor after `fork()`: the child gets a copy of the monitor's memory
//! but none of its threads. On its first use in the child (or at once with
//! [`Monitor::after_fork`]) the monitor *adopts* the copy: it forgets the
//! parent's threads without touching them, starts its own, restarts the
//! background evaluator if one ran, and in multi-process mode joins the
//! group as a new process whose published state leaves out what the parent
//! had recorded before the fork (the parent still publishes that), so
//! nothing is counted twice. See `docs/multiprocess.md`.

use std::sync::atomic::Ordering::{Acquire, Release};

use super::Monitor;

/// Adopts, in a child process just forked, every monitor of this process
/// that is in multi-process mode ([`Monitor::after_fork`] on each), so
/// those that only record still publish from now on. Call it right after
/// `fork()` in the child, from ordinary code (not a signal or fork
/// handler); the Python binding does, from `os.register_at_fork`. Does
/// nothing in a process that was not forked.
///
/// ```
/// perf_core::after_fork(); // not forked: nothing to do
/// ```
pub fn after_fork() {
    crate::lifecycle::adopt_all();
}

impl Monitor {
    /// Adopts a monitor inherited through `fork()` in the child process:
    /// background threads (ticker, publisher, evaluator) start again, and
    /// in multi-process mode this process joins the group under a new
    /// identity. Does nothing in the process that built the monitor, and
    /// is idempotent.
    ///
    /// Every method but recording calls it first, so a child adopts the
    /// monitor on its first read, export or publish; call it right after
    /// `fork()` in a child that only records (the Python binding does, from
    /// `os.register_at_fork`), or its state is published only when the
    /// monitor drops.
    ///
    /// ```
    /// let monitor = perf_core::Monitor::builder().build()?;
    /// monitor.after_fork(); // not forked: nothing to do
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn after_fork(&self) {
        if self.inner.owner_pid.load(Acquire) == std::process::id() {
            return;
        }
        let _adopting = self.inner.adoption.lock();
        if self.inner.owner_pid.load(Acquire) == std::process::id() {
            return; // another thread of this child adopted it meanwhile
        }
        let inner = &self.inner;
        inner.abandon_threads();
        inner.dispatcher.after_fork();
        let evaluator = inner.evaluator.lock().take();
        let interval = evaluator.map(|e| {
            let interval = e.interval();
            e.abandon();
            interval
        });
        if let Some(group) = &inner.group {
            // A failure leaves the group's status with the reason; the
            // monitor still records and reads locally.
            let _ = group.rejoin(&inner.registry);
        }
        inner.owner_pid.store(std::process::id(), Release);
        inner.start_threads();
        if let Some(interval) = interval {
            // The interval was accepted before, so this cannot fail on it.
            let _ = self.start(interval);
        }
    }
}
