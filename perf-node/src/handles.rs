//! Recording handles. The facade buffers histogram values and counter
//! increments in JavaScript and hands them over here in batches, so one
//! native call carries many records.

use napi::bindgen_prelude::Float64ArraySlice;
use napi_derive::napi;
use perf_core::{Counter, Gauge, Histogram};

use crate::convert::safe_integer;
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

    /// Records `value` `n` times ([`Histogram::record_n`]); `n` is a
    /// non-negative safe integer.
    #[napi]
    pub fn record_n(&self, value: f64, n: f64) -> Result<()> {
        let n = safe_integer("ERR_PERF_INVALID_VALUE", "n", n)?;
        self.inner.record_n(value, n).js()
    }

    /// Records every value of an array ([`Histogram::record_many`]): the
    /// valid ones are recorded, the others counted as rejected, and the
    /// first refusal is thrown.
    #[napi]
    pub fn record_many(&self, values: Vec<f64>) -> Result<()> {
        self.inner.record_many(&values).js()
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
    /// Adds `n`, a non-negative safe integer (the facade sums buffered
    /// increments into one call, and hands over any other increment as it
    /// is, for this check to refuse).
    #[napi]
    pub fn increment(&self, n: f64) -> Result<()> {
        self.inner.increment(safe_integer(
            "ERR_PERF_INVALID_VALUE",
            "a counter increment",
            n,
        )?);
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

    /// Adds the first `len` runs in order: `deltas[i]` added `repeats[i]`
    /// times in a row ([`Gauge::add_n`], each addition rounded as on its
    /// own: the facade buffers deltas, never their sum, so the value is
    /// exactly what that many `add` calls give). A refused run leaves the
    /// value as it was; the others are still added and the first refusal
    /// is thrown.
    #[napi]
    pub fn add_runs(
        &self,
        deltas: Float64ArraySlice<'_>,
        repeats: Float64ArraySlice<'_>,
        len: u32,
    ) -> Result<()> {
        let runs = deltas.get(..len as usize).zip(repeats.get(..len as usize));
        let (deltas, repeats) = runs.ok_or_else(|| {
            binding_error("ERR_PERF_INVALID_VALUE", "batch length beyond the buffer")
        })?;
        let mut first = None;
        for (&delta, &n) in deltas.iter().zip(repeats) {
            // The facade counts each run in a double: a whole number of adds.
            if let Err(err) = self.inner.add_n(delta, n as u64) {
                first.get_or_insert(err);
            }
        }
        first.map_or(Ok(()), Err).js()
    }

    /// The current value.
    #[napi]
    pub fn value(&self) -> f64 {
        self.inner.value()
    }
}
