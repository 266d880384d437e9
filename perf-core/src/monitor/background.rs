//! The monitor's background threads: the ticker, which files window
//! intervals at each boundary, and in multi-process mode the publisher,
//! which publishes this process's state and compacts dead processes'
//! files. Each holds only a weak reference to the monitor and ends when
//! the monitor drops its stop channel (or the monitor is gone); each unit
//! of work runs in a [`crate::lifecycle::background_step`], so a `fork()` never
//! copies a lock one of them holds.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::MonitorInner;
use crate::clock::Timestamp;
use crate::lifecycle::background_step;
use crate::window::WindowConfig;

/// The stop channels of the running threads: dropping one wakes its
/// thread, which then ends.
#[derive(Default)]
pub(super) struct Threads {
    ticker: Option<mpsc::Sender<()>>,
    publisher: Option<mpsc::Sender<()>>,
}

impl MonitorInner {
    /// Starts the threads this monitor needs: the ticker if windows are on
    /// and the clock is real (a [`crate::ManualClock`] ticks on advance),
    /// the publisher in multi-process mode with a real clock. If a thread
    /// cannot be started, reads still tick what they read and the monitor
    /// still publishes when it drops.
    pub(super) fn start_threads(self: &Arc<Self>) {
        if self.clock.is_manual() {
            return;
        }
        let mut threads = self.threads.lock();
        if let Some(config) = self.windows {
            threads.ticker = spawn_ticker(Arc::downgrade(self), config);
        }
        if let Some(group) = &self.group {
            threads.publisher = spawn_publisher(Arc::downgrade(self), group.publish_interval());
        }
    }

    /// Lets go of the threads of a monitor inherited through `fork()`:
    /// they do not exist in this process, and their channels are copies
    /// that may be mid-update, so the senders are forgotten, not dropped.
    pub(super) fn abandon_threads(&self) {
        let mut threads = self.threads.lock();
        std::mem::forget(threads.ticker.take());
        std::mem::forget(threads.publisher.take());
        #[cfg(feature = "remote-write")]
        self.abandon_remote_write();
    }
}

/// Starts the thread that publishes this process's state every `interval`
/// and compacts dead processes' files.
fn spawn_publisher(monitor: Weak<MonitorInner>, interval: Duration) -> Option<mpsc::Sender<()>> {
    let (stop, stopped) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("perf-core-publisher".into())
        .spawn(move || loop {
            match stopped.recv_timeout(interval) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            // The strong reference lives only inside the step: a fork never
            // copies one into a child, where it would keep the monitor alive.
            let alive = background_step(|| {
                let Some(inner) = monitor.upgrade() else {
                    return false;
                };
                if let Some(group) = &inner.group {
                    // Failures are counted in the group's status.
                    let _ = group.publish(&inner.registry);
                    let _ = group.compact();
                }
                true
            });
            if !alive {
                return;
            }
        });
    spawned.ok().map(|_| stop)
}

/// Starts the thread that ticks at each interval boundary.
fn spawn_ticker(monitor: Weak<MonitorInner>, config: WindowConfig) -> Option<mpsc::Sender<()>> {
    let (stop, stopped) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("perf-core-ticker".into())
        .spawn(move || loop {
            // Strong references live only inside steps (see the publisher).
            let Some((now, boundary)) = background_step(|| {
                let now = monitor.upgrade()?.clock.now();
                Some((now, config.next_boundary(now)))
            }) else {
                return;
            };
            match stopped.recv_timeout(boundary - now) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            // File what was recorded up to the boundary under the interval
            // that just ended.
            let end = Timestamp::from_nanos(boundary.as_nanos().saturating_sub(1));
            let ticked = background_step(|| monitor.upgrade().map(|inner| inner.tick_all(end)));
            if ticked.is_none() {
                return;
            }
        });
    spawned.ok().map(|_| stop)
}
