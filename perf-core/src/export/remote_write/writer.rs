//! The writer: a background thread (`perf-core-remote-write`) that
//! collects every series on an interval, buffers the requests and sends
//! them oldest first, retrying with back-off; and at shutdown sends what
//! it can within the flush timeout.
//!
//! * **Never blocking recording.** Collection reads the registry as a
//!   scrape does; every network wait happens on this thread, bounded by
//!   the request timeout. Callers only take the short `control` lock.
//! * **Bounded.** Pending requests live in a [`Buffer`] of at most
//!   `buffer_bytes` compressed bytes; what does not fit is dropped, oldest
//!   first, and counted.
//! * **In order.** One request is in flight at a time, the oldest; a
//!   retried request is sent again before any newer one, so each series'
//!   samples reach the receiver in time order.
//! * **Counted.** Every collected sample ends as sent, failed (rejected by
//!   the receiver), dropped (no room, or still pending when the final
//!   flush ran out of time) or pending; retries are counted per attempt.
//!
//! Only this thread touches the buffer; others read its size from atomics.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use prost::Message;

use super::buffer::{Batch, Buffer};
use super::client::{Backoff, Client, Outcome};
use super::encode::sample_count;
use super::proto::WriteRequest;
use super::{RemoteWriteConfig, RemoteWriteStatus};
use crate::counter::CounterCore;

/// Collects every series now; `None` once the monitor is gone.
pub(crate) type Collect = Box<dyn FnMut() -> Option<WriteRequest> + Send>;

/// How long the thread waits, once the monitor is gone, for its last
/// collection (the monitor's drop hands it over right after).
const LAST_COLLECTION_WAIT: Duration = Duration::from_secs(1);

/// The self-metrics, perf-core's own counters in the monitor's registry.
pub(crate) struct SelfMetrics {
    pub(crate) sent: Arc<CounterCore>,
    pub(crate) failed: Arc<CounterCore>,
    pub(crate) dropped: Arc<CounterCore>,
    pub(crate) retries: Arc<CounterCore>,
}

/// A running writer; [`RemoteWriter::shutdown`] ends it.
pub(crate) struct RemoteWriter {
    shared: Arc<Shared>,
    thread: Option<ThreadId>,
    /// The longest a shutdown waits: a send under way, then the final flush.
    shutdown_wait: Duration,
}

struct Shared {
    control: Mutex<Control>,
    /// Signalled to the thread: stop, or a flush requested.
    wake: Condvar,
    /// Signalled by the thread: a flush done, or finished.
    done: Condvar,
    metrics: SelfMetrics,
    pending_bytes: AtomicUsize,
    pending_samples: AtomicU64,
    last_error: Mutex<Option<String>>,
}

#[derive(Default)]
struct Control {
    stop: bool,
    /// The last collection, handed over by the monitor's drop.
    last: Option<WriteRequest>,
    /// Flushes requested, and the last one whose collection has left the
    /// buffer.
    flush_requested: u64,
    flushed: u64,
    finished: bool,
}

impl RemoteWriter {
    /// Starts the thread; `None` if it cannot be started.
    pub(crate) fn start(
        config: &RemoteWriteConfig,
        collect: Collect,
        metrics: SelfMetrics,
    ) -> Option<RemoteWriter> {
        let shared = Arc::new(Shared {
            control: Mutex::new(Control::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            metrics,
            pending_bytes: AtomicUsize::new(0),
            pending_samples: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let worker = Worker {
            shared: Arc::clone(&shared),
            client: Client::new(&config.url, &config.headers),
            buffer: Buffer::new(config.buffer_bytes),
            backoff: Backoff::new(config.min_backoff, config.max_backoff),
            collect,
            interval: config.interval,
            timeout: config.timeout,
            flush_timeout: config.flush_timeout,
            attempt: 0,
            retry_at: Instant::now(),
            collected_for: 0,
        };
        let handle = std::thread::Builder::new()
            .name("perf-core-remote-write".into())
            .spawn(move || worker.run())
            .ok()?;
        Some(RemoteWriter {
            shared,
            thread: Some(handle.thread().id()),
            shutdown_wait: config.timeout + config.flush_timeout + LAST_COLLECTION_WAIT,
        })
    }

    /// The counts so far.
    pub(crate) fn status(&self) -> RemoteWriteStatus {
        let s = &self.shared;
        RemoteWriteStatus {
            samples_sent: s.metrics.sent.value(),
            samples_failed: s.metrics.failed.value(),
            samples_dropped: s.metrics.dropped.value(),
            retries: s.metrics.retries.value(),
            pending_samples: s.pending_samples.load(Ordering::Relaxed),
            pending_bytes: s.pending_bytes.load(Ordering::Relaxed),
            last_error: s.last_error.lock().clone(),
        }
    }

    /// Collects now and waits, at most `timeout`, until that collection
    /// and everything before it have left the buffer (sent, or rejected).
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut control = self.shared.control.lock();
        control.flush_requested += 1;
        let target = control.flush_requested;
        self.shared.wake.notify_all();
        while control.flushed < target && !control.finished {
            if self
                .shared
                .done
                .wait_until(&mut control, deadline)
                .timed_out()
            {
                break;
            }
        }
        control.flushed >= target
    }

    /// Stops the thread after a final flush of `last` and what is pending,
    /// waiting for it (bounded) unless called on the thread itself.
    pub(crate) fn shutdown(self, last: Option<WriteRequest>) {
        let deadline = Instant::now() + self.shutdown_wait;
        let mut control = self.shared.control.lock();
        control.stop = true;
        control.last = last;
        self.shared.wake.notify_all();
        if self.thread == Some(std::thread::current().id()) {
            return; // the thread finishes once this returns to it
        }
        while !control.finished {
            if self
                .shared
                .done
                .wait_until(&mut control, deadline)
                .timed_out()
            {
                return;
            }
        }
    }
}

/// The thread's state.
struct Worker {
    shared: Arc<Shared>,
    client: Client,
    buffer: Buffer,
    backoff: Backoff,
    collect: Collect,
    interval: Duration,
    timeout: Duration,
    flush_timeout: Duration,
    /// Failed attempts at the oldest batch.
    attempt: u32,
    /// When the oldest batch may be sent (again).
    retry_at: Instant,
    /// The last flush request collected for.
    collected_for: u64,
}

impl Worker {
    fn run(mut self) {
        let mut next_collect = Instant::now() + self.interval;
        loop {
            let Some(flush) = self.wait(next_collect) else {
                return self.finish();
            };
            let now = Instant::now();
            if now >= next_collect || flush > self.collected_for {
                let Some(request) = (self.collect)() else {
                    return self.finish();
                };
                self.enqueue(&request);
                self.collected_for = flush;
                next_collect = now + self.interval;
            }
            if !self.buffer.is_empty() && Instant::now() >= self.retry_at {
                self.send_oldest(self.timeout);
            }
            if self.buffer.is_empty() {
                self.mark_flushed();
            }
        }
    }

    /// Waits until a collection or a retry is due, or a flush is asked
    /// for; `None` to stop, else the flush requests so far.
    fn wait(&self, next_collect: Instant) -> Option<u64> {
        let due = match self.buffer.is_empty() {
            true => next_collect,
            false => next_collect.min(self.retry_at),
        };
        let mut control = self.shared.control.lock();
        while !control.stop && control.flush_requested == self.collected_for {
            if self.shared.wake.wait_until(&mut control, due).timed_out() {
                break;
            }
        }
        (!control.stop).then_some(control.flush_requested)
    }

    /// Encodes, compresses and queues `request`.
    fn enqueue(&mut self, request: &WriteRequest) {
        let samples = sample_count(request);
        if samples == 0 {
            return;
        }
        let body = snap::raw::Encoder::new()
            .compress_vec(&request.encode_to_vec())
            .expect("snappy compresses any input below 4 GiB");
        let dropped = self.buffer.push(Batch { body, samples });
        self.shared.metrics.dropped.increment(dropped);
        self.publish_pending();
    }

    /// One attempt at the oldest batch, bounded by `timeout`.
    fn send_oldest(&mut self, timeout: Duration) {
        let Some(batch) = self.buffer.front() else {
            return;
        };
        let samples = batch.samples;
        match self.client.send(&batch.body, timeout) {
            Outcome::Sent => {
                self.shared.metrics.sent.increment(samples);
                self.done_with_oldest();
            }
            Outcome::Reject(reason) => {
                self.shared.metrics.failed.increment(samples);
                *self.shared.last_error.lock() = Some(reason);
                self.done_with_oldest();
            }
            Outcome::Retry(reason) => {
                self.shared.metrics.retries.increment(1);
                *self.shared.last_error.lock() = Some(reason);
                self.retry_at = Instant::now() + self.backoff.delay(self.attempt);
                self.attempt = self.attempt.saturating_add(1);
            }
        }
    }

    fn done_with_oldest(&mut self) {
        self.buffer.pop();
        self.attempt = 0;
        self.retry_at = Instant::now();
        self.publish_pending();
    }

    fn publish_pending(&self) {
        let s = &self.shared;
        s.pending_bytes
            .store(self.buffer.bytes(), Ordering::Relaxed);
        s.pending_samples
            .store(self.buffer.samples(), Ordering::Relaxed);
    }

    /// Tells flush callers that what they asked for has left the buffer.
    fn mark_flushed(&self) {
        let mut control = self.shared.control.lock();
        if control.flushed < self.collected_for {
            control.flushed = self.collected_for;
            self.shared.done.notify_all();
        }
    }

    /// The final flush: the last collection and everything pending, within
    /// the flush timeout; what is left then is dropped and counted.
    fn finish(mut self) {
        if let Some(last) = self.last_collection() {
            self.enqueue(&last);
        }
        let deadline = Instant::now() + self.flush_timeout;
        while !self.buffer.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            if now < self.retry_at {
                std::thread::sleep((self.retry_at - now).min(deadline - now));
                continue;
            }
            self.send_oldest(self.timeout.min(deadline - now));
        }
        self.shared.metrics.dropped.increment(self.buffer.clear());
        self.publish_pending();
        let mut control = self.shared.control.lock();
        control.finished = true;
        self.shared.done.notify_all();
    }

    /// What the monitor's drop hands over (waiting for it briefly).
    fn last_collection(&self) -> Option<WriteRequest> {
        let deadline = Instant::now() + LAST_COLLECTION_WAIT;
        let mut control = self.shared.control.lock();
        while !control.stop {
            if self
                .shared
                .wake
                .wait_until(&mut control, deadline)
                .timed_out()
            {
                break;
            }
        }
        control.last.take()
    }
}
