//! The file one process publishes into the shared directory, and the
//! archive of dead processes: a versioned, checksummed binary encoding of
//! every series' cumulative state.
//!
//! # Layout (version 1, little-endian)
//!
//! ```text
//! magic       8 bytes  "PERFMPv\0"
//! version     u16      FORMAT_VERSION
//! role        u8       0 = a live process's file, 1 = the archive
//! precision   u8       histogram precision bits
//! pid         u32      the writer's process id (0 for the archive)
//! instance    u64      the writer's instance id (random per process start)
//! generation  u64      publishes so far by this writer
//! written_at  u64      Unix nanoseconds of the write
//! body_len    u64      bytes of body
//! body        ...      see below
//! crc32       u32      of everything above
//! ```
//!
//! The body is varints (LEB128) and `f64` bits:
//!
//! ```text
//! absorbed: n, then n instance ids       (archive: processes it holds)
//! series:   n, then per series
//!   kind u8 (0 histogram, 1 counter, 2 gauge), name, ntags, (key, value)*
//!   histogram: rejected, zero_count, sum f64, compensation f64, m2 f64,
//!              min f64, max f64, nbuckets, (key gap, count)*
//!   counter:   value
//!   gauge:     mode u8, value f64, changed_at (Unix nanoseconds)
//! ```
//!
//! Strings are a varint length and UTF-8 bytes. Decoding checks every
//! length against the bytes left, every name and tag against the naming
//! rules, and every histogram against the snapshot invariants, so a
//! truncated, corrupt or foreign file is refused with a reason — never a
//! panic, never an allocation the file's size does not justify.

use crate::bucket::Precision;
use crate::series::{validate_name, validate_stored_tags, SeriesKey, Tag, MAX_TAGS};
use crate::snapshot::{saturating_total, write_varint, HistogramSnapshot};

use super::GaugeMode;

/// The first bytes of every file.
pub(crate) const MAGIC: [u8; 8] = *b"PERFMPv\0";
/// The layout version this perf-core writes and reads.
pub(crate) const FORMAT_VERSION: u16 = 1;
/// Bytes before the body.
pub(crate) const HEADER_LEN: usize = 8 + 2 + 1 + 1 + 4 + 8 + 8 + 8 + 8;
/// Bytes after the body.
const TRAILER_LEN: usize = 4;

/// Whose state a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// One live (or not yet compacted) process.
    Process,
    /// Everything dead processes left.
    Archive,
}

/// The fixed-size part of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) role: Role,
    pub(crate) precision: Precision,
    pub(crate) pid: u32,
    pub(crate) instance: u64,
    pub(crate) generation: u64,
    pub(crate) written_at: u64,
}

/// The cumulative state of one series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SeriesState {
    Histogram {
        snapshot: HistogramSnapshot,
        rejected: u64,
    },
    Counter(u64),
    Gauge {
        mode: GaugeMode,
        value: f64,
        /// Unix nanoseconds of the publish that first saw this value.
        changed_at: u64,
    },
}

impl SeriesState {
    /// Takes away `before`, an earlier state of the same series (what a
    /// forked process inherited): histograms and counters keep what was
    /// added since (a histogram's extremes then within the precision
    /// bound); a gauge is kept only if it changed. Returns whether anything
    /// is left to publish.
    pub(crate) fn subtract(&mut self, before: &SeriesState) -> bool {
        match (self, before) {
            (
                SeriesState::Histogram { snapshot, rejected },
                SeriesState::Histogram {
                    snapshot: earlier,
                    rejected: refused,
                },
            ) if snapshot.precision() == earlier.precision() => {
                *snapshot = snapshot.delta_since(earlier);
                *rejected = rejected.saturating_sub(*refused);
                true
            }
            (SeriesState::Counter(n), SeriesState::Counter(earlier)) => {
                *n = n.wrapping_sub(*earlier);
                true
            }
            (SeriesState::Gauge { value, .. }, SeriesState::Gauge { value: earlier, .. }) => {
                value.to_bits() != earlier.to_bits()
            }
            _ => true,
        }
    }
}

/// A decoded file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StateFile {
    pub(crate) header: Header,
    /// Archive only: the instances whose state it holds.
    pub(crate) absorbed: Vec<u64>,
    pub(crate) series: Vec<(SeriesKey, SeriesState)>,
}

/// Encodes a file.
pub(crate) fn encode(file: &StateFile) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + file.series.len() * 64);
    write_varint(&mut body, file.absorbed.len() as u64);
    for &id in &file.absorbed {
        write_varint(&mut body, id);
    }
    write_varint(&mut body, file.series.len() as u64);
    for (key, state) in &file.series {
        encode_series(&mut body, key, state);
    }
    let h = &file.header;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + TRAILER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(match h.role {
        Role::Process => 0,
        Role::Archive => 1,
    });
    out.push(h.precision.bits());
    out.extend_from_slice(&h.pid.to_le_bytes());
    for word in [h.instance, h.generation, h.written_at, body.len() as u64] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn encode_series(out: &mut Vec<u8>, key: &SeriesKey, state: &SeriesState) {
    out.push(match state {
        SeriesState::Histogram { .. } => 0,
        SeriesState::Counter(_) => 1,
        SeriesState::Gauge { .. } => 2,
    });
    write_str(out, key.name());
    write_varint(out, key.tags().len() as u64);
    for (k, v) in key.tags() {
        write_str(out, k);
        write_str(out, v);
    }
    match state {
        SeriesState::Histogram { snapshot, rejected } => {
            write_varint(out, *rejected);
            write_varint(out, snapshot.zero_count);
            for x in [
                snapshot.sum,
                snapshot.sum_compensation,
                snapshot.m2,
                snapshot.min,
                snapshot.max,
            ] {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            write_varint(out, snapshot.buckets.len() as u64);
            let mut previous = 0;
            for &(key, count) in &snapshot.buckets {
                write_varint(out, u64::from(key - previous));
                write_varint(out, count);
                previous = key;
            }
        }
        SeriesState::Counter(value) => write_varint(out, *value),
        SeriesState::Gauge {
            mode,
            value,
            changed_at,
        } => {
            out.push(mode.code());
            out.extend_from_slice(&value.to_bits().to_le_bytes());
            write_varint(out, *changed_at);
        }
    }
}

/// Why a file was refused.
pub(crate) type DecodeError = String;

/// Decodes and checks a whole file.
pub(crate) fn decode(bytes: &[u8]) -> Result<StateFile, DecodeError> {
    let header = decode_header(bytes)?;
    let body_len = u64_at(bytes, HEADER_LEN - 8);
    let expected = (HEADER_LEN as u64)
        .checked_add(body_len)
        .and_then(|n| n.checked_add(TRAILER_LEN as u64));
    if expected != Some(bytes.len() as u64) {
        return Err(format!(
            "length {} does not match the header's body length {body_len} (truncated?)",
            bytes.len()
        ));
    }
    let (content, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    let stored = u32::from_le_bytes(trailer.try_into().expect("4 bytes"));
    if crc32fast::hash(content) != stored {
        return Err("checksum mismatch (corrupt or torn file)".into());
    }
    let mut r = Reader {
        bytes: &content[HEADER_LEN..],
    };
    let absorbed = (0..r.count(8)?)
        .map(|_| r.varint())
        .collect::<Result<Vec<_>, _>>()?;
    let n = r.count(4)?;
    let mut series = Vec::with_capacity(n);
    for i in 0..n {
        series
            .push(decode_series(&mut r, header.precision).map_err(|e| format!("series {i}: {e}"))?);
    }
    if !r.bytes.is_empty() {
        return Err(format!("{} bytes after the last series", r.bytes.len()));
    }
    Ok(StateFile {
        header,
        absorbed,
        series,
    })
}

/// Decodes the fixed-size header (magic, version, role, precision, ids).
pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(format!("{} bytes: too short for a header", bytes.len()));
    }
    if bytes[..8] != MAGIC {
        return Err("not a perf-core multi-process file (bad magic)".into());
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version} is not supported: this perf-core reads version {FORMAT_VERSION}"
        ));
    }
    let role = match bytes[10] {
        0 => Role::Process,
        1 => Role::Archive,
        other => return Err(format!("unknown role {other}")),
    };
    let precision = Precision::new(bytes[11]).map_err(|e| e.to_string())?;
    Ok(Header {
        role,
        precision,
        pid: u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")),
        instance: u64_at(bytes, 16),
        generation: u64_at(bytes, 24),
        written_at: u64_at(bytes, 32),
    })
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn decode_series(
    r: &mut Reader<'_>,
    precision: Precision,
) -> Result<(SeriesKey, SeriesState), DecodeError> {
    let kind = r.byte()?;
    let name = r.str()?;
    validate_name(name).map_err(|e| e.to_string())?;
    let ntags = r.count(2)?;
    if ntags > MAX_TAGS + 1 {
        return Err(format!("{ntags} tags: more than {MAX_TAGS}"));
    }
    let mut tags: Vec<Tag<'_>> = Vec::with_capacity(ntags);
    for _ in 0..ntags {
        tags.push((r.str()?, r.str()?));
    }
    check_tags(&tags)?;
    let key = SeriesKey::detached(name, &tags);
    let state = match kind {
        0 => decode_histogram(r, precision)?,
        1 => SeriesState::Counter(r.varint()?),
        2 => {
            let mode = GaugeMode::from_code(r.byte()?).ok_or("unknown gauge mode")?;
            let value = r.f64()?;
            if !value.is_finite() {
                return Err(format!("gauge value {value} is not finite"));
            }
            let changed_at = r.varint()?;
            SeriesState::Gauge {
                mode,
                value,
                changed_at,
            }
        }
        other => return Err(format!("unknown series kind {other}")),
    };
    Ok((key, state))
}

/// The tag rules for a series perf-core wrote (the overflow series' own
/// tag allowed).
fn check_tags(tags: &[Tag<'_>]) -> Result<(), DecodeError> {
    validate_stored_tags(tags).map_err(|e| e.to_string())
}

fn decode_histogram(r: &mut Reader<'_>, precision: Precision) -> Result<SeriesState, DecodeError> {
    let rejected = r.varint()?;
    let zero_count = r.varint()?;
    let (sum, sum_compensation, m2, min, max) = (r.f64()?, r.f64()?, r.f64()?, r.f64()?, r.f64()?);
    let n = r.count(2)?;
    let mut buckets = Vec::with_capacity(n);
    let mut key = 0u64;
    for _ in 0..n {
        key = key
            .checked_add(r.varint()?)
            .filter(|&k| k <= u64::from(u32::MAX))
            .ok_or("bucket key out of range")?;
        buckets.push((key as u32, r.varint()?));
    }
    // Counts saturate, as the histograms that wrote them do.
    let count = saturating_total(zero_count, &buckets);
    let snapshot = HistogramSnapshot {
        precision,
        zero_count,
        buckets,
        count,
        sum,
        sum_compensation,
        m2,
        min,
        max,
    };
    snapshot.check_invariants()?;
    Ok(SeriesState::Histogram { snapshot, rejected })
}

/// A bounds-checked cursor over a body.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err("truncated".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let bytes = self.take(8)?;
        Ok(f64::from_bits(u64::from_le_bytes(
            bytes.try_into().expect("8 bytes"),
        )))
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err("varint overflows 64 bits".into());
            }
            v |= bits << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    /// A count of items that take at least `min_bytes` each: refused if the
    /// bytes left cannot hold that many (so no allocation exceeds the file).
    fn count(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n > (self.bytes.len() / min_bytes) as u64 {
            return Err(format!("count {n} exceeds what the file can hold"));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.count(1)?;
        std::str::from_utf8(self.take(len)?).map_err(|_| "a string is not UTF-8".into())
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> StateFile {
        let snapshot =
            HistogramSnapshot::from_values(Precision::DEFAULT, &[0.0, 1.5, 2.5, 1e6]).unwrap();
        StateFile {
            header: Header {
                role: Role::Process,
                precision: Precision::DEFAULT,
                pid: 4242,
                instance: 0xdead_beef_0123_4567,
                generation: 7,
                written_at: 1_700_000_000_000_000_000,
            },
            absorbed: vec![1, u64::MAX],
            series: vec![
                (
                    SeriesKey::detached("latency", &[("route", "/a"), ("method", "GET")]),
                    SeriesState::Histogram {
                        snapshot,
                        rejected: 3,
                    },
                ),
                (
                    SeriesKey::detached("latency", &[("perf_overflow", "true")]),
                    SeriesState::Histogram {
                        snapshot: HistogramSnapshot::empty(Precision::DEFAULT),
                        rejected: 0,
                    },
                ),
                (
                    SeriesKey::detached("requests", &[]),
                    SeriesState::Counter(u64::MAX),
                ),
                (
                    SeriesKey::detached("in_flight", &[("pool", "db")]),
                    SeriesState::Gauge {
                        mode: GaugeMode::Latest,
                        value: -2.5,
                        changed_at: 99,
                    },
                ),
            ],
        }
    }

    #[test]
    fn a_file_reads_back_as_written() {
        // Compared as bytes: the empty histogram's NaN extremes are not
        // equal to themselves.
        let bytes = encode(&sample());
        let file = decode(&bytes).unwrap();
        assert_eq!(encode(&file), bytes);
        assert_eq!(file.header, sample().header);
        assert_eq!(file.series[0], sample().series[0]);
        assert_eq!(file.series[2..], sample().series[2..]);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = encode(&sample());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "length {len} was accepted");
        }
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let bytes = encode(&sample());
        for i in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            assert!(decode(&flipped).is_err(), "a flip of bit {i} was accepted");
        }
    }

    #[test]
    fn foreign_and_future_files_say_why() {
        let text = b"# HELP requests_total Requests.\n# TYPE requests_total counter\n";
        assert!(decode(text).unwrap_err().contains("magic"));
        let mut future = encode(&sample());
        future[8] = 2;
        assert!(decode(&future).unwrap_err().contains("version 2"));
    }

    /// Re-encodes a body with a valid checksum, so the checks behind the
    /// checksum are reached.
    fn with_body(body: &[u8]) -> Vec<u8> {
        let mut bytes = encode(&StateFile {
            absorbed: Vec::new(),
            series: Vec::new(),
            ..sample()
        });
        bytes.truncate(HEADER_LEN);
        bytes[HEADER_LEN - 8..].copy_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(body);
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn checked_bodies_with_bad_content_are_refused() {
        let cases: &[(&[u8], &str)] = &[
            // A count far beyond the bytes left: no allocation, an error.
            (&[0xff, 0xff, 0xff, 0xff, 0x0f], "exceeds"),
            // One series named "9x" (invalid name).
            (&[0, 1, 1, 2, b'9', b'x', 0, 1, 0], "invalid metric name"),
            // A counter of an unknown kind.
            (&[0, 1, 7, 1, b'x', 0, 0], "unknown series kind"),
        ];
        for (body, reason) in cases {
            let err = decode(&with_body(body)).unwrap_err();
            assert!(err.contains(reason), "{err}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let _ = decode(&with_body(&bytes));
        }
    }
}
