//! The series registry: name + tags → series, with per-metric series caps.
//!
//! Lookups of existing series take no lock: the [`SeriesIndex`] is a
//! grow-only hash index whose reads are plain `Acquire` loads. The hash of a
//! `(name, &[(k, v)])` query is computed in a tag-order-insensitive way, so
//! it finds its series without sorting or allocating. Creating a series is the cold
//! path: it validates the name and tags and checks the caps under one mutex.
//!
//! # Bounded memory
//!
//! * At most `max_metrics` distinct names ([`PerfError::TooManyMetrics`]).
//! * At most `max_series_per_metric` tag sets per name. Past that, lookups
//!   with new tag sets get the metric's *overflow series*
//!   (`name{perf_overflow="true"}`), and the counter
//!   `perf_core_series_folded_total{metric="name"}` counts how many lookups
//!   (handle requests and one-shot records) were folded into it.
//!
//! Series are never removed, so a reference to one stays valid as long as
//! the registry, and a created series is always found again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::bucket::Precision;
use crate::clock::{Clock, Timestamp};
use crate::counter::CounterCore;
use crate::error::{MetricKind, PerfError, Result};
use crate::gauge::GaugeCore;
use crate::histogram::HistogramCore;
use crate::series::{
    validate_name, validate_tags, SeriesHasher, SeriesKey, SeriesQuery, Tag, OVERFLOW_TAG,
};
use crate::series_index::{Entry, SeriesIndex};
use crate::snapshot::HistogramSnapshot;
use crate::window::{WindowConfig, WindowTracker};

/// Name of the counter of lookups folded into overflow series.
pub const FOLDED_COUNTER: &str = "perf_core_series_folded_total";

/// The storage of one series, by kind.
pub(crate) enum Metric {
    Histogram(Arc<HistogramCore>),
    Counter(Arc<CounterCore>),
    Gauge(Arc<GaugeCore>),
}

impl Metric {
    fn new(kind: MetricKind, precision: Precision, clock: &Arc<dyn Clock>) -> Metric {
        match kind {
            MetricKind::Histogram => {
                Metric::Histogram(Arc::new(HistogramCore::new(precision, clock.clone())))
            }
            MetricKind::Counter => Metric::Counter(Arc::new(CounterCore::new())),
            MetricKind::Gauge => Metric::Gauge(Arc::new(GaugeCore::new())),
        }
    }

    pub(crate) fn kind(&self) -> MetricKind {
        match self {
            Metric::Histogram(_) => MetricKind::Histogram,
            Metric::Counter(_) => MetricKind::Counter,
            Metric::Gauge(_) => MetricKind::Gauge,
        }
    }
}

/// Sliding-window history of one series (none for gauges).
pub(crate) enum SeriesWindow {
    None,
    Histogram {
        tracker: WindowTracker<HistogramSnapshot>,
        /// [`HistogramCore::fingerprint`] at the last tick that ran.
        fingerprint: u64,
    },
    Counter(WindowTracker<u64>),
}

/// A registered series.
pub(crate) struct Series {
    pub(crate) metric: Metric,
    pub(crate) window: Mutex<SeriesWindow>,
    /// Set on a merged view's series that no process publishes any more
    /// (the gauges of dead processes): listings and lookups skip it. Never
    /// set in a process's own registry.
    hidden: AtomicBool,
    /// On a merged view's histogram: the signature of the merge last
    /// written into it (see `multiproc::merge`); 0 before any.
    merged_signature: AtomicU64,
}

impl Series {
    fn new(kind: MetricKind, precision: Precision, clock: &Arc<dyn Clock>) -> Series {
        let window = match kind {
            MetricKind::Histogram => SeriesWindow::Histogram {
                tracker: WindowTracker::new(HistogramSnapshot::empty(precision)),
                fingerprint: 0,
            },
            MetricKind::Counter => SeriesWindow::Counter(WindowTracker::new(0)),
            MetricKind::Gauge => SeriesWindow::None,
        };
        Series {
            metric: Metric::new(kind, precision, clock),
            window: Mutex::new(window),
            hidden: AtomicBool::new(false),
            merged_signature: AtomicU64::new(0),
        }
    }

    /// Hides or shows a merged view's series (see `hidden`).
    pub(crate) fn set_hidden(&self, hidden: bool) {
        self.hidden.store(hidden, Relaxed);
    }

    pub(crate) fn is_hidden(&self) -> bool {
        self.hidden.load(Relaxed)
    }

    /// The signature of the merge last written (see `merged_signature`).
    pub(crate) fn merged_signature(&self) -> u64 {
        self.merged_signature.load(Relaxed)
    }

    pub(crate) fn set_merged_signature(&self, signature: u64) {
        self.merged_signature.store(signature, Relaxed);
    }

    /// Makes the window history count from the series' current state on:
    /// what it holds now is filed under no interval.
    pub(crate) fn rebase_window(&self) {
        let mut window = self.window.lock();
        match (&self.metric, &mut *window) {
            (
                Metric::Histogram(core),
                SeriesWindow::Histogram {
                    tracker,
                    fingerprint,
                },
            ) => {
                *fingerprint = core.fingerprint();
                tracker.rebase(core.snapshot());
            }
            (Metric::Counter(core), SeriesWindow::Counter(tracker)) => tracker.rebase(core.value()),
            _ => {}
        }
    }

    /// Files what was recorded since the last tick under `interval`. A
    /// histogram is re-read only if its fingerprint moved.
    pub(crate) fn tick(&self, window: &mut SeriesWindow, interval: u64, config: &WindowConfig) {
        match (&self.metric, window) {
            (
                Metric::Histogram(core),
                SeriesWindow::Histogram {
                    tracker,
                    fingerprint,
                },
            ) => {
                // Read before the snapshot: a value the snapshot misses part
                // of moves the fingerprint again (its count is stored last).
                let now = core.fingerprint();
                if now != *fingerprint {
                    *fingerprint = now;
                    tracker.tick(core.snapshot(), interval, config);
                }
            }
            (Metric::Counter(core), SeriesWindow::Counter(tracker)) => {
                tracker.tick(core.value(), interval, config);
            }
            _ => {}
        }
    }

    /// The values recorded within `window` of `now`, exactly (a histogram
    /// series; `None` for other kinds).
    pub(crate) fn window_snapshot(
        &self,
        config: &WindowConfig,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<HistogramSnapshot>> {
        let first = config.first_interval(window, now)?;
        let mut guard = self.window.lock();
        self.tick(&mut guard, config.interval_of(now), config);
        let SeriesWindow::Histogram { tracker, .. } = &*guard else {
            return Ok(None);
        };
        Ok(Some(
            tracker.since(first, HistogramSnapshot::empty(self.precision())),
        ))
    }

    /// Calls `f` with the values recorded within `window` of `now`, read
    /// from the window's running sum ([`WindowTracker::since_incremental`]:
    /// cheap when read repeatedly, as rules do). `None` if not a histogram.
    pub(crate) fn read_window<R>(
        &self,
        config: &WindowConfig,
        now: Timestamp,
        window: Duration,
        f: impl FnOnce(&HistogramSnapshot) -> R,
    ) -> Result<Option<R>> {
        let first = config.first_interval(window, now)?;
        let mut guard = self.window.lock();
        self.tick(&mut guard, config.interval_of(now), config);
        let SeriesWindow::Histogram { tracker, .. } = &mut *guard else {
            return Ok(None);
        };
        let empty = HistogramSnapshot::empty(self.precision());
        Ok(Some(f(tracker.since_incremental(
            first,
            config.length(window),
            empty,
        ))))
    }

    /// The values of each complete interval within `window` of `now` that
    /// has any, oldest first (a histogram series; `None` for other kinds).
    /// The current interval, still filling, is left out.
    pub(crate) fn interval_snapshots(
        &self,
        config: &WindowConfig,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<Vec<HistogramSnapshot>>> {
        let first = config.first_interval(window, now)?;
        let current = config.interval_of(now);
        let mut guard = self.window.lock();
        self.tick(&mut guard, current, config);
        Ok(match &*guard {
            SeriesWindow::Histogram { tracker, .. } => Some(tracker.deltas_in(first, current)),
            _ => None,
        })
    }

    /// The increase within `window` of `now` (a counter series; `None` for
    /// other kinds).
    pub(crate) fn window_increase(
        &self,
        config: &WindowConfig,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<u64>> {
        let first = config.first_interval(window, now)?;
        let mut guard = self.window.lock();
        self.tick(&mut guard, config.interval_of(now), config);
        Ok(match &*guard {
            SeriesWindow::Counter(tracker) => Some(tracker.since(first, 0)),
            _ => None,
        })
    }

    fn precision(&self) -> Precision {
        match &self.metric {
            Metric::Histogram(core) => core.precision(),
            _ => Precision::DEFAULT,
        }
    }

    fn check_kind(&self, name: &str, requested: MetricKind) -> Result<()> {
        let existing = self.metric.kind();
        if existing == requested {
            Ok(())
        } else {
            Err(PerfError::KindMismatch {
                name: name.to_owned(),
                existing,
                requested,
            })
        }
    }
}

/// Limits on what user-controlled names and tags can make the registry hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_metrics: usize,
    pub(crate) max_series_per_metric: usize,
}

/// A metric that reached its series cap: where its new tag sets go.
struct Overflow {
    kind: MetricKind,
    /// The overflow series `name{perf_overflow="true"}`.
    entry: *const Entry<Series>,
    folded: Arc<CounterCore>,
}

// SAFETY: `entry` points into the registry's `SeriesIndex`, which outlives
// every `Overflow` (both are fields of `Registry`, and entries are freed only
// when the index drops); `Entry` is `Sync`.
unsafe impl Send for Overflow {}
// SAFETY: as for `Send`: `entry` is only read, as a `&Entry`, which is `Sync`.
unsafe impl Sync for Overflow {}

impl Overflow {
    /// Counts one folded lookup of `name{tags}` as a `kind` (which must be
    /// the metric's kind, with valid tags) and returns the overflow series.
    fn fold(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> Result<*const Entry<Series>> {
        if kind != self.kind {
            return Err(PerfError::KindMismatch {
                name: name.to_owned(),
                existing: self.kind,
                requested: kind,
            });
        }
        validate_tags(tags)?;
        self.folded.increment(1);
        Ok(self.entry)
    }
}

/// Per-name bookkeeping, only touched on the cold path.
struct Family {
    kind: MetricKind,
    series: usize,
}

pub(crate) struct Registry {
    index: SeriesIndex<Series>,
    hasher: SeriesHasher,
    /// Serializes creation: validation, caps and insertion.
    families: Mutex<HashMap<Box<str>, Family>>,
    /// Metrics at their cap, so folding does not wait for creators.
    full: RwLock<HashMap<Box<str>, Overflow>>,
    limits: Limits,
    precision: Precision,
    clock: Arc<dyn Clock>,
}

impl Registry {
    pub(crate) fn new(limits: Limits, precision: Precision, clock: Arc<dyn Clock>) -> Self {
        Registry {
            index: SeriesIndex::new(),
            hasher: SeriesHasher::default(),
            families: Mutex::new(HashMap::new()),
            full: RwLock::new(HashMap::new()),
            limits,
            precision,
            clock,
        }
    }

    /// Runs `f` on the series `name{tags}` of `kind`, creating it (or folding
    /// it into the overflow series) if needed.
    #[inline]
    pub(crate) fn with_series<R>(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        kind: MetricKind,
        f: impl FnOnce(&Series) -> R,
    ) -> Result<R> {
        let query = self.query(name, tags);
        let entry = match self.index.get(query.hash, |key| query.matches(key)) {
            Some(entry) => entry,
            None => self.miss(&query, kind)?,
        };
        entry.value.check_kind(name, kind)?;
        Ok(f(&entry.value))
    }

    /// Runs `f` on the existing series `name{tags}`, without creating it.
    pub(crate) fn with_existing<R>(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        f: impl FnOnce(&Series) -> R,
    ) -> Result<R> {
        let query = self.query(name, tags);
        match self.index.get(query.hash, |key| query.matches(key)) {
            Some(entry) if !entry.value.is_hidden() => Ok(f(&entry.value)),
            _ => Err(PerfError::UnknownSeries {
                series: query.to_string(),
            }),
        }
    }

    /// Calls `f` on every series, in no particular order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&SeriesKey, &Series)) {
        for entry in self.index.iter() {
            if !entry.value.is_hidden() {
                f(&entry.key, &entry.value);
            }
        }
    }

    /// Calls `f` on every series, hidden ones included.
    pub(crate) fn for_each_including_hidden(&self, mut f: impl FnMut(&SeriesKey, &Series)) {
        for entry in self.index.iter() {
            f(&entry.key, &entry.value);
        }
    }

    /// A merged view's series `key` of `kind`, inserted if absent: keys
    /// come from files that were checked when read, so only the caps and
    /// the kind are checked here. `None` past the caps or if the name is
    /// another kind's (the caller counts it).
    pub(crate) fn merged_series(&self, key: &SeriesKey, kind: MetricKind) -> Option<&Series> {
        let tags: Vec<Tag<'_>> = key.tags().collect();
        let query = self.query(key.name(), &tags);
        if let Some(entry) = self.index.get(query.hash, |k| query.matches(k)) {
            return (entry.value.metric.kind() == kind).then_some(&entry.value);
        }
        let mut families = self.families.lock();
        if let Some(entry) = self.index.get(query.hash, |k| query.matches(k)) {
            return (entry.value.metric.kind() == kind).then_some(&entry.value);
        }
        if !families.contains_key(key.name()) && families.len() >= self.limits.max_metrics {
            return None;
        }
        let family = families
            .entry(key.name().into())
            .or_insert(Family { kind, series: 0 });
        if family.kind != kind || family.series >= self.limits.max_series_per_metric {
            return None;
        }
        family.series += 1;
        Some(&self.insert(key.name(), &tags, kind).value)
    }

    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    #[inline]
    fn query<'a>(&self, name: &'a str, tags: &'a [Tag<'a>]) -> SeriesQuery<'a> {
        SeriesQuery {
            hash: self.hasher.hash(name, tags),
            name,
            tags,
        }
    }

    /// A lookup that found nothing: fold into a full metric's overflow
    /// series, or create the series.
    #[cold]
    fn miss(&self, query: &SeriesQuery<'_>, kind: MetricKind) -> Result<&Entry<Series>> {
        if let Some(overflow) = self.full.read().get(query.name) {
            let entry = overflow.fold(query.name, query.tags, kind)?;
            // SAFETY: entries live as long as `self.index`, i.e. as `self`.
            return Ok(unsafe { &*entry });
        }
        self.create(query, kind)
    }

    /// Creates the series `query` names, or picks its overflow series.
    fn create(&self, query: &SeriesQuery<'_>, kind: MetricKind) -> Result<&Entry<Series>> {
        let mut families = self.families.lock();
        if let Some(entry) = self.index.get(query.hash, |key| query.matches(key)) {
            return Ok(entry); // created by another thread meanwhile
        }
        validate_name(query.name)?;
        validate_tags(query.tags)?;
        if !families.contains_key(query.name) && families.len() >= self.limits.max_metrics {
            return Err(PerfError::TooManyMetrics {
                limit: self.limits.max_metrics,
            });
        }
        let family = families
            .entry(query.name.into())
            .or_insert(Family { kind, series: 0 });
        if family.kind != kind {
            return Err(PerfError::KindMismatch {
                name: query.name.to_owned(),
                existing: family.kind,
                requested: kind,
            });
        }
        if family.series >= self.limits.max_series_per_metric {
            return self.fold(query.name, query.tags, kind);
        }
        family.series += 1;
        Ok(self.insert(query.name, query.tags, kind))
    }

    /// Counts a folded lookup and returns `name`'s overflow series,
    /// registering the metric as full so later folds skip the families lock.
    /// Called with `families` locked.
    fn fold(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> Result<&Entry<Series>> {
        let mut full = self.full.write();
        let overflow = full.entry(name.into()).or_insert_with(|| {
            let folded = self.insert(FOLDED_COUNTER, &[("metric", name)], MetricKind::Counter);
            let Metric::Counter(folded) = &folded.value.metric else {
                unreachable!("the folded-lookups counter is a counter")
            };
            Overflow {
                kind,
                entry: self.insert(name, &[(OVERFLOW_TAG, "true")], kind),
                folded: folded.clone(),
            }
        });
        let entry = overflow.fold(name, tags, kind)?;
        // SAFETY: entries live as long as `self.index`, i.e. as `self`.
        Ok(unsafe { &*entry })
    }

    /// perf-core's own counter `name{tags}` (a reserved `perf_core_` name,
    /// outside the caps), created on first use.
    pub(crate) fn internal_counter(&self, name: &str, tags: &[Tag<'_>]) -> Arc<CounterCore> {
        let _families = self.families.lock();
        let entry = self.insert(name, tags, MetricKind::Counter);
        match &entry.value.metric {
            Metric::Counter(core) => core.clone(),
            _ => unreachable!("internal counters are only created as counters"),
        }
    }

    /// The series `name{tags}`, inserted if absent. Called with `families`
    /// locked, so checks and insertion are atomic together.
    fn insert(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> &Entry<Series> {
        let key = SeriesKey::new(self.hasher.hash(name, tags), name, tags);
        self.index
            .get_or_insert_with(key, || Series::new(kind, self.precision, &self.clock))
    }
}
