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

    /// The current value.
    pub fn value(&self) -> f64 {
        self.core.value()
    }
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
