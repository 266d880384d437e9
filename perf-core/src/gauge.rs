//! [`Gauge`]: an `f64` that is set or moved up and down.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::error::{InvalidValueReason, PerfError, Result};

/// The storage behind a gauge series: the value's bits.
pub(crate) struct GaugeCore {
    bits: AtomicU64,
}

impl GaugeCore {
    pub(crate) fn new() -> Self {
        GaugeCore {
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Relaxed))
    }
}

fn check_finite(value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        let reason = if value.is_nan() {
            InvalidValueReason::NaN
        } else {
            InvalidValueReason::Infinite
        };
        Err(PerfError::InvalidValue { value, reason })
    }
}

/// A handle to one gauge series: any finite value, set or adjusted.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// let in_flight = monitor.gauge("http.in_flight", &[])?;
/// in_flight.set(3.0)?;
/// in_flight.add(-1.0)?;
/// assert_eq!(in_flight.value(), 2.0);
/// assert!(in_flight.set(f64::NAN).is_err());
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone)]
pub struct Gauge {
    pub(crate) core: Arc<GaugeCore>,
}

impl Gauge {
    /// Sets the value. NaN and ±∞ are refused and leave it unchanged.
    pub fn set(&self, value: f64) -> Result<()> {
        self.core
            .bits
            .store(check_finite(value)?.to_bits(), Relaxed);
        Ok(())
    }

    /// Adds `delta` (which may be negative) atomically. A NaN or infinite
    /// delta, or one that would make the value infinite, is refused.
    pub fn add(&self, delta: f64) -> Result<()> {
        check_finite(delta)?;
        let mut failure = None;
        let _ = self.core.bits.fetch_update(Relaxed, Relaxed, |bits| {
            match check_finite(f64::from_bits(bits) + delta) {
                Ok(v) => Some(v.to_bits()),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }

    /// Adds `delta` `n` times in a row, atomically as one change: the
    /// value is exactly what `n` calls of [`Gauge::add`] give, each
    /// addition rounded as on its own (so `0.1` added three times is not
    /// `0.3` added once). All or nothing: a NaN or infinite `delta`, or a
    /// run that would make the value infinite, is refused and leaves the
    /// value unchanged. For bindings that buffer repeated adjustments
    /// (`inc()` in a loop) and hand them over in one call.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let g = monitor.gauge("queue.depth", &[])?;
    /// g.add_n(1.0, 1_000)?;
    /// g.add_n(0.1, 3)?;
    /// assert_eq!(g.value(), ((1000.0 + 0.1) + 0.1) + 0.1);
    /// assert!(g.add_n(f64::MAX, 2).is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn add_n(&self, delta: f64, n: u64) -> Result<()> {
        check_finite(delta)?;
        let mut failure = None;
        let _ = self.core.bits.fetch_update(Relaxed, Relaxed, |bits| {
            match repeated_sum(f64::from_bits(bits), delta, n) {
                Ok(v) => Some(v.to_bits()),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        self.core.value()
    }
}

/// `value + delta`, `n` times in a row, each addition rounded as on its
/// own. When every step is exact (integers, all partial sums below 2^53 in
/// magnitude) the steps are one multiplication and one addition, with the
/// same result; otherwise they are taken one by one.
fn repeated_sum(value: f64, delta: f64, n: u64) -> Result<f64> {
    /// 2^53: integers below it in magnitude are exact in an `f64`.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n == 0 {
        return Ok(value);
    }
    let steps = n as f64;
    let total = delta * steps;
    let integers = value.fract() == 0.0 && delta.fract() == 0.0 && steps < EXACT;
    if integers && value.abs() + total.abs() < EXACT {
        return Ok(value + total);
    }
    (0..n).try_fold(value, |v, _| check_finite(v + delta))
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauge")
            .field("value", &self.value())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn gauge() -> Gauge {
        Gauge {
            core: Arc::new(GaugeCore::new()),
        }
    }

    #[test]
    fn concurrent_adds_are_all_applied() {
        let g = gauge();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| g.add(0.5).unwrap()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(g.value(), 2000.0);
    }

    #[test]
    fn add_n_is_n_adds_in_a_row() {
        let cases = [
            (0.0, 1.0, 1000),
            (0.5, 0.1, 7),
            (-3.0, -2.0, 5),
            (1e16, 1.0, 4),
            (7.0, 0.0, 3),
        ];
        for (start, delta, n) in cases {
            let (one_by_one, at_once) = (gauge(), gauge());
            one_by_one.set(start).unwrap();
            at_once.set(start).unwrap();
            (0..n).for_each(|_| one_by_one.add(delta).unwrap());
            at_once.add_n(delta, n).unwrap();
            assert_eq!(
                at_once.value().to_bits(),
                one_by_one.value().to_bits(),
                "{start} + {delta} x {n}"
            );
        }
        let g = gauge();
        g.set(-0.0).unwrap();
        g.add_n(0.0, 0).unwrap();
        assert_eq!(g.value().to_bits(), (-0.0f64).to_bits());
    }

    proptest::proptest! {
        /// Integer and fractional runs alike: the bits of `add_n` are the
        /// bits of `n` adds.
        #[test]
        fn add_n_matches_adds_bit_for_bit(
            start in proptest::prop_oneof![(-1_000_000i64..1_000_000).prop_map(|v| v as f64), -1e6f64..1e6],
            delta in proptest::prop_oneof![(-100i64..100).prop_map(|v| v as f64), -10.0f64..10.0],
            n in 0u64..300,
        ) {
            let (one_by_one, at_once) = (gauge(), gauge());
            one_by_one.set(start).unwrap();
            at_once.set(start).unwrap();
            (0..n).for_each(|_| one_by_one.add(delta).unwrap());
            at_once.add_n(delta, n).unwrap();
            proptest::prop_assert_eq!(at_once.value().to_bits(), one_by_one.value().to_bits());
        }
    }

    #[test]
    fn add_n_is_all_or_nothing() {
        let g = gauge();
        g.set(f64::MAX / 2.0).unwrap();
        assert!(g.add_n(f64::MAX / 4.0, 3).is_err());
        assert_eq!(g.value(), f64::MAX / 2.0);
        assert!(g.add_n(f64::INFINITY, 1).is_err());
    }

    #[test]
    fn overflowing_add_is_refused_and_keeps_the_value() {
        let g = gauge();
        g.set(f64::MAX).unwrap();
        assert!(g.add(f64::MAX).is_err());
        assert_eq!(g.value(), f64::MAX);
        assert!(g.add(f64::NAN).is_err());
        g.set(-5.0).unwrap();
        assert_eq!(g.value(), -5.0);
    }
}
