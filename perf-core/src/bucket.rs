//! Float-native log-linear bucketing: the accuracy guarantee of perf-core.
//!
//! A value's bucket is read straight from its IEEE-754 bits, with no search and
//! no logarithm: for a positive `f64`, the bit pattern read as a `u64` grows
//! with the value, and its top bits are the exponent followed by the mantissa.
//! Keeping the exponent and the top `p` mantissa bits,
//!
//! ```text
//! key(v) = v.to_bits() >> (52 - p)
//! ```
//!
//! splits every octave `[2^e, 2^(e+1))` into `2^p` equal sub-buckets. A bucket
//! `[lo, hi)` therefore has `hi - lo = 2^(e-p) <= lo * 2^-p`, and reporting its
//! midpoint errs by at most half that width:
//!
//! ```text
//! |mid - v| <= (hi - lo) / 2 <= lo * 2^-(p+1) <= v * 2^-(p+1)
//! ```
//!
//! so **every value, and hence every percentile, is reported within a relative
//! error of `2^-(p+1)`**: 0.390625 % at the default `p = 7`, 0.78 % at `p = 6`.
//!
//! The trackable range is `[2^-64, 2^64)` (5.4e-20 to 1.8e19), 128 octaves.
//! Values in `[0, 2^-64)` (zero included) share one *zero bucket* reported as 0,
//! an absolute error below 5.4e-20. Larger values are refused.

use crate::error::{InvalidValueReason, PerfError, Result};

/// Lowest octave exponent: values below `2^MIN_EXPONENT` go to the zero bucket.
pub const MIN_EXPONENT: i32 = -64;
/// Number of octaves: exponents `MIN_EXPONENT .. MIN_EXPONENT + OCTAVES`.
pub const OCTAVES: usize = 128;
/// The smallest value that gets a bucket of its own (`2^-64`).
pub const MIN_BUCKETED: f64 = 5.421010862427522e-20;
/// The first value that is refused as too large (`2^64`).
pub const MAX_EXCLUSIVE: f64 = 18446744073709551616.0;

/// Bits of `MIN_BUCKETED`: a valid value with smaller bits is in the zero bucket.
pub(crate) const MIN_BUCKETED_BITS: u64 = ((1023 + MIN_EXPONENT) as u64) << 52;
/// Bits of `MAX_EXCLUSIVE`. One unsigned comparison, `bits < MAX_BITS`, accepts
/// exactly the values in `[0, 2^64)`: NaN, +inf and anything with the sign bit
/// set (negatives, and -0.0, which is handled on the cold path) compare above it.
pub(crate) const MAX_BITS: u64 = ((1023 + MIN_EXPONENT + OCTAVES as i32) as u64) << 52;

/// Resolution of a histogram: `2^bits` sub-buckets per octave.
///
/// | bits | relative error bound | counts per octave |
/// |------|----------------------|-------------------|
/// | 6    | 0.78 %               | 64                |
/// | 7 (default) | 0.39 %        | 128               |
/// | 8    | 0.20 %               | 256               |
///
/// ```
/// use perf_core::Precision;
/// let p = Precision::new(7).unwrap();
/// assert_eq!(p.relative_error(), 0.00390625);
/// assert!(Precision::new(11).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Precision(u8);

impl Precision {
    /// The coarsest precision accepted (12.5 % error).
    pub const MIN_BITS: u8 = 2;
    /// The finest precision accepted (0.05 % error, 8 KiB per octave and thread).
    pub const MAX_BITS: u8 = 10;
    /// The default: 7 bits, error ≤ 0.39 %.
    pub const DEFAULT: Precision = Precision(7);

    /// A precision of `bits` mantissa bits, within `MIN_BITS..=MAX_BITS`.
    pub fn new(bits: u8) -> Result<Self> {
        if (Self::MIN_BITS..=Self::MAX_BITS).contains(&bits) {
            Ok(Precision(bits))
        } else {
            Err(PerfError::InvalidConfig(format!(
                "precision must be {}..={} bits, got {bits}",
                Self::MIN_BITS,
                Self::MAX_BITS
            )))
        }
    }

    /// Mantissa bits kept per bucket.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Sub-buckets per octave (`2^bits`).
    pub const fn sub_buckets(self) -> usize {
        1 << self.0
    }

    /// The bound on the relative error of every reported value: `2^-(bits+1)`.
    pub fn relative_error(self) -> f64 {
        0.5f64.powi(i32::from(self.0) + 1)
    }

    /// The bucket key of a value in `[MIN_BUCKETED, MAX_EXCLUSIVE)`.
    #[inline(always)]
    pub(crate) const fn key_of_bits(self, bits: u64) -> u32 {
        (bits >> (52 - self.0 as u32)) as u32
    }

    /// Splits a key into its octave index (0..OCTAVES) and sub-bucket index.
    #[inline(always)]
    pub(crate) const fn split(self, key: u32) -> (usize, usize) {
        let first_octave_key = ((1023 + MIN_EXPONENT) as u32) << self.0;
        let rel = key - first_octave_key;
        (
            (rel >> self.0) as usize,
            (rel & ((1 << self.0) - 1)) as usize,
        )
    }

    /// The key of sub-bucket `sub` of octave `octave`.
    pub(crate) const fn join(self, octave: usize, sub: usize) -> u32 {
        let first_octave_key = ((1023 + MIN_EXPONENT) as u32) << self.0;
        first_octave_key + ((octave as u32) << self.0) + sub as u32
    }

    /// The value range `[lo, hi)` of a bucket key.
    pub fn bounds(self, key: u32) -> (f64, f64) {
        let shift = 52 - u32::from(self.0);
        (
            f64::from_bits(u64::from(key) << shift),
            f64::from_bits(u64::from(key + 1) << shift),
        )
    }

    /// The value reported for a bucket: its midpoint.
    pub fn representative(self, key: u32) -> f64 {
        let (lo, hi) = self.bounds(key);
        lo + (hi - lo) / 2.0
    }

    /// Whether a histogram of this precision cannot tell `a` from `b`:
    /// both are in `[0, 2^64)` and fall in the same bucket.
    ///
    /// ```
    /// use perf_core::Precision;
    /// let p = Precision::DEFAULT; // buckets [200, 201), [201, 202), …
    /// assert!(p.indistinguishable(200.0, 200.5));
    /// assert!(!p.indistinguishable(200.0, 201.0));
    /// assert!(!p.indistinguishable(-1.0, -1.0)); // not a histogram value
    /// ```
    pub fn indistinguishable(self, a: f64, b: f64) -> bool {
        let bucket = |v: f64| {
            let bits = v.to_bits();
            (bits < MAX_BITS).then(|| bucket_of_bits(self, bits))
        };
        bucket(a).is_some_and(|bucket_a| Some(bucket_a) == bucket(b))
    }

    /// The key of the same range at a coarser precision `to` (`to <= self`).
    /// Coarser buckets are unions of finer ones, so this loses no count.
    pub(crate) const fn coarsen(self, key: u32, to: Precision) -> u32 {
        key >> (self.0 - to.0)
    }
}

impl Default for Precision {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where an accepted value is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bucket {
    /// `[0, 2^-64)`.
    Zero,
    /// A log-linear bucket.
    Key(u32),
}

/// Classifies the bits of a value already known to be in `[0, 2^64)`.
#[inline(always)]
pub(crate) fn bucket_of_bits(precision: Precision, bits: u64) -> Bucket {
    if bits < MIN_BUCKETED_BITS {
        Bucket::Zero
    } else {
        Bucket::Key(precision.key_of_bits(bits))
    }
}

/// The bits of `value` if it is accepted (`-0.0` becomes `0.0`), or the
/// reason it is refused.
#[inline(always)]
pub(crate) fn accepted_bits(value: f64) -> Result<u64> {
    let bits = value.to_bits();
    if bits < MAX_BITS {
        Ok(bits)
    } else {
        check_out_of_range(value).map(f64::to_bits)
    }
}

/// The cold path for `bits >= MAX_BITS`: `-0.0` is accepted as `0.0`, anything
/// else is refused with the reason.
#[cold]
pub(crate) fn check_out_of_range(value: f64) -> Result<f64> {
    let reason = if value.is_nan() {
        InvalidValueReason::NaN
    } else if value == 0.0 {
        return Ok(0.0);
    } else if value.is_infinite() {
        InvalidValueReason::Infinite
    } else if value < 0.0 {
        InvalidValueReason::Negative
    } else {
        InvalidValueReason::TooLarge
    };
    Err(PerfError::InvalidValue { value, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_agree_with_their_definitions() {
        assert_eq!(MIN_BUCKETED, 2f64.powi(MIN_EXPONENT));
        assert_eq!(MAX_EXCLUSIVE, 2f64.powi(MIN_EXPONENT + OCTAVES as i32));
        assert_eq!(MIN_BUCKETED.to_bits(), MIN_BUCKETED_BITS);
        assert_eq!(MAX_EXCLUSIVE.to_bits(), MAX_BITS);
    }

    #[test]
    fn one_comparison_accepts_exactly_the_valid_range() {
        for v in [0.0, MIN_BUCKETED, 1.0, 1e9, MAX_EXCLUSIVE * (1.0 - 1e-16)] {
            assert!(v.to_bits() < MAX_BITS, "{v} should be accepted");
        }
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            MAX_EXCLUSIVE,
        ] {
            assert!(v.to_bits() >= MAX_BITS, "{v} should take the cold path");
        }
    }

    #[test]
    fn cold_path_names_the_reason_and_accepts_negative_zero() {
        let reason = |v| match check_out_of_range(v) {
            Err(PerfError::InvalidValue { reason, .. }) => Some(reason),
            _ => None,
        };
        assert_eq!(reason(f64::NAN), Some(InvalidValueReason::NaN));
        assert_eq!(reason(f64::INFINITY), Some(InvalidValueReason::Infinite));
        assert_eq!(
            reason(f64::NEG_INFINITY),
            Some(InvalidValueReason::Infinite)
        );
        assert_eq!(reason(-3.0), Some(InvalidValueReason::Negative));
        assert_eq!(reason(1e20), Some(InvalidValueReason::TooLarge));
        assert_eq!(check_out_of_range(-0.0), Ok(0.0));
    }

    #[test]
    fn split_and_join_are_inverse_over_the_whole_range() {
        let p = Precision::DEFAULT;
        for octave in [0, 1, 63, 64, OCTAVES - 1] {
            for sub in [0, 1, p.sub_buckets() - 1] {
                assert_eq!(p.split(p.join(octave, sub)), (octave, sub));
            }
        }
        assert_eq!(p.split(p.key_of_bits(MIN_BUCKETED_BITS)), (0, 0));
        let top = (MAX_EXCLUSIVE * (1.0 - 1e-16)).to_bits();
        assert_eq!(
            p.split(p.key_of_bits(top)),
            (OCTAVES - 1, p.sub_buckets() - 1)
        );
    }

    #[test]
    fn every_bucket_midpoint_is_within_the_bound_of_its_values() {
        for bits in Precision::MIN_BITS..=Precision::MAX_BITS {
            let p = Precision::new(bits).unwrap();
            let bound = p.relative_error();
            for v in [1e-3, 0.0123, 1.0, 1.999_999, 7.5, 999.9, 12345.678, 1e9] {
                let key = p.key_of_bits(f64::to_bits(v));
                let (lo, hi) = p.bounds(key);
                assert!(lo <= v && v < hi, "{v} not in [{lo}, {hi})");
                let err = (p.representative(key) - v).abs() / v;
                assert!(err <= bound, "p={bits} v={v} err={err} > {bound}");
            }
        }
    }

    #[test]
    fn coarsening_maps_a_fine_bucket_into_the_coarse_bucket_that_contains_it() {
        let fine = Precision::new(9).unwrap();
        let coarse = Precision::new(5).unwrap();
        for v in [0.001, 3.3, 1e6] {
            let bits = f64::to_bits(v);
            assert_eq!(
                fine.coarsen(fine.key_of_bits(bits), coarse),
                coarse.key_of_bits(bits)
            );
        }
    }
}
