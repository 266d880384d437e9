//! The HdrHistogram interchange format: a histogram snapshot as the
//! base64 text of a compressed V2 histogram (the `HISTF…` strings of
//! HdrHistogram's Java, C, Go, Python and Rust implementations), and back.
//!
//! # Units and error bounds
//!
//! HdrHistogram counts integers, perf-core records `f64`. An export writes
//! each value as `round(value × scale)`: with the default scale of 1,000 a
//! series in milliseconds becomes integer microseconds, the unit most
//! HdrHistogram tools expect of latencies. The integer-to-double ratio in the
//! V2 header stays 1.0, as every implementation's integer histograms write
//! it (Rust's `hdrhistogram` refuses any other).
//!
//! * **Export.** Each perf-core bucket is written at its representative
//!   value, except that the smallest and the largest value are written
//!   exactly, so HdrHistogram's min and max match perf-core's. A percentile
//!   read back is within perf-core's relative error, plus HdrHistogram's
//!   (`10^-digits`), plus `0.5 / scale` absolute. Values below `0.5 / scale`
//!   become 0. Counts are exact.
//! * **Import.** Each HdrHistogram bucket is recorded at its median
//!   equivalent value divided by the scale, with its count: counts are exact,
//!   percentiles within both histograms' errors. Sums and means of imported
//!   data are estimates from those values (V2 carries no sum).

use std::io::{Cursor, Read};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::read::ZlibDecoder;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram as HdrHistogram;

use crate::bucket::MAX_EXCLUSIVE;
use crate::error::{PerfError, Result};
use crate::snapshot::HistogramSnapshot;

/// How perf-core values map to HdrHistogram's integers, and how finely an
/// export keeps them.
///
/// ```
/// use perf_core::HdrOptions;
/// // Seconds recorded as f64, exchanged as integer microseconds:
/// let options = HdrOptions::new().scale(1e6);
/// assert_eq!(options.scale_factor(), 1e6);
/// assert_eq!(HdrOptions::default().significant_digits_kept(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HdrOptions {
    scale: f64,
    significant_digits: u8,
}

impl HdrOptions {
    /// The defaults: scale 1,000 (milliseconds ↔ integer microseconds) and 3
    /// significant digits, HdrHistogram's usual setting.
    pub const DEFAULT: HdrOptions = HdrOptions {
        scale: 1_000.0,
        significant_digits: 3,
    };

    /// The defaults, [`Self::DEFAULT`].
    pub fn new() -> Self {
        Self::DEFAULT
    }

    /// Integers per unit of the recorded values: an exported value `v` is
    /// written as `round(v × scale)`, an imported integer `i` is recorded as
    /// `i / scale`. Must be finite and positive (checked on use).
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// Significant decimal digits of the exported HdrHistogram, 1 to 5
    /// (checked on use).
    pub fn significant_digits(mut self, digits: u8) -> Self {
        self.significant_digits = digits;
        self
    }

    /// The scale set.
    pub fn scale_factor(&self) -> f64 {
        self.scale
    }

    /// The significant digits set.
    pub fn significant_digits_kept(&self) -> u8 {
        self.significant_digits
    }

    fn validated(&self) -> Result<&Self> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(invalid(format!(
                "scale must be finite and > 0, got {}",
                self.scale
            )));
        }
        if !(1..=5).contains(&self.significant_digits) {
            return Err(invalid(format!(
                "significant digits must be 1..=5, got {}",
                self.significant_digits
            )));
        }
        Ok(self)
    }
}

impl Default for HdrOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The largest integer HdrHistogram can track (`i64::MAX`, as every
/// implementation's signed longs allow).
const HDR_MAX: u64 = i64::MAX as u64;

/// Encodes `snapshot` as base64 of a compressed V2 HdrHistogram.
pub(crate) fn encode(snapshot: &HistogramSnapshot, options: &HdrOptions) -> Result<String> {
    let options = options.validated()?;
    let mut hdr = HdrHistogram::<u64>::new(options.significant_digits)
        .map_err(|e| invalid(format!("cannot create the histogram: {e:?}")))?;
    for (value, count) in exported_values(snapshot) {
        let integer = to_integer(value, options.scale)?;
        hdr.record_n(integer, count)
            .map_err(|e| invalid(format!("cannot record {value}: {e:?}")))?;
    }
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&hdr, &mut bytes)
        .map_err(|e| invalid(format!("cannot serialize: {e:?}")))?;
    Ok(BASE64.encode(bytes))
}

/// Decodes base64 of a V2 HdrHistogram (compressed or not) into `(value,
/// count)` pairs in the recorded unit, in increasing order of value.
pub(crate) fn decode(encoded: &str, options: &HdrOptions) -> Result<Vec<(f64, u64)>> {
    let options = options.validated()?;
    let bytes = BASE64
        .decode(encoded.trim())
        .map_err(|e| invalid(format!("not base64: {e}")))?;
    let bytes = bounded_v2(&bytes)?;
    let hdr: HdrHistogram<u64> = Deserializer::new()
        .deserialize(&mut Cursor::new(bytes))
        .map_err(|e| invalid(format!("not a V2 HdrHistogram: {e}")))?;
    hdr.iter_recorded()
        .map(|bucket| {
            let integer = hdr.median_equivalent(bucket.value_iterated_to());
            let value = integer as f64 / options.scale;
            if value >= MAX_EXCLUSIVE {
                return Err(invalid(format!(
                    "value {integer} / scale {} is beyond perf-core's range (2^64); use a larger scale",
                    options.scale
                )));
            }
            Ok((value, bucket.count_at_value()))
        })
        .collect()
}

/// The V2 cookies (version 2, word size 8), plain and deflate-compressed.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Bytes of a V2 header: cookie, payload length, normalizing offset,
/// digits, lowest, highest and the integer-to-double ratio.
const V2_HEADER_LEN: usize = 40;
/// The largest decompressed histogram accepted: a 5-digit histogram over
/// the whole range needs under 60 MiB even with every count in use.
const MAX_DECODED_LEN: u64 = 64 << 20;

/// `bytes` as an uncompressed V2 histogram whose declared payload length
/// fits the data: the decoder allocates what the header declares, so a few
/// hostile bytes must not make it reserve gigabytes. Compressed input is
/// inflated here, at most [`MAX_DECODED_LEN`] bytes.
fn bounded_v2(bytes: &[u8]) -> Result<Vec<u8>> {
    let (cookie, declared) = header_words(bytes)?;
    let plain = match cookie {
        V2_COOKIE => bytes.to_vec(),
        V2_COMPRESSED_COOKIE => {
            let compressed = bytes
                .get(8..8 + declared)
                .ok_or_else(|| invalid("truncated compressed payload".into()))?;
            let mut plain = Vec::new();
            ZlibDecoder::new(compressed)
                .take(MAX_DECODED_LEN + 1)
                .read_to_end(&mut plain)
                .map_err(|e| invalid(format!("cannot inflate: {e}")))?;
            if plain.len() as u64 > MAX_DECODED_LEN {
                return Err(invalid("decompressed histogram over 64 MiB".into()));
            }
            plain
        }
        other => return Err(invalid(format!("unknown cookie {other:#010x}"))),
    };
    match header_words(&plain)? {
        (V2_COOKIE, payload) if payload <= plain.len().saturating_sub(V2_HEADER_LEN) => Ok(plain),
        (V2_COOKIE, _) => Err(invalid("truncated payload".into())),
        (other, _) => Err(invalid(format!("unknown inner cookie {other:#010x}"))),
    }
}

/// The cookie and length words that start every V2 encoding.
fn header_words(bytes: &[u8]) -> Result<(u32, usize)> {
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| invalid("shorter than a V2 header".into()))
    };
    Ok((word(0)?, word(4)? as usize))
}

/// The values an export writes, with their counts: the zero bucket at 0,
/// each bucket at its representative value, except that one count of the
/// first bucket is the exact minimum and one of the last the exact maximum.
fn exported_values(snapshot: &HistogramSnapshot) -> Vec<(f64, u64)> {
    let mut values = Vec::new();
    if snapshot.zero_count() > 0 {
        values.push((0.0, snapshot.zero_count()));
    }
    let mut buckets = snapshot.buckets().peekable();
    let mut first = true;
    while let Some((lo, hi, mut count)) = buckets.next() {
        let last = buckets.peek().is_none();
        // A snapshot taken while values arrive may see a bucket before the
        // extremes: they are written exactly only when they agree.
        let (min, max) = (snapshot.min(), snapshot.max());
        if first && snapshot.zero_count() == 0 && (lo..hi).contains(&min) {
            values.push((min, 1));
            count -= 1;
        }
        if last && count > 0 && (lo..hi).contains(&max) {
            values.push((max, 1));
            count -= 1;
        }
        if count > 0 {
            values.push((lo + (hi - lo) / 2.0, count));
        }
        first = false;
    }
    values
}

/// `round(value × scale)`, refused above HdrHistogram's range.
fn to_integer(value: f64, scale: f64) -> Result<u64> {
    let scaled = (value * scale).round();
    if scaled > HDR_MAX as f64 {
        return Err(invalid(format!(
            "value {value} × scale {scale} exceeds HdrHistogram's range (2^63 - 1); use a smaller scale"
        )));
    }
    Ok(scaled as u64)
}

fn invalid(reason: String) -> PerfError {
    PerfError::InvalidHdr { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::Precision;

    fn snapshot(values: &[f64]) -> HistogramSnapshot {
        HistogramSnapshot::from_values(Precision::DEFAULT, values).unwrap()
    }

    #[test]
    fn round_trip_keeps_counts_exactly_and_percentiles_within_error() {
        let values: Vec<f64> = (1..=10_000).map(|i| f64::from(i) * 0.37).collect();
        let original = snapshot(&values);
        let encoded = encode(&original, &HdrOptions::DEFAULT).unwrap();
        assert!(encoded.starts_with("HISTF"), "{}", &encoded[..10]);
        let decoded = decode(&encoded, &HdrOptions::DEFAULT).unwrap();
        let count: u64 = decoded.iter().map(|&(_, n)| n).sum();
        assert_eq!(count, 10_000);
        let mut expanded = Vec::new();
        for &(v, n) in &decoded {
            expanded.extend(std::iter::repeat_n(v, n as usize));
        }
        let back = snapshot(&expanded);
        let bound = 2.0 * Precision::DEFAULT.relative_error() + 2e-3;
        for q in [50.0, 90.0, 99.0, 99.9] {
            let (a, b) = (original.percentile(q).unwrap(), back.percentile(q).unwrap());
            assert!((a - b).abs() <= a * bound, "p{q}: {a} vs {b}");
        }
    }

    #[test]
    fn min_and_max_are_written_exactly() {
        let s = snapshot(&[1.234, 5.0, 5.0, 7.891]);
        let values = exported_values(&s);
        assert_eq!(values.first(), Some(&(1.234, 1)));
        assert_eq!(values.last(), Some(&(7.891, 1)));
        assert_eq!(values.iter().map(|&(_, n)| n).sum::<u64>(), 4);
    }

    #[test]
    fn a_single_value_is_exported_once() {
        let values = exported_values(&snapshot(&[42.0]));
        assert_eq!(values, vec![(42.0, 1)]);
    }

    #[test]
    fn zeros_keep_their_count() {
        let values = exported_values(&snapshot(&[0.0, 0.0, 3.0]));
        assert_eq!(values, vec![(0.0, 2), (3.0, 1)]);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let valid = encode(&snapshot(&[1.0, 2.0, 3.0]), &HdrOptions::DEFAULT).unwrap();
        let truncated = &valid[..valid.len() / 2 / 4 * 4];
        let mut huge = vec![0x1c, 0x84, 0x93, 0x13, 0xff, 0xff, 0xff, 0xff];
        huge.resize(48, 0);
        let huge = BASE64.encode(huge);
        for bad in ["", "not base64!", "SElTVEZBQUFBQQ==", truncated, &huge] {
            let err = decode(bad, &HdrOptions::DEFAULT).unwrap_err();
            assert!(
                matches!(err, PerfError::InvalidHdr { .. }),
                "{bad:?}: {err}"
            );
        }
        let s = snapshot(&[1.0]);
        for options in [
            HdrOptions::new().scale(0.0),
            HdrOptions::new().scale(f64::NAN),
            HdrOptions::new().significant_digits(6),
        ] {
            assert!(matches!(
                encode(&s, &options),
                Err(PerfError::InvalidHdr { .. })
            ));
        }
    }

    #[test]
    fn values_beyond_the_integer_range_are_refused() {
        let s = snapshot(&[1e17]);
        let err = encode(&s, &HdrOptions::DEFAULT).unwrap_err();
        assert!(err.to_string().contains("smaller scale"), "{err}");
        let encoded = encode(&s, &HdrOptions::new().scale(1.0)).unwrap();
        let err = decode(&encoded, &HdrOptions::new().scale(1e-3)).unwrap_err();
        assert!(err.to_string().contains("larger scale"), "{err}");
    }
}
