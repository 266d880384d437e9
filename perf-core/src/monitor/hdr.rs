//! HdrHistogram interchange of a monitor's histogram series: export one as
//! a V2 string, import (merge) strings from other processes or hosts. The
//! encoding is [`crate::export::hdr`].

use super::Monitor;
use crate::export::hdr::{decode, encode, HdrOptions};
use crate::series::Tag;
use crate::Result;

/// Exports: HdrHistogram V2 interchange.
impl Monitor {
    /// The histogram series `name{tags}` as base64 of a compressed V2
    /// HdrHistogram (`HISTF…`), which HdrHistogram's Java, C, Go, Python and
    /// Rust implementations decode. Values are written as integer
    /// thousandths of the recorded unit (microseconds for milliseconds);
    /// [`Monitor::export_hdr_with`] sets another scale. Counts are exact;
    /// percentiles within the error bounds stated in `docs/export.md`.
    ///
    /// Errors: [`crate::PerfError::UnknownSeries`],
    /// [`crate::PerfError::KindMismatch`], or
    /// [`crate::PerfError::InvalidHdr`] for a value beyond HdrHistogram's
    /// integer range at this scale.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// for ms in [1.5, 2.0, 250.0] {
    ///     monitor.record("http.duration", &[("route", "/")], ms)?;
    /// }
    /// let hdr = monitor.export_hdr("http.duration", &[("route", "/")])?;
    /// assert!(hdr.starts_with("HISTF"));
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_hdr(&self, name: &str, tags: &[Tag<'_>]) -> Result<String> {
        self.export_hdr_with(name, tags, &HdrOptions::DEFAULT)
    }

    /// [`Monitor::export_hdr`] with the scale and significant digits of
    /// `options`.
    ///
    /// ```
    /// use perf_core::{HdrOptions, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// monitor.record("payload.bytes", &[], 1_500.0)?;
    /// let whole_bytes = HdrOptions::new().scale(1.0);
    /// let hdr = monitor.export_hdr_with("payload.bytes", &[], &whole_bytes)?;
    /// let other = Monitor::builder().build()?;
    /// other.import_hdr_with("payload.bytes", &[], &hdr, &whole_bytes)?;
    /// assert!((other.stats("payload.bytes", &[])?.max - 1_500.0).abs() <= 1.0);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn export_hdr_with(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        options: &HdrOptions,
    ) -> Result<String> {
        let snapshot = self.with_histogram(name, tags, |_, core| core.snapshot())?;
        encode(&snapshot, options)
    }

    /// Merges an HdrHistogram V2 string (compressed or not, as other
    /// implementations and [`Monitor::export_hdr`] write it) into the
    /// histogram series `name{tags}`, creating the series if needed: import
    /// the snapshots of many processes into one monitor to aggregate them.
    /// Integers are read as thousandths of the series' unit
    /// ([`Monitor::import_hdr_with`] sets another scale). Counts are exact;
    /// the sum and mean of imported values are estimated from their buckets.
    ///
    /// All or nothing: a string that does not decode is a
    /// [`crate::PerfError::InvalidHdr`] and records nothing.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let (host_a, host_b) = (Monitor::builder().build()?, Monitor::builder().build()?);
    /// host_a.record("db.query", &[], 3.0)?;
    /// host_b.record("db.query", &[], 5.0)?;
    /// let fleet = Monitor::builder().build()?;
    /// for host in [&host_a, &host_b] {
    ///     fleet.import_hdr("db.query", &[], &host.export_hdr("db.query", &[])?)?;
    /// }
    /// let stats = fleet.stats("db.query", &[])?;
    /// assert_eq!(stats.count, 2);
    /// assert!((stats.max - 5.0).abs() <= 5.0 * 0.005); // within both precisions
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn import_hdr(&self, name: &str, tags: &[Tag<'_>], encoded: &str) -> Result<()> {
        self.import_hdr_with(name, tags, encoded, &HdrOptions::DEFAULT)
    }

    /// [`Monitor::import_hdr`] with the scale of `options`.
    pub fn import_hdr_with(
        &self,
        name: &str,
        tags: &[Tag<'_>],
        encoded: &str,
        options: &HdrOptions,
    ) -> Result<()> {
        let values = decode(encoded, options)?;
        let histogram = self.histogram(name, tags)?;
        for (value, count) in values {
            histogram.record_n(value, count)?;
        }
        Ok(())
    }
}
