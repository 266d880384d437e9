//! [`Stats`]: the summary users read — count, sum, extremes, moments and the
//! default percentiles — plus any other percentile on demand.

use crate::error::Result;
use crate::snapshot::HistogramSnapshot;

/// Summary statistics of a histogram series, cumulative or over a window.
///
/// Every percentile is within [`crate::Precision::relative_error`] (0.39 % by
/// default) of the exact nearest-rank percentile of the recorded values.
/// `count` and `sum` are exact (the sum is compensated, so it is the correctly
/// rounded total in practice). For an empty series `count` and `sum` are 0
/// and every other value field is NaN.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// let h = monitor.histogram("db.query", &[])?;
/// for v in 1..=1000 {
///     h.record(f64::from(v))?;
/// }
/// let stats = monitor.stats("db.query", &[])?;
/// assert_eq!(stats.count, 1000);
/// assert!((stats.p99 - 990.0).abs() <= 990.0 * 0.0039);
/// assert!((stats.percentile(12.5)? - 125.0).abs() <= 125.0 * 0.0039);
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Number of values.
    pub count: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub stddev: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Values refused (NaN, infinite, negative, too large) since the series
    /// was created; never part of the other fields.
    pub rejected: u64,
    snapshot: HistogramSnapshot,
}

/// The percentiles `Stats` computes up front.
pub const DEFAULT_PERCENTILES: [f64; 6] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9];

impl Stats {
    /// Statistics of a snapshot.
    pub fn from_snapshot(snapshot: HistogramSnapshot, rejected: u64) -> Stats {
        let p = snapshot
            .percentiles(&DEFAULT_PERCENTILES)
            .expect("default percentiles are within [0, 100]");
        Stats {
            count: snapshot.count(),
            sum: snapshot.sum(),
            min: snapshot.min(),
            max: snapshot.max(),
            mean: snapshot.mean(),
            stddev: snapshot.stddev(),
            p50: p[0],
            p75: p[1],
            p90: p[2],
            p95: p[3],
            p99: p[4],
            p999: p[5],
            rejected,
            snapshot,
        }
    }

    /// Any percentile `q` in `[0, 100]`; see [`HistogramSnapshot::percentile`].
    pub fn percentile(&self, q: f64) -> Result<f64> {
        self.snapshot.percentile(q)
    }

    /// Whether no value was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The snapshot these statistics were computed from.
    pub fn snapshot(&self) -> &HistogramSnapshot {
        &self.snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Precision;

    #[test]
    fn fields_match_the_snapshot() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        let snap = HistogramSnapshot::from_values(Precision::DEFAULT, &values).unwrap();
        let stats = Stats::from_snapshot(snap.clone(), 3);
        assert_eq!(stats.count, 200);
        assert_eq!(stats.sum, 20100.0);
        assert_eq!((stats.min, stats.max), (1.0, 200.0));
        assert_eq!(stats.mean, 100.5);
        assert_eq!(stats.p95, snap.percentile(95.0).unwrap());
        assert_eq!(stats.p999, snap.percentile(99.9).unwrap());
        assert_eq!(stats.rejected, 3);
    }

    #[test]
    fn empty_stats_are_nan() {
        let stats = Stats::from_snapshot(HistogramSnapshot::empty(Precision::DEFAULT), 0);
        assert!(stats.is_empty());
        assert!(stats.p50.is_nan() && stats.mean.is_nan() && stats.max.is_nan());
    }
}
