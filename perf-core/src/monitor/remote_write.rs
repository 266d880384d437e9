//! Remote write of a monitor (feature `remote-write`): the builder's
//! [`RemoteWriteConfig`] (or the `PERF_CORE_REMOTE_WRITE_*` environment)
//! starts [`crate::export::remote_write`]'s writer over this process's
//! registry; the monitor's drop hands it a last collection and waits
//! (bounded) for the final flush.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Monitor, MonitorBuilder, MonitorInner};
use crate::error::Result;
use crate::export::exposition::ExpositionConfig;
use crate::export::remote_write::encode::write_request;
use crate::export::remote_write::proto::WriteRequest;
use crate::export::remote_write::writer::{Collect, RemoteWriter, SelfMetrics};
use crate::export::remote_write::{
    RemoteWriteConfig, RemoteWriteStatus, REMOTE_WRITE_DROPPED_COUNTER,
    REMOTE_WRITE_FAILED_COUNTER, REMOTE_WRITE_RETRIES_COUNTER, REMOTE_WRITE_SENT_COUNTER,
};
use crate::lifecycle::background_step;
use crate::registry::Registry;

/// A running writer and what its collections need.
pub(super) struct RemoteWriting {
    writer: RemoteWriter,
    exposition: ExpositionConfig,
    native: bool,
}

/// Remote write: configuration.
impl MonitorBuilder {
    /// Pushes every series of this process to a Prometheus remote-write
    /// receiver every `config.interval`, and once more when the monitor
    /// drops (see [`RemoteWriteConfig`] and `docs/export.md`). Without
    /// this, [`RemoteWriteConfig::from_env`] (`PERF_CORE_REMOTE_WRITE_URL`
    /// and friends) does the same when set. [`Self::build`] validates it.
    /// Needs the `remote-write` feature.
    ///
    /// ```
    /// use perf_core::{Monitor, RemoteWriteConfig};
    /// use std::time::Duration;
    /// let config = RemoteWriteConfig {
    ///     flush_timeout: Duration::from_millis(100), // nothing listens here
    ///     ..RemoteWriteConfig::new("http://127.0.0.1:9/api/v1/write")
    /// };
    /// let monitor = Monitor::builder().remote_write(config).build()?;
    /// assert_eq!(monitor.remote_write_status().unwrap().samples_sent, 0);
    /// assert!(Monitor::builder().remote_write(RemoteWriteConfig::new("https://x/")).build().is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn remote_write(mut self, config: RemoteWriteConfig) -> Self {
        self.remote_write = Some(config);
        self
    }

    /// The configuration to start with: the builder's, else the
    /// environment's; validated.
    pub(super) fn remote_write_config(&self) -> Result<Option<RemoteWriteConfig>> {
        let config = match &self.remote_write {
            Some(config) => Some(config.clone()),
            None => RemoteWriteConfig::from_env()?,
        };
        config
            .as_ref()
            .map(RemoteWriteConfig::validate)
            .transpose()?;
        Ok(config)
    }
}

/// Remote write: state.
impl Monitor {
    /// What the remote writer has sent, failed, dropped and retried so far
    /// (also exported as `perf_core_remote_write_*` counters), or `None`
    /// without remote write.
    ///
    /// ```
    /// let monitor = perf_core::Monitor::builder().build()?;
    /// assert!(monitor.remote_write_status().is_none());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn remote_write_status(&self) -> Option<RemoteWriteStatus> {
        let writing = self.inner.remote_write.lock();
        writing.as_ref().map(|w| w.writer.status())
    }

    /// Collects every series now and waits, at most `timeout`, until that
    /// collection and every earlier one have left the buffer (accepted, or
    /// refused and counted as failed). Returns whether they did; `true`
    /// without remote write. The monitor's drop does a final flush itself;
    /// call this before `exit` when the monitor is never dropped (a static).
    ///
    /// ```
    /// use std::time::Duration;
    /// let monitor = perf_core::Monitor::builder().build()?;
    /// assert!(monitor.flush_remote_write(Duration::from_secs(1)));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn flush_remote_write(&self, timeout: Duration) -> bool {
        let writing = self.inner.remote_write.lock();
        match writing.as_ref() {
            // The writer's lock is short; `flush` waits on its own.
            Some(w) => w.writer.flush(timeout),
            None => true,
        }
    }
}

impl MonitorInner {
    /// Starts the writer of `config` (already validated).
    pub(super) fn start_remote_write(self: &Arc<Self>, config: RemoteWriteConfig) {
        let metrics = SelfMetrics {
            sent: self
                .registry
                .internal_counter(REMOTE_WRITE_SENT_COUNTER, &[]),
            failed: self
                .registry
                .internal_counter(REMOTE_WRITE_FAILED_COUNTER, &[]),
            dropped: self
                .registry
                .internal_counter(REMOTE_WRITE_DROPPED_COUNTER, &[]),
            retries: self
                .registry
                .internal_counter(REMOTE_WRITE_RETRIES_COUNTER, &[]),
        };
        let collect = collector(Arc::downgrade(self), &config);
        if let Some(writer) = RemoteWriter::start(&config, collect, metrics) {
            *self.remote_write.lock() = Some(RemoteWriting {
                writer,
                exposition: config.exposition,
                native: config.native_histograms,
            });
        }
    }

    /// Hands the writer a last collection and waits for its final flush
    /// (in a forked child that never adopted the monitor, forgets the
    /// parent's writer instead).
    pub(super) fn stop_remote_write(&self) {
        use std::sync::atomic::Ordering::Acquire;
        if self.owner_pid.load(Acquire) != std::process::id() {
            return self.abandon_remote_write();
        }
        let Some(writing) = self.remote_write.lock().take() else {
            return;
        };
        let last = collect(&self.registry, &writing.exposition, writing.native);
        writing.writer.shutdown(Some(last));
    }

    /// Forgets the writer of a monitor inherited through `fork()`: its
    /// thread is the parent's (the parent keeps pushing).
    pub(super) fn abandon_remote_write(&self) {
        std::mem::forget(self.remote_write.lock().take());
    }
}

/// The writer's collections: the registry while the monitor lives (the
/// strong reference held only inside a background step, like the other
/// threads'), `None` once it is gone.
fn collector(monitor: Weak<MonitorInner>, config: &RemoteWriteConfig) -> Collect {
    let (exposition, native) = (config.exposition.clone(), config.native_histograms);
    Box::new(move || {
        background_step(|| {
            let inner = monitor.upgrade()?;
            Some(collect(&inner.registry, &exposition, native))
        })
    })
}

fn collect(registry: &Registry, exposition: &ExpositionConfig, native: bool) -> WriteRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    write_request(registry, exposition, native, now.as_millis() as i64)
}
