//! Merging the states of a group's processes: histograms bucket by bucket,
//! counters by addition, gauges by their [`GaugeMode`] over live processes.

use std::collections::HashMap;

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
pub(crate) struct Merge {
    series: HashMap<SeriesKey, SeriesState>,
    pub(crate) dropped: Dropped,
}

impl Merge {
    pub(crate) fn new() -> Merge {
        Merge {
            series: HashMap::new(),
            dropped: Dropped::default(),
        }
    }

    /// Adds one source: histograms and counters always (a dead process's
    /// counts stay), gauges only from live processes.
    pub(crate) fn add(&mut self, source: &Source<'_>) {
        for (key, state) in source.series {
            match state {
                SeriesState::Histogram { snapshot, rejected } => {
                    self.add_histogram(key, snapshot, *rejected)
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

    fn add_histogram(&mut self, key: &SeriesKey, snapshot: &HistogramSnapshot, rejected: u64) {
        match self.series.get_mut(key) {
            None => {
                let merged = SeriesState::Histogram {
                    snapshot: snapshot.clone(),
                    rejected,
                };
                self.series.insert(key.clone(), merged);
            }
            Some(SeriesState::Histogram {
                snapshot: total,
                rejected: refused,
            }) if total.precision() == snapshot.precision() => {
                total.merge(snapshot);
                *refused = refused.saturating_add(rejected);
            }
            Some(_) => self.dropped.conflicts += 1,
        }
    }

    fn add_counter(&mut self, key: &SeriesKey, n: u64) {
        match self.series.get_mut(key) {
            None => {
                self.series.insert(key.clone(), SeriesState::Counter(n));
            }
            Some(SeriesState::Counter(total)) => *total = total.wrapping_add(n),
            Some(_) => self.dropped.conflicts += 1,
        }
    }

    fn add_gauge(&mut self, key: &SeriesKey, pid: u32, mode: GaugeMode, value: f64, at: u64) {
        let key = match mode {
            GaugeMode::PerProcess => match with_pid(key, pid) {
                Some(key) => key,
                None => {
                    self.dropped.over_limits += 1;
                    return;
                }
            },
            _ => key.clone(),
        };
        match self.series.get_mut(&key) {
            None => {
                let merged = SeriesState::Gauge {
                    mode,
                    value,
                    changed_at: at,
                };
                self.series.insert(key, merged);
            }
            Some(SeriesState::Gauge {
                mode,
                value: total,
                changed_at,
            }) => {
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

    /// Makes `view` hold the merged state: every merged series is written
    /// (and shown), every other series of the view is hidden. The caller
    /// holds the view's write lock.
    pub(crate) fn apply(mut self, view: &Registry) -> Dropped {
        view.for_each_including_hidden(|key, series| {
            let Some(merged) = self.series.remove(key) else {
                series.set_hidden(true);
                return;
            };
            if write(&series.metric, &merged) {
                series.set_hidden(false);
            } else {
                self.dropped.conflicts += 1;
            }
        });
        for (key, merged) in self.series {
            match view.merged_series(&key, merged.kind()) {
                Some(series) if write(&series.metric, &merged) => {}
                Some(_) => self.dropped.conflicts += 1,
                None => self.dropped.over_limits += 1,
            }
        }
        self.dropped
    }
}

/// Writes a merged value into a view's series of the same kind; false if
/// the kinds (or precisions) differ.
fn write(metric: &Metric, merged: &SeriesState) -> bool {
    match (metric, merged) {
        (Metric::Histogram(core), SeriesState::Histogram { snapshot, rejected }) => {
            if core.precision() != snapshot.precision() {
                return false;
            }
            core.replace_with(snapshot, *rejected);
        }
        (Metric::Counter(core), SeriesState::Counter(n)) => {
            // Striped: move the total to `n` by the (wrapping) difference.
            core.increment(n.wrapping_sub(core.value()));
        }
        (Metric::Gauge(core), SeriesState::Gauge { value, .. }) => {
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
