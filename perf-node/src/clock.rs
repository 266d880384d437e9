//! `ManualClock`: time that moves only when told, for deterministic tests
//! of windows, rules, cooldowns and emergency transitions.

use napi_derive::napi;
use perf_core::ManualClock;

use crate::convert::{duration_from_ms, timestamp_from_ms, timestamp_ms};
use crate::error::Result;

/// A manual clock (the facade's `ManualClock` wraps it, flushing the
/// buffers of its monitors before time moves).
#[napi]
pub struct NativeManualClock {
    pub(crate) inner: ManualClock,
}

#[napi]
impl NativeManualClock {
    /// A clock standing at `start_ms` milliseconds since the epoch.
    #[napi(constructor)]
    pub fn new(start_ms: f64) -> Result<Self> {
        Ok(NativeManualClock {
            inner: ManualClock::new(timestamp_from_ms("start", start_ms)?),
        })
    }

    /// Moves time forward by `ms` milliseconds.
    #[napi]
    pub fn advance(&self, ms: f64) -> Result<()> {
        self.inner.advance(duration_from_ms("advance", ms)?);
        Ok(())
    }

    /// Moves time to `ms` since the epoch (a time in the past is ignored).
    #[napi]
    pub fn set(&self, ms: f64) -> Result<()> {
        self.inner.set(timestamp_from_ms("time", ms)?);
        Ok(())
    }

    /// The current time, in ms since the epoch.
    #[napi]
    pub fn now(&self) -> f64 {
        timestamp_ms(perf_core::Clock::now(&self.inner))
    }
}
