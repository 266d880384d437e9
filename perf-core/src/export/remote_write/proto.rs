//! The messages of Prometheus's remote write 1.0 protocol (`prometheus`
//! protobuf package: `prompb/remote.proto` and `prompb/types.proto`,
//! proto3), written out by hand as `prost` messages so that no `protoc` or
//! build script is needed.
//!
//! Invariant: every field has the number, scalar type and label of the
//! `.proto` (repeated scalars packed, as proto3 encodes them); oneofs are
//! prost oneof enums. Only the messages a write request carries are here
//! (no exemplars or metadata, which perf-core does not send).
//!
//! A request body is a [`WriteRequest`] encoded, then compressed with
//! snappy's block format:
//!
//! ```
//! use perf_core::prompb::{Label, Sample, TimeSeries, WriteRequest};
//! use prost::Message;
//!
//! let request = WriteRequest {
//!     timeseries: vec![TimeSeries {
//!         labels: vec![Label { name: "__name__".into(), value: "up".into() }],
//!         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
//!         histograms: vec![],
//!     }],
//! };
//! let decoded = WriteRequest::decode(&request.encode_to_vec()[..]).unwrap();
//! assert_eq!(decoded, request);
//! ```

// The field names and docs are the `.proto`'s.
#![allow(missing_docs)]

/// `prometheus.WriteRequest` (field 2 is reserved, 3 is metadata).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, `__name__` among them
/// (field 3, exemplars, is not sent).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`: a value at a timestamp in milliseconds since the
/// Unix epoch.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Histogram`: a native histogram sample.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(oneof = "histogram::Count", tags = "1, 2")]
    pub count: Option<histogram::Count>,
    #[prost(double, tag = "3")]
    pub sum: f64,
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    #[prost(oneof = "histogram::ZeroCount", tags = "6, 7")]
    pub zero_count: Option<histogram::ZeroCount>,
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    #[prost(enumeration = "histogram::ResetHint", tag = "14")]
    pub reset_hint: i32,
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// The oneofs and the enum of [`Histogram`].
pub mod histogram {
    #![allow(missing_docs)]

    /// `count`: integer counts (what perf-core writes) or float counts.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Count {
        #[prost(uint64, tag = "1")]
        CountInt(u64),
        #[prost(double, tag = "2")]
        CountFloat(f64),
    }

    /// `zero_count`: integer or float.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum ZeroCount {
        #[prost(uint64, tag = "6")]
        ZeroCountInt(u64),
        #[prost(double, tag = "7")]
        ZeroCountFloat(f64),
    }

    /// `ResetHint`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum ResetHint {
        Unknown = 0,
        Yes = 1,
        No = 2,
        Gauge = 3,
    }
}

/// `prometheus.BucketSpan`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn field_numbers_and_wire_types_are_the_protos() {
        let h = Histogram {
            count: Some(histogram::Count::CountInt(3)),
            schema: -1,
            positive_deltas: vec![1, -1],
            ..Histogram::default()
        };
        // count_int: field 1 varint; schema: field 4 zigzag (-1 → 1);
        // positive_deltas: field 12, packed (wire type 2), zigzag 2 and 1.
        assert_eq!(
            h.encode_to_vec(),
            [1 << 3, 3, 4 << 3, 1, 12 << 3 | 2, 2, 2, 1]
        );
        let span = BucketSpan {
            offset: -2,
            length: 5,
        };
        assert_eq!(span.encode_to_vec(), [1 << 3, 3, 2 << 3, 5]);
    }
}
