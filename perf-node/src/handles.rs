//! Recording handles. The facade buffers histogram values and counter
//! increments in JavaScript and hands them over here in batches, so one
//! native call carries many records.

use napi::bindgen_prelude::Float64ArraySlice;
use napi_derive::napi;
use perf_core::{Counter, Gauge, Histogram};

use crate::error::{binding_error, IntoJs, Result};

/// The range of histogram values, from the core (the facade checks values
/// against it before buffering them, without a copy of the numbers).
#[napi(object)]
pub struct ValueRange {
    /// Values at or above this (2^64) are refused.
    pub max_exclusive: f64,
    /// Values below this (2^-64) are counted as 0.
    pub min_bucketed: f64,
}

/// The core's histogram value range.
#[napi]
pub fn value_range() -> ValueRange {
    ValueRange {
        max_exclusive: perf_core::MAX_EXCLUSIVE,
        min_bucketed: perf_core::MIN_BUCKETED,
    }
}

/// A histogram series (`monitor.histogram(name, tags)` in the facade).
#[napi]
pub struct NativeHistogram {
    pub(crate) inner: Histogram,
}

#[napi]
impl NativeHistogram {
    /// Records the first `len` values of `values`. The facade validated
    /// them; should one still be refused, the others are recorded, the
    /// refused one counts in the series' `rejected`, and the first error is
    /// thrown.
    #[napi]
    pub fn record_batch(&self, values: Float64ArraySlice<'_>, len: u32) -> Result<()> {
        let values = values.get(..len as usize).ok_or_else(|| {
            binding_error("ERR_PERF_INVALID_VALUE", "batch length beyond the buffer")
        })?;
        self.inner.record_many(values).js()
    }

    /// Records one value.
    #[napi]
    pub fn record(&self, value: f64) -> Result<()> {
        self.inner.record(value).js()
    }

    /// Values refused so far.
    #[napi]
    pub fn rejected(&self) -> f64 {
        self.inner.rejected() as f64
    }

    /// Bytes of memory the series' storage uses.
    #[napi]
    pub fn memory_bytes(&self) -> f64 {
        self.inner.memory_bytes() as f64
    }
}

/// A counter series.
#[napi]
pub struct NativeCounter {
    pub(crate) inner: Counter,
}

#[napi]
impl NativeCounter {
    /// Adds `n`, a non-negative integer (the facade sums buffered
    /// increments into one call).
    #[napi]
    pub fn increment(&self, n: f64) -> Result<()> {
        if !(n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0) {
            return Err(binding_error(
                "ERR_PERF_INVALID_VALUE",
                format!("a counter increment must be a non-negative safe integer, got {n}"),
            ));
        }
        self.inner.increment(n as u64);
        Ok(())
    }

    /// The count so far.
    #[napi]
    pub fn value(&self) -> f64 {
        self.inner.value() as f64
    }
}

/// A gauge series.
#[napi]
pub struct NativeGauge {
    pub(crate) inner: Gauge,
}

#[napi]
impl NativeGauge {
    /// Sets the value (finite).
    #[napi]
    pub fn set(&self, value: f64) -> Result<()> {
        self.inner.set(value).js()
    }

    /// Adds `delta` (finite, may be negative).
    #[napi]
    pub fn add(&self, delta: f64) -> Result<()> {
        self.inner.add(delta).js()
    }

    /// The current value.
    #[napi]
    pub fn value(&self) -> f64 {
        self.inner.value()
    }
}
