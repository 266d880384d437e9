//! The series registry: name + tags → series, with per-metric series caps.
//!
//! Lookups of existing series take no lock: the map is a `papaya` concurrent
//! hash map keyed by [`SeriesKey`], whose hash is computed once per lookup in
//! a tag-order-insensitive way, so a borrowed `(name, &[(k, v)])` query finds
//! its series without sorting or allocating. Creating a series is the cold
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
//! Series are never removed, so a reference found under a guard stays valid
//! and a created series is always found again.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::bucket::Precision;
use crate::counter::CounterCore;
use crate::error::{MetricKind, PerfError, Result};
use crate::gauge::GaugeCore;
use crate::histogram::HistogramCore;
use crate::series::{
    validate_name, validate_tags, Prehashed, SeriesHasher, SeriesKey, SeriesQuery, Tag,
    OVERFLOW_TAG,
};
use crate::snapshot::HistogramSnapshot;
use crate::window::WindowTracker;

/// Name of the counter of lookups folded into overflow series.
pub const FOLDED_COUNTER: &str = "perf_core_series_folded_total";

/// The storage of one series, by kind.
pub(crate) enum Metric {
    Histogram(Arc<HistogramCore>),
    Counter(Arc<CounterCore>),
    Gauge(Arc<GaugeCore>),
}

impl Metric {
    fn new(kind: MetricKind, precision: Precision) -> Metric {
        match kind {
            MetricKind::Histogram => Metric::Histogram(Arc::new(HistogramCore::new(precision))),
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
}

impl Series {
    fn new(kind: MetricKind, precision: Precision) -> Series {
        let window = match kind {
            MetricKind::Histogram => SeriesWindow::Histogram {
                tracker: WindowTracker::new(HistogramSnapshot::empty(precision)),
                fingerprint: 0,
            },
            MetricKind::Counter => SeriesWindow::Counter(WindowTracker::new(0)),
            MetricKind::Gauge => SeriesWindow::None,
        };
        Series {
            metric: Metric::new(kind, precision),
            window: Mutex::new(window),
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
    key: SeriesKey,
    folded: Arc<CounterCore>,
}

impl Overflow {
    /// Counts one folded lookup of `name{tags}` as a `kind` (which must be
    /// the metric's kind, with valid tags) and returns the overflow series' key.
    fn fold(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> Result<&SeriesKey> {
        if kind != self.kind {
            return Err(PerfError::KindMismatch {
                name: name.to_owned(),
                existing: self.kind,
                requested: kind,
            });
        }
        validate_tags(tags)?;
        self.folded.increment(1);
        Ok(&self.key)
    }
}

/// Per-name bookkeeping, only touched on the cold path.
struct Family {
    kind: MetricKind,
    series: usize,
}

pub(crate) struct Registry {
    map: papaya::HashMap<SeriesKey, Series, Prehashed>,
    hasher: SeriesHasher,
    families: Mutex<HashMap<Box<str>, Family>>,
    /// Metrics at their cap, so folding needs no lock.
    full: papaya::HashMap<Box<str>, Overflow>,
    limits: Limits,
    precision: Precision,
}

impl Registry {
    pub(crate) fn new(limits: Limits, precision: Precision) -> Self {
        Registry {
            map: papaya::HashMap::with_hasher(Prehashed),
            hasher: SeriesHasher::default(),
            families: Mutex::new(HashMap::new()),
            full: papaya::HashMap::new(),
            limits,
            precision,
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
        let map = self.map.pin();
        let series = match map.get(&query) {
            Some(series) => series,
            None => {
                let full = self.full.pin();
                let found = match full.get(name) {
                    Some(overflow) => map.get(overflow.fold(name, tags, kind)?),
                    None => map.get(&self.create(&query, kind)?),
                };
                found.expect("series are never removed, and this key was inserted")
            }
        };
        series.check_kind(name, kind)?;
        Ok(f(series))
    }

    /// Runs `f` on the existing series `name{tags}`, without creating it.
    pub(crate) fn with_existing<R>(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        f: impl FnOnce(&Series) -> R,
    ) -> Result<R> {
        let query = self.query(name, tags);
        match self.map.pin().get(&query) {
            Some(series) => Ok(f(series)),
            None => Err(PerfError::UnknownSeries {
                series: query.to_string(),
            }),
        }
    }

    /// Calls `f` on every series, in no particular order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&SeriesKey, &Series)) {
        for (key, series) in self.map.pin().iter() {
            f(key, series);
        }
    }

    #[inline]
    fn query<'a>(&self, name: &'a str, tags: &'a [Tag<'a>]) -> SeriesQuery<'a> {
        SeriesQuery {
            hash: self.hasher.hash(name, tags),
            name,
            tags,
        }
    }

    /// Creates the series `query` names, or picks its overflow series, and
    /// returns the key to find it under.
    #[cold]
    fn create(&self, query: &SeriesQuery<'_>, kind: MetricKind) -> Result<SeriesKey> {
        let mut families = self.families.lock();
        let map = self.map.pin();
        if let Some((key, _)) = map.get_key_value(query) {
            return Ok(key.clone()); // created by another thread meanwhile
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

    /// Counts a folded lookup and returns the key of `name`'s overflow series,
    /// registering the metric as full so later folds skip the lock.
    /// Called with `families` locked.
    fn fold(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> Result<SeriesKey> {
        let full = self.full.pin();
        let overflow = full.get_or_insert_with(name.into(), || {
            let folded = self.insert(FOLDED_COUNTER, &[("metric", name)], MetricKind::Counter);
            let folded = match self.map.pin().get(&folded).map(|s| &s.metric) {
                Some(Metric::Counter(counter)) => counter.clone(),
                _ => unreachable!("the folded-lookups counter is a counter"),
            };
            Overflow {
                kind,
                key: self.insert(name, &[(OVERFLOW_TAG, "true")], kind),
                folded,
            }
        });
        overflow.fold(name, tags, kind).cloned()
    }

    /// Inserts a series if absent and returns its key. Called with
    /// `families` locked, which makes the check-then-insert race-free.
    fn insert(&self, name: &str, tags: &[Tag<'_>], kind: MetricKind) -> SeriesKey {
        let key = SeriesKey::new(self.hasher.hash(name, tags), name, tags);
        let map = self.map.pin();
        if !map.contains_key(&key) {
            map.insert(key.clone(), Series::new(kind, self.precision));
        }
        key
    }

    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }
}
