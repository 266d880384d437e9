//! The notification dispatcher: delivers a monitor's notifications (alert
//! events, emergency transitions) to user callbacks on a thread of its
//! own, so that evaluation and emergency switching never wait for user
//! code.
//!
//! * **Bounded.** At most `capacity` notifications wait. When the queue is
//!   full a new notification is dropped, never waited for, and counted
//!   ([`Dispatcher::dropped`]; the monitor exports the count as
//!   `perf_core_notifications_dropped_total`).
//! * **Ordered.** One thread delivers, one notification at a time, in the
//!   order they were submitted. Callers submit under the lock that orders
//!   what they notify (an evaluation's events, the emergency state), so
//!   each kind is delivered in the order it happened.
//! * **Lazy.** The thread (`perf-core-notify`) starts with the first
//!   notification; a monitor without subscribers never has one. It ends
//!   once the dispatcher is dropped and the queue is drained.
//!
//! Memory model: the queue and the `busy` flag live under one mutex; the
//! thread clears `busy` and signals `idle` under it after each
//! notification, so [`Dispatcher::flush`] returning `true` means every
//! notification submitted before the call has been delivered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// One notification, ready to deliver to whoever is subscribed then.
pub(crate) type Notification = Box<dyn FnOnce() + Send + 'static>;

/// The default number of notifications that may wait.
pub const DEFAULT_NOTIFICATION_CAPACITY: usize = 10_000;

/// The largest queue a monitor may be given.
pub(crate) const MAX_NOTIFICATION_CAPACITY: usize = 10_000_000;

/// A bounded queue of notifications and the thread that delivers them.
pub(crate) struct Dispatcher {
    queue: Arc<Queue>,
}

struct Queue {
    capacity: usize,
    state: Mutex<State>,
    /// Signalled when a notification arrives or the dispatcher closes.
    ready: Condvar,
    /// Signalled when the queue is drained and nothing is being delivered.
    idle: Condvar,
    dropped: AtomicU64,
}

#[derive(Default)]
struct State {
    waiting: VecDeque<Notification>,
    /// A notification is being delivered.
    busy: bool,
    /// The delivering thread, once started.
    thread: Option<ThreadId>,
    started: bool,
    closed: bool,
}

impl Dispatcher {
    /// A dispatcher holding at most `capacity` waiting notifications.
    pub(crate) fn new(capacity: usize) -> Dispatcher {
        Dispatcher {
            queue: Arc::new(Queue {
                capacity,
                state: Mutex::new(State::default()),
                ready: Condvar::new(),
                idle: Condvar::new(),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Queues `notification` for delivery; never blocks. Returns `false`
    /// when the queue is full (the notification is dropped and counted) or
    /// the delivering thread could not be started.
    pub(crate) fn submit(&self, notification: Notification) -> bool {
        let mut state = self.queue.state.lock();
        if state.waiting.len() >= self.queue.capacity || !self.ensure_thread(&mut state) {
            self.queue.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        state.waiting.push_back(notification);
        self.queue.ready.notify_one();
        true
    }

    /// Starts the delivering thread unless it runs; false if it cannot.
    fn ensure_thread(&self, state: &mut State) -> bool {
        if state.started {
            return true;
        }
        let queue = Arc::clone(&self.queue);
        let spawned = thread::Builder::new()
            .name("perf-core-notify".into())
            .spawn(move || queue.deliver_until_closed());
        state.started = spawned.is_ok();
        state.thread = spawned.ok().map(|handle| handle.thread().id());
        state.started
    }

    /// Waits until every notification submitted so far has been
    /// delivered, at most `timeout`. Returns whether they all were. From
    /// a callback (the delivering thread) it cannot wait for itself and
    /// returns whether nothing else is waiting.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.queue.state.lock();
        if state.thread == Some(thread::current().id()) {
            return state.waiting.is_empty();
        }
        while state.busy || !state.waiting.is_empty() {
            if self.queue.idle.wait_until(&mut state, deadline).timed_out() {
                return !state.busy && state.waiting.is_empty();
            }
        }
        true
    }

    /// Notifications dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// In a child just forked: the delivering thread was the parent's, so
    /// the next notification starts one; what was waiting stays queued.
    pub(crate) fn after_fork(&self) {
        let mut state = match self.queue.state.try_lock_for(Duration::from_millis(100)) {
            Some(state) => state,
            None => {
                // SAFETY: in the child, no other thread exists; a lock held
                // at the fork belonged to a parent's thread that will never
                // release it here, and nothing else can be inside it.
                unsafe { self.queue.state.force_unlock() };
                self.queue.state.lock()
            }
        };
        state.started = false;
        state.thread = None;
        state.busy = false;
    }
}

impl Drop for Dispatcher {
    /// Lets the thread finish what waits, then end; does not wait for it
    /// (a callback may block).
    fn drop(&mut self) {
        self.queue.state.lock().closed = true;
        self.queue.ready.notify_one();
    }
}

impl Queue {
    /// The delivering thread: one notification at a time until closed
    /// and drained.
    fn deliver_until_closed(&self) {
        loop {
            let next = {
                let mut state = self.state.lock();
                state.busy = false;
                if state.waiting.is_empty() {
                    self.idle.notify_all();
                }
                while state.waiting.is_empty() && !state.closed {
                    self.ready.wait(&mut state);
                }
                let Some(next) = state.waiting.pop_front() else {
                    return;
                };
                state.busy = true;
                next
            };
            // Callers catch their callbacks' panics; this keeps the thread
            // alive should one slip through.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(next));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn notifications_arrive_in_order_on_one_other_thread() {
        let dispatcher = Dispatcher::new(100);
        let (tx, rx) = mpsc::channel();
        for i in 0..50 {
            let tx = tx.clone();
            dispatcher.submit(Box::new(move || {
                tx.send((i, thread::current().id())).unwrap()
            }));
        }
        assert!(dispatcher.flush(Duration::from_secs(5)));
        let received: Vec<_> = rx.try_iter().collect();
        assert_eq!(
            received.iter().map(|r| r.0).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        assert!(received.iter().all(|r| r.1 == received[0].1));
        assert_ne!(received[0].1, thread::current().id());
    }

    #[test]
    fn a_blocked_callback_never_blocks_submit_and_a_full_queue_drops() {
        let dispatcher = Dispatcher::new(3);
        let (release, wait) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel();
        dispatcher.submit(Box::new(move || {
            started_tx.send(()).unwrap();
            let _ = wait.recv();
        }));
        started.recv().unwrap();
        let begun = Instant::now();
        let accepted = (0..10)
            .filter(|_| dispatcher.submit(Box::new(|| {})))
            .count();
        assert!(begun.elapsed() < Duration::from_secs(1));
        assert_eq!(accepted, 3);
        assert_eq!(dispatcher.dropped(), 7);
        assert!(!dispatcher.flush(Duration::from_millis(50)));
        release.send(()).unwrap();
        assert!(dispatcher.flush(Duration::from_secs(5)));
    }

    #[test]
    fn a_panicking_notification_does_not_end_delivery() {
        let dispatcher = Dispatcher::new(10);
        dispatcher.submit(Box::new(|| panic!("callback bug")));
        let (tx, rx) = mpsc::channel();
        dispatcher.submit(Box::new(move || tx.send(()).unwrap()));
        assert!(dispatcher.flush(Duration::from_secs(5)));
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn flush_from_the_delivering_thread_does_not_wait_for_itself() {
        let dispatcher = Arc::new(Dispatcher::new(10));
        let (tx, rx) = mpsc::channel();
        let inner = Arc::clone(&dispatcher);
        dispatcher.submit(Box::new(move || {
            tx.send(inner.flush(Duration::from_secs(10))).unwrap();
        }));
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
    }

    #[test]
    fn nothing_submitted_means_no_thread_and_an_immediate_flush() {
        let dispatcher = Dispatcher::new(10);
        assert!(dispatcher.flush(Duration::ZERO));
        assert!(!dispatcher.queue.state.lock().started);
    }
}
