//! Merging the states of a group's processes: histograms bucket by bucket,
//! counters by addition, gauges by their [`GaugeMode`] over live processes.

use std::borrow::Cow;

use foldhash::HashMap as FoldHashMap;
use std::hash::BuildHasher;

use crate::error::MetricKind;
use crate::gauge::Gauge;
use crate::registry::{Metric, Registry};
use crate::series::{SeriesKey, Tag, MAX_TAGS};
use crate::snapshot::HistogramSnapshot;

use super::format::SeriesState;
use super::GaugeMode;

/// The tag that tells apart the series of [`GaugeMode::PerProcess`].
pub const PID_TAG: &str = "pid";

/// One source's series, as the merge sees them.
pub(crate) struct Source<'a> {
    /// The source's identity: the process's instance id (0: the archive).
    pub(crate) id: u64,
    pub(crate) pid: u32,
    /// Whether the process is alive: only live processes' gauges count.
    pub(crate) live: bool,
    pub(crate) series: &'a [(SeriesKey, SeriesState)],
}

impl SeriesState {
    fn kind(&self) -> MetricKind {
        match self {
            SeriesState::Histogram { .. } => MetricKind::Histogram,
            SeriesState::Counter(_) => MetricKind::Counter,
            SeriesState::Gauge { .. } => MetricKind::Gauge,
        }
    }
}

/// What a merge could not use, for the group's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Series whose name another process uses for another kind, or whose
    /// histograms have another precision.
    pub(crate) conflicts: u64,
    /// Series past the view's caps, or per-process gauges that already
    /// have a `pid` tag or the most tags.
    pub(crate) over_limits: u64,
}

/// The merged state of every series of `sources`.
///
/// Histograms are merged only when written ([`Merge::apply`]) — their
/// parts added straight into the view's buckets — and only if they
/// changed: a histogram's *signature* combines, for every source
/// holding it, the source's identity with the histogram's count and
/// refusals. A source's histograms are cumulative — a count that did not
/// move is a histogram that did not change — so a signature equal to the
/// one the view's series was last written with means the view holds the
/// merge already.
pub(crate) struct Merge<'a> {
    series: FoldHashMap<Cow<'a, SeriesKey>, Merging<'a>>,
    pub(crate) dropped: Dropped,
}

/// One series being merged.
enum Merging<'a> {
    /// The parts, added up when written.
    Histogram {
        parts: Vec<&'a HistogramSnapshot>,
        rejected: u64,
        signature: u64,
    },
    /// A counter or gauge, merged as sources are added.
    Merged(SeriesState),
}

impl Merging<'_> {
    /// A histogram's signature (never 0); 0 for other kinds, which are
    /// always written.
    fn signature(&self) -> u64 {
        match self {
            Merging::Histogram { signature, .. } => (*signature).max(1),
            Merging::Merged(_) => 0,
        }
    }

    fn kind(&self) -> MetricKind {
        match self {
            Merging::Histogram { .. } => MetricKind::Histogram,
            Merging::Merged(state) => state.kind(),
        }
    }
}

impl<'a> Merge<'a> {
    pub(crate) fn new() -> Merge<'a> {
        Merge {
            series: FoldHashMap::default(),
            dropped: Dropped::default(),
        }
    }

    /// Adds one source: histograms and counters always (a dead process's
    /// counts stay), gauges only from live processes.
    pub(crate) fn add(&mut self, source: &Source<'a>) {
        for (key, state) in source.series {
            let key = Cow::Borrowed(key);
            match state {
                SeriesState::Histogram { snapshot, rejected } => {
                    self.add_histogram(key, source.id, snapshot, *rejected)
                }
                SeriesState::Counter(n) => self.add_counter(key, *n),
                SeriesState::Gauge {
                    mode,
                    value,
                    changed_at,
                } if source.live => self.add_gauge(key, source.pid, *mode, *value, *changed_at),
                SeriesState::Gauge { .. } => {}
            }
        }
    }

    fn add_histogram(
        &mut self,
        key: Cow<'a, SeriesKey>,
        source: u64,
        snapshot: &'a HistogramSnapshot,
        rejected: u64,
    ) {
        let part = part_signature(source, snapshot, rejected);
        match self.series.get_mut(&*key) {
            None => {
                let merging = Merging::Histogram {
                    parts: vec![snapshot],
                    rejected,
                    signature: part,
                };
                self.series.insert(key, merging);
            }
            Some(Merging::Histogram {
                parts,
                rejected: refused,
                signature,
            }) if parts[0].precision() == snapshot.precision() => {
                parts.push(snapshot);
                *refused = refused.saturating_add(rejected);
                // Order-independent: sources are listed in any order.
                *signature = signature.wrapping_add(part);
            }
            Some(_) => self.dropped.conflicts += 1,
        }
    }

    fn add_counter(&mut self, key: Cow<'a, SeriesKey>, n: u64) {
        match self.series.get_mut(&*key) {
            None => {
                let merging = Merging::Merged(SeriesState::Counter(n));
                self.series.insert(key, merging);
            }
            Some(Merging::Merged(SeriesState::Counter(total))) => *total = total.saturating_add(n),
            Some(_) => self.dropped.conflicts += 1,
        }
    }

    fn add_gauge(
        &mut self,
        key: Cow<'a, SeriesKey>,
        pid: u32,
        mode: GaugeMode,
        value: f64,
        at: u64,
    ) {
        let key = match mode {
            GaugeMode::PerProcess => match with_pid(&key, pid) {
                Some(key) => Cow::Owned(key),
                None => {
                    self.dropped.over_limits += 1;
                    return;
                }
            },
            _ => key,
        };
        match self.series.get_mut(&*key) {
            None => {
                let merged = SeriesState::Gauge {
                    mode,
                    value,
                    changed_at: at,
                };
                self.series.insert(key, Merging::Merged(merged));
            }
            Some(Merging::Merged(SeriesState::Gauge {
                mode,
                value: total,
                changed_at,
            })) => {
                match mode {
                    // Per process: only several monitors of one process
                    // share a pid tag, and add up like one process's.
                    GaugeMode::Sum | GaugeMode::PerProcess => *total += value,
                    GaugeMode::Max => *total = total.max(value),
                    GaugeMode::Min => *total = total.min(value),
                    GaugeMode::Latest if at > *changed_at => *total = value,
                    GaugeMode::Latest => {} // a tie keeps the first value
                }
                *changed_at = (*changed_at).max(at);
            }
            Some(_) => self.dropped.conflicts += 1,
        }
    }

    /// Makes `view` hold the merged state: every merged series that
    /// changed is written (and shown), every other series of the view is
    /// hidden. Each histogram of the view keeps the signature it was last
    /// written with. The caller holds the view's write lock.
    pub(crate) fn apply(mut self, view: &Registry) -> Dropped {
        view.for_each_including_hidden(|key, series| {
            let Some(merging) = self.series.remove(key) else {
                series.set_hidden(true);
                series.set_merged_signature(0);
                return;
            };
            let signature = merging.signature();
            if signature != 0 && !series.is_hidden() && series.merged_signature() == signature {
                return; // the view holds this merge already
            }
            if write(&series.metric, &merging) {
                series.set_hidden(false);
                series.set_merged_signature(signature);
            } else {
                self.dropped.conflicts += 1;
            }
        });
        for (key, merging) in self.series {
            let signature = merging.signature();
            match view.merged_series(&key, merging.kind()) {
                Some(series) if write(&series.metric, &merging) => {
                    series.set_merged_signature(signature);
                }
                Some(_) => self.dropped.conflicts += 1,
                None => self.dropped.over_limits += 1,
            }
        }
        self.dropped
    }
}

/// One source's share of a histogram's signature.
fn part_signature(source: u64, snapshot: &HistogramSnapshot, rejected: u64) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one((source, snapshot.count(), rejected))
}

/// Writes a merged value into a view's series of the same kind; false if
/// the kinds (or precisions) differ. A histogram's parts are added into
/// the series' buckets directly.
fn write(metric: &Metric, merging: &Merging<'_>) -> bool {
    match (metric, merging) {
        (
            Metric::Histogram(core),
            Merging::Histogram {
                parts, rejected, ..
            },
        ) => {
            if parts
                .iter()
                .any(|part| part.precision() != core.precision())
            {
                return false;
            }
            core.replace_with_sum(parts, *rejected);
        }
        (Metric::Counter(core), Merging::Merged(SeriesState::Counter(n))) => {
            core.replace_with(*n);
        }
        (Metric::Gauge(core), Merging::Merged(SeriesState::Gauge { value, .. })) => {
            let gauge = Gauge { core: core.clone() };
            // Merged values are sums, extremes or copies of finite values.
            if gauge.set(*value).is_err() {
                return false;
            }
        }
        _ => return false,
    }
    true
}

/// `key` with a `pid` tag, or `None` if it has one or has the most tags.
fn with_pid(key: &SeriesKey, pid: u32) -> Option<SeriesKey> {
    if key.tag(PID_TAG).is_some() || key.tags().len() >= MAX_TAGS {
        return None;
    }
    let pid = pid.to_string();
    let mut tags: Vec<Tag<'_>> = key.tags().collect();
    tags.push((PID_TAG, &pid));
    Some(SeriesKey::detached(key.name(), &tags))
}
