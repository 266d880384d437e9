//! [`Monitor`]: the root object — a registry of series, a clock, and the
//! sliding-window machinery that ticks with it.
//!
//! This module is a facade. It holds the monitor's state, the ticker and
//! the recording and reading methods; each submodule adds the public
//! methods of one concept by calling that concept's module with the parts
//! of the state it needs. Concept modules never name the monitor, so every
//! dependency points from here to them.

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLockReadGuard};

use crate::bucket::Precision;
use crate::clock::{Clock, SystemClock, TimeListener, Timestamp};
use crate::counter::Counter;
use crate::dispatch::{Dispatcher, DEFAULT_NOTIFICATION_CAPACITY, MAX_NOTIFICATION_CAPACITY};
use crate::emergency::Emergency;
use crate::error::{MetricKind, PerfError, Result};
use crate::evaluation::Alerting;
use crate::evaluator::Evaluator;
use crate::gauge::Gauge;
use crate::histogram::Histogram;
use crate::lifecycle::ProcessHooks;
use crate::multiproc::{GaugeMode, Group, MultiprocessOptions};
use crate::registry::{Limits, Metric, Registry, Series};
use crate::regression::Policy;
use crate::rules::RepeatIntervals;
use crate::series::{SeriesKey, Tag};
use crate::stats::Stats;
use crate::window::WindowConfig;
use background::Threads;

mod background;
mod baseline;
mod budget_report;
mod config;
mod emergency;
mod evaluate;
mod export;
mod fork;
mod group_alerts;

pub use fork::after_fork;
mod hdr;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "metrics")]
mod metrics_facade;
mod prometheus;
#[cfg(feature = "remote-write")]
mod remote_write;
mod rules;
mod web_vitals;

/// Configures and builds a [`Monitor`].
///
/// ```
/// use perf_core::{ManualClock, Monitor, Precision, Timestamp};
/// use std::time::Duration;
/// let monitor = Monitor::builder()
///     .clock(ManualClock::new(Timestamp::ZERO))
///     .precision(Precision::new(8)?)
///     .max_series_per_metric(500)
///     .window_interval(Duration::from_secs(1))
///     .window_retention(Duration::from_secs(300))
///     .build()?;
/// assert_eq!(monitor.precision().bits(), 8);
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct MonitorBuilder {
    clock: Option<Arc<dyn Clock>>,
    precision: Precision,
    max_metrics: usize,
    max_series_per_metric: usize,
    window_interval: Duration,
    window_retention: Duration,
    windows: bool,
    repeat_intervals: RepeatIntervals,
    alert_history: usize,
    notification_capacity: usize,
    multiprocess: MultiprocessOptions,
    #[cfg(feature = "remote-write")]
    remote_write: Option<crate::RemoteWriteConfig>,
}

impl Default for MonitorBuilder {
    fn default() -> Self {
        MonitorBuilder {
            clock: None,
            precision: Precision::DEFAULT,
            max_metrics: 10_000,
            max_series_per_metric: 1_000,
            window_interval: Duration::from_secs(1),
            window_retention: Duration::from_secs(300),
            windows: true,
            repeat_intervals: RepeatIntervals::default(),
            alert_history: 1_000,
            notification_capacity: DEFAULT_NOTIFICATION_CAPACITY,
            multiprocess: MultiprocessOptions::default(),
            #[cfg(feature = "remote-write")]
            remote_write: None,
        }
    }
}

impl MonitorBuilder {
    /// The clock everything time-dependent reads (default [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Histogram precision (default 7 bits: every percentile within 0.39 %).
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Most distinct metric names (default 10 000).
    pub fn max_metrics(mut self, n: usize) -> Self {
        self.max_metrics = n;
        self
    }

    /// Most tag sets per metric name before new ones fold into the metric's
    /// overflow series (default 1 000).
    pub fn max_series_per_metric(mut self, n: usize) -> Self {
        self.max_series_per_metric = n;
        self
    }

    /// Length of the intervals sliding windows are made of (default 1 s,
    /// at least 1 ms).
    pub fn window_interval(mut self, interval: Duration) -> Self {
        self.window_interval = interval;
        self
    }

    /// Longest sliding window that can be asked for (default 300 s).
    pub fn window_retention(mut self, retention: Duration) -> Self {
        self.window_retention = retention;
        self
    }

    /// Whether to keep sliding-window history at all (default true). Without
    /// it, no ticker thread runs and window queries return
    /// [`PerfError::WindowsDisabled`].
    pub fn windows(mut self, enabled: bool) -> Self {
        self.windows = enabled;
        self
    }

    /// How long to wait before repeating a notification of a still-active
    /// alert, per severity (defaults: critical 5 min, error 15 min, warning
    /// 1 h, info 4 h). Rules can override it.
    pub fn repeat_intervals(mut self, intervals: RepeatIntervals) -> Self {
        self.repeat_intervals = intervals;
        self
    }

    /// How many notifications [`Monitor::alert_history`] keeps, and how
    /// many transitions [`crate::Emergency::history`] keeps (default 1 000;
    /// 0 keeps none).
    pub fn alert_history(mut self, n: usize) -> Self {
        self.alert_history = n;
        self
    }

    /// How many notifications (alert events and emergency transitions)
    /// may wait for delivery to callbacks (default 10 000, range
    /// 1 ..= 10 000 000; [`Self::build`] checks it). Callbacks run on the
    /// monitor's notification thread; when they fall this far behind, new
    /// notifications are dropped and counted
    /// ([`Monitor::notifications_dropped`]), never waited for.
    ///
    /// ```
    /// let monitor = perf_core::Monitor::builder().notification_capacity(100).build()?;
    /// assert!(perf_core::Monitor::builder().notification_capacity(0).build().is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn notification_capacity(mut self, n: usize) -> Self {
        self.notification_capacity = n;
        self
    }

    /// Turns multi-process mode on: this monitor joins the process group
    /// whose shared directory is `dir` (created if needed), publishes its
    /// state there and reads every process's state in the merged view
    /// (see `docs/multiprocess.md`). Without this, the environment variable
    /// [`crate::MULTIPROC_DIR_ENV`] (`PERF_CORE_MULTIPROC_DIR`) does the
    /// same when set.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let dir = std::env::temp_dir().join(format!("perf-core-doc-mp-{}", std::process::id()));
    /// let monitor = Monitor::builder().multiprocess_dir(&dir).build()?;
    /// monitor.counter("requests", &[])?.increment(2);
    /// monitor.publish()?; // also done every second and when the monitor drops
    /// assert_eq!(monitor.multiprocess().unwrap().live_processes, 1);
    /// # drop(monitor); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn multiprocess_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        self.multiprocess.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// How often a monitor in multi-process mode publishes its state
    /// (default 1 s, at least 1 ms): the staleness bound of what other
    /// processes read.
    pub fn publish_interval(mut self, interval: Duration) -> Self {
        self.multiprocess.publish_interval = Some(interval);
        self
    }

    /// How the gauge `name` of the group's live processes combines in the
    /// merged view (default: [`Self::default_gauge_mode`]).
    pub fn gauge_mode(mut self, name: &str, mode: GaugeMode) -> Self {
        self.multiprocess.gauge_modes.insert(name.to_owned(), mode);
        self
    }

    /// How gauges without a [`Self::gauge_mode`] combine (default
    /// [`GaugeMode::Sum`]).
    pub fn default_gauge_mode(mut self, mode: GaugeMode) -> Self {
        self.multiprocess.default_gauge_mode = mode;
        self
    }

    /// Builds the monitor. With windows enabled and a real clock, this starts
    /// one background ticker thread, which ends when the last clone of the
    /// monitor is dropped; in multi-process mode with a real clock, one
    /// publisher thread too.
    pub fn build(self) -> Result<Monitor> {
        if !(1..=MAX_NOTIFICATION_CAPACITY).contains(&self.notification_capacity) {
            return Err(PerfError::InvalidConfig(format!(
                "notification_capacity must be in 1 ..= {MAX_NOTIFICATION_CAPACITY}, got {}",
                self.notification_capacity
            )));
        }
        if self.max_metrics == 0 || self.max_series_per_metric == 0 {
            return Err(PerfError::InvalidConfig(
                "max_metrics and max_series_per_metric must be at least 1".into(),
            ));
        }
        #[cfg(feature = "remote-write")]
        let remote_write = self.remote_write_config()?;
        let windows = self
            .windows
            .then(|| WindowConfig::new(self.window_interval, self.window_retention))
            .transpose()?;
        let clock = self
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock::new()));
        let limits = Limits {
            max_metrics: self.max_metrics,
            max_series_per_metric: self.max_series_per_metric,
        };
        let group = self.join_group(limits, &clock)?;
        let shared_emergency = group.as_ref().map(Group::emergency);
        let dispatcher = Arc::new(Dispatcher::new(self.notification_capacity));
        let inner = Arc::new(MonitorInner {
            registry: Registry::new(limits, self.precision, clock.clone()),
            group,
            clock: clock.clone(),
            windows,
            alerting: Alerting::new(
                self.repeat_intervals,
                self.alert_history,
                Arc::clone(&dispatcher),
            ),
            emergency: Emergency::new(
                clock.clone(),
                self.alert_history,
                shared_emergency,
                Arc::clone(&dispatcher),
            ),
            dispatcher,
            evaluator: Mutex::new(None),
            regression_policy: Mutex::new(Policy::default()),
            threads: Mutex::new(Threads::default()),
            owner_pid: AtomicU32::new(std::process::id()),
            adoption: Mutex::new(()),
            #[cfg(feature = "remote-write")]
            remote_write: Mutex::new(None),
        });
        if windows.is_some() && clock.is_manual() {
            let weak: Weak<dyn TimeListener> = Arc::downgrade(&inner) as Weak<MonitorInner>;
            clock.add_listener(weak);
        }
        crate::lifecycle::install_handlers();
        if let Some(group) = &inner.group {
            // The first read, as the monitor joins: what the group recorded
            // until now is its history, not this process's first interval.
            drop(group.refreshed_view(&inner.registry));
            let weak: Weak<dyn ProcessHooks> = Arc::downgrade(&inner) as Weak<MonitorInner>;
            crate::lifecycle::register(weak);
        }
        inner.start_threads();
        #[cfg(feature = "remote-write")]
        if let Some(config) = remote_write {
            inner.start_remote_write(config);
        }
        Ok(Monitor {
            inner,
            local_only: false,
        })
    }

    /// The group this monitor joins, if multi-process mode is on.
    fn join_group(&self, limits: Limits, clock: &Arc<dyn Clock>) -> Result<Option<Group>> {
        let Some(dir) = self.multiprocess.resolved_dir() else {
            return Ok(None);
        };
        if self.multiprocess.publish_interval() < Duration::from_millis(1) {
            return Err(PerfError::InvalidConfig(
                "publish_interval must be at least 1 ms".into(),
            ));
        }
        let options = self.multiprocess.clone();
        Group::join(&dir, options, limits, self.precision, clock.clone()).map(Some)
    }
}

/// What [`Monitor::series`] lists: a series' identity and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesInfo {
    /// Name and tags.
    pub key: SeriesKey,
    /// Histogram, counter or gauge.
    pub kind: MetricKind,
}

/// The root object: creates and finds series, computes statistics, and keeps
/// sliding-window history. Cheap to clone (clones share everything) and safe
/// to use from any thread.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// monitor.record("api.response_time", &[("route", "/login")], 87.0)?;
/// let h = monitor.histogram("api.response_time", &[("route", "/login")])?;
/// h.record(120.0)?;
/// let stats = monitor.stats("api.response_time", &[("route", "/login")])?;
/// assert_eq!((stats.count, stats.min, stats.max), (2, 87.0, 120.0));
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<MonitorInner>,
    /// Reads see only this process, even in multi-process mode
    /// ([`Monitor::local`]).
    local_only: bool,
}

/// Everything a monitor and its clones share. The fields are private to
/// this module and its submodules.
struct MonitorInner {
    /// The series this process records.
    registry: Registry,
    /// The process group, in multi-process mode.
    group: Option<Group>,
    /// The clock everything time-dependent reads.
    clock: Arc<dyn Clock>,
    /// The window layout, or `None` if windows are disabled.
    windows: Option<WindowConfig>,
    /// Rules, alerts and their subscribers.
    alerting: Alerting,
    /// The emergency mode.
    emergency: Emergency,
    /// Delivers alert events and emergency transitions to callbacks.
    dispatcher: Arc<Dispatcher>,
    /// The background evaluator, while one runs.
    evaluator: Mutex<Option<Evaluator>>,
    /// The regression policy of the rules documents loaded (default until
    /// one has a `regression` section).
    regression_policy: Mutex<Policy>,
    /// The ticker and publisher threads' stop channels.
    threads: Mutex<Threads>,
    /// The process this state belongs to: another pid means this is a copy
    /// made by `fork()`, not yet adopted (see `fork`).
    owner_pid: AtomicU32,
    /// Serializes adoptions after a fork.
    adoption: Mutex<()>,
    /// The remote writer, if remote write is on.
    #[cfg(feature = "remote-write")]
    remote_write: Mutex<Option<remote_write::RemoteWriting>>,
}

impl Monitor {
    /// A builder with the defaults.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// The histogram series `name{tags}`, created on first use.
    ///
    /// Errors: invalid name or tags, `name` used by a counter or gauge, or
    /// too many metric names. Past the per-metric series cap, the handle
    /// records into the metric's overflow series.
    pub fn histogram(&self, name: &str, tags: &[Tag<'_>]) -> Result<Histogram> {
        let core = self.inner.registry.with_series(
            name,
            tags,
            MetricKind::Histogram,
            |s| match &s.metric {
                Metric::Histogram(core) => Ok(core.clone()),
                _ => unreachable!("with_series checked the kind"),
            },
        )??;
        Ok(Histogram { core })
    }

    /// Records one value into `name{tags}` without keeping a handle.
    /// Prefer a [`Histogram`] handle on hot paths: it skips the lookup.
    #[inline]
    pub fn record(&self, name: &str, tags: &[Tag<'_>], value: f64) -> Result<()> {
        self.inner
            .registry
            .with_series(name, tags, MetricKind::Histogram, |s| match &s.metric {
                Metric::Histogram(core) => core.record(value),
                _ => unreachable!("with_series checked the kind"),
            })?
    }

    /// The counter series `name{tags}`, created on first use.
    pub fn counter(&self, name: &str, tags: &[Tag<'_>]) -> Result<Counter> {
        self.inner
            .registry
            .with_series(name, tags, MetricKind::Counter, |s| match &s.metric {
                Metric::Counter(core) => Counter { core: core.clone() },
                _ => unreachable!("with_series checked the kind"),
            })
    }

    /// The gauge series `name{tags}`, created on first use.
    pub fn gauge(&self, name: &str, tags: &[Tag<'_>]) -> Result<Gauge> {
        self.inner
            .registry
            .with_series(name, tags, MetricKind::Gauge, |s| match &s.metric {
                Metric::Gauge(core) => Gauge { core: core.clone() },
                _ => unreachable!("with_series checked the kind"),
            })
    }

    /// Cumulative statistics of the histogram series `name{tags}`.
    ///
    /// Errors: [`PerfError::UnknownSeries`] if it was never created,
    /// [`PerfError::KindMismatch`] if it is not a histogram.
    pub fn stats(&self, name: &str, tags: &[Tag<'_>]) -> Result<Stats> {
        self.with_histogram(name, tags, |_, core| {
            Stats::from_snapshot(core.snapshot(), core.rejected())
        })
    }

    /// Statistics of the values recorded into `name{tags}` within the last
    /// `window` (rounded up to whole intervals; see `docs/concepts.md` for
    /// the exact boundary rule). `min` and `max` are within the precision
    /// bound rather than exact.
    ///
    /// ```
    /// use perf_core::{ManualClock, Monitor, Timestamp};
    /// use std::time::Duration;
    /// let clock = ManualClock::new(Timestamp::ZERO);
    /// let monitor = Monitor::builder().clock(clock.clone()).build()?;
    /// monitor.record("q", &[], 10.0)?;
    /// clock.advance(Duration::from_secs(30));
    /// monitor.record("q", &[], 20.0)?;
    /// let w = Duration::from_secs(10);
    /// assert_eq!(monitor.window_stats("q", &[], w)?.count, 1);
    /// assert_eq!(monitor.stats("q", &[])?.count, 2);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn window_stats(&self, name: &str, tags: &[Tag<'_>], window: Duration) -> Result<Stats> {
        let config = self.window_config()?;
        let now = self.inner.clock.now();
        self.with_histogram(name, tags, |series, core| {
            let snapshot = series.window_snapshot(&config, now, window)?;
            let snapshot = snapshot.expect("histogram series have histogram windows");
            Ok(Stats::from_snapshot(snapshot, core.rejected()))
        })?
    }

    /// The rate per second of the counter `name{tags}` over the last `window`
    /// (rounded up to whole intervals): the increase divided by the rounded
    /// window length.
    ///
    /// ```
    /// use perf_core::{ManualClock, Monitor, Timestamp};
    /// use std::time::Duration;
    /// let clock = ManualClock::new(Timestamp::ZERO);
    /// let monitor = Monitor::builder().clock(clock.clone()).build()?;
    /// let requests = monitor.counter("requests", &[])?;
    /// for _ in 0..10 {
    ///     clock.advance(Duration::from_secs(1));
    ///     requests.increment(30);
    /// }
    /// assert_eq!(monitor.counter_rate("requests", &[], Duration::from_secs(10))?, 30.0);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn counter_rate(&self, name: &str, tags: &[Tag<'_>], window: Duration) -> Result<f64> {
        let config = self.window_config()?;
        let now = self.inner.clock.now();
        self.view().with_existing(name, tags, |series| {
            match series.window_increase(&config, now, window)? {
                Some(increase) => Ok(increase as f64 / config.rounded(window).as_secs_f64()),
                None => Err(kind_mismatch(name, &series.metric, MetricKind::Counter)),
            }
        })?
    }

    /// Files everything recorded so far under the current interval of every
    /// series. The ticker thread (real clocks) and [`crate::ManualClock`]
    /// (before each advance) call this; call it yourself only with a custom
    /// clock that does neither.
    pub fn tick(&self) {
        self.after_fork();
        self.inner.tick_all(self.inner.clock.now());
    }

    /// Every series, sorted by name and tags.
    pub fn series(&self) -> Vec<SeriesInfo> {
        let mut all = Vec::new();
        self.view().for_each(|key, series| {
            all.push(SeriesInfo {
                key: key.clone(),
                kind: series.metric.kind(),
            })
        });
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all
    }

    /// The current time on the monitor's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The histogram precision of this monitor.
    pub fn precision(&self) -> Precision {
        self.inner.registry.precision()
    }

    /// The configured window interval, or `None` if windows are disabled.
    pub fn window_interval(&self) -> Option<Duration> {
        self.inner.windows.map(|c| c.interval())
    }

    /// Publishes this process's state to the group's directory now (in
    /// multi-process mode; otherwise does nothing). The publisher thread
    /// does this every publish interval, and the monitor once more when its
    /// last clone drops: call it before `exit` to hand over everything, or
    /// after recording what other processes must see at once.
    pub fn publish(&self) -> Result<()> {
        self.after_fork();
        match &self.inner.group {
            Some(group) => group.publish(&self.inner.registry),
            None => Ok(()),
        }
    }

    /// Moves the files of the group's dead processes into its archive now
    /// (in multi-process mode; otherwise does nothing), so the directory
    /// holds about one file per live process. The publisher thread does
    /// this after every publish; returns how many processes it archived (0
    /// if another process was compacting).
    pub fn compact_multiprocess(&self) -> Result<usize> {
        self.after_fork();
        match &self.inner.group {
            Some(group) => group.compact(),
            None => Ok(0),
        }
    }

    /// This monitor seen from this process alone: reads and exports of the
    /// returned clone leave out the other processes of the group (in
    /// multi-process mode; otherwise it reads the same).
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("q", &[], 1.0)?;
    /// assert_eq!(monitor.local().stats("q", &[])?.count, 1);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn local(&self) -> Monitor {
        Monitor {
            inner: self.inner.clone(),
            local_only: true,
        }
    }

    /// The state of the process group, or `None` outside multi-process
    /// mode.
    pub fn multiprocess(&self) -> Option<crate::MultiprocessStatus> {
        self.after_fork();
        self.inner.group.as_ref().map(Group::status)
    }

    /// The registry reads go to: the merged view of the group, brought up
    /// to date, in multi-process mode (unless [`Self::local`]); else this
    /// process's own.
    fn view(&self) -> View<'_> {
        self.after_fork();
        match &self.inner.group {
            Some(group) if !self.local_only => {
                View::Merged(group.refreshed_view(&self.inner.registry))
            }
            _ => View::Local(&self.inner.registry),
        }
    }

    /// The window layout; [`PerfError::WindowsDisabled`] without windows.
    fn window_config(&self) -> Result<WindowConfig> {
        self.inner.windows.ok_or(PerfError::WindowsDisabled)
    }

    /// `Ok` if windows are on and `window` is within the retention.
    fn check_window(&self, window: Duration) -> Result<()> {
        self.window_config()?
            .first_interval(window, self.now())
            .map(drop)
    }

    /// Calls `f` with the histogram series `name{tags}` and its storage.
    fn with_histogram<R>(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        f: impl FnOnce(&Series, &crate::histogram::HistogramCore) -> R,
    ) -> Result<R> {
        self.view()
            .with_existing(name, tags, |series| match &series.metric {
                Metric::Histogram(core) => Ok(f(series, core)),
                other => Err(kind_mismatch(name, other, MetricKind::Histogram)),
            })?
    }
}

/// The error for reading `name`, a `metric`, as a `requested` kind.
fn kind_mismatch(name: &str, metric: &Metric, requested: MetricKind) -> PerfError {
    PerfError::KindMismatch {
        name: name.to_owned(),
        existing: metric.kind(),
        requested,
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("clock", &self.inner.clock)
            .field("windows", &self.inner.windows)
            .finish_non_exhaustive()
    }
}

/// A registry to read: this process's own, or the group's merged view
/// (read-locked against refreshes while it is used).
enum View<'a> {
    Local(&'a Registry),
    Merged(RwLockReadGuard<'a, Registry>),
}

impl std::ops::Deref for View<'_> {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match self {
            View::Local(registry) => registry,
            View::Merged(guard) => guard,
        }
    }
}

impl MonitorInner {
    /// Ticks every series at time `at`, and in multi-process mode the
    /// merged view after bringing it up to date.
    fn tick_all(&self, at: Timestamp) {
        let Some(config) = self.windows else { return };
        let interval = config.interval_of(at);
        let tick = |registry: &Registry| {
            registry.for_each(|_, series| series.tick(&mut series.window.lock(), interval, &config))
        };
        tick(&self.registry);
        if let Some(group) = &self.group {
            tick(&group.refreshed_view(&self.registry));
        }
    }
}

impl MonitorInner {
    /// Publishes this process's state one last time (at drop or exit) — in
    /// a forked child that never used the monitor, under a new identity,
    /// so the parent's file is left alone.
    fn publish_final(&self) {
        use std::sync::atomic::Ordering::{Acquire, Release};
        let Some(group) = &self.group else { return };
        let pid = std::process::id();
        if self.owner_pid.load(Acquire) != pid {
            let _adopting = self.adoption.lock();
            if self.owner_pid.load(Acquire) != pid {
                if group.rejoin(&self.registry).is_err() {
                    return;
                }
                self.owner_pid.store(pid, Release);
            }
        }
        let _ = group.publish(&self.registry);
    }
}

impl Drop for MonitorInner {
    /// Hands this process's final state to the group — in a forked child
    /// that never used the monitor, under a new identity, so the parent's
    /// file is left alone — and to the remote-write receiver.
    fn drop(&mut self) {
        #[cfg(feature = "remote-write")]
        self.stop_remote_write();
        self.publish_final();
    }
}

impl ProcessHooks for MonitorInner {
    /// Notes what the child inherited (see [`Group::capture_at_fork`]).
    fn in_child(&self) {
        if let Some(group) = &self.group {
            group.capture_at_fork(&self.registry);
        }
    }

    /// Publishes the final state (see [`MonitorInner::publish_final`]).
    fn at_exit(&self) {
        self.publish_final();
    }

    fn adopt(self: Arc<Self>) {
        Monitor {
            inner: self,
            local_only: false,
        }
        .after_fork();
    }
}

impl TimeListener for MonitorInner {
    fn before_advance(&self, now: Timestamp) {
        self.tick_all(now);
    }
}
