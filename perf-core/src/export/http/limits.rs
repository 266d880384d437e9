//! The bounds the HTTP server keeps whatever its clients do.

use std::time::Duration;

use crate::error::{PerfError, Result};

/// What the HTTP endpoint (feature `http`) allows a client, so that a
/// hostile or broken one costs a bounded amount and never delays others.
/// Every setter checks its range and returns [`PerfError::InvalidConfig`]
/// naming the setting.
///
/// | setting | default | range | over it |
/// |---|---|---|---|
/// | [`connection_limit_of`](Self::connection_limit_of) | 256 | 1 ..= 65,536 | the oldest idle connection is closed to make room; if none has been idle for 250 ms, the newcomer gets 503 |
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s | 100 ms ..= 10 min | the connection is closed (it also bounds how long a kept-alive connection may sit idle) |
/// | [`write_timeout`](Self::write_timeout) | 10 s | 100 ms ..= 10 min | a response that makes no progress that long is abandoned and the connection closed |
/// | [`max_request_line`](Self::max_request_line) | 8 KiB | 256 B ..= 1 MiB | 414, connection closed |
/// | [`max_head`](Self::max_head) | 16 KiB | 8 KiB ..= 1 MiB, ≥ the request line limit | 431, connection closed |
///
/// ```
/// use std::time::Duration;
/// use perf_core::ServerLimits;
/// let limits = ServerLimits::new()
///     .connection_limit_of(64)?
///     .header_read_timeout(Duration::from_secs(5))?;
/// assert_eq!(limits.connection_limit(), 64);
/// assert!(ServerLimits::new().connection_limit_of(0).is_err());
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    pub(crate) connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) request_line: usize,
    pub(crate) head: usize,
}

/// The range of both timeouts.
const TIMEOUTS: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(600));

/// The largest request line or head limit.
const MAX_HEAD_LIMIT: usize = 1 << 20;

/// hyper's smallest read buffer, hence the smallest head limit.
const MIN_HEAD_LIMIT: usize = 8 << 10;

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            connections: 256,
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            request_line: 8 << 10,
            head: 16 << 10,
        }
    }
}

impl ServerLimits {
    /// The defaults of the table above.
    ///
    /// ```
    /// assert_eq!(perf_core::ServerLimits::new().connection_limit(), 256);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `n` connections open at once (1 ..= 65,536).
    ///
    /// ```
    /// let limits = perf_core::ServerLimits::new().connection_limit_of(16)?;
    /// assert_eq!(limits.connection_limit(), 16);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn connection_limit_of(mut self, n: usize) -> Result<Self> {
        self.connections = in_range("connection_limit", n, 1, 65_536)?;
        Ok(self)
    }

    /// The most connections open at once.
    ///
    /// ```
    /// assert_eq!(perf_core::ServerLimits::new().connection_limit(), 256);
    /// ```
    pub fn connection_limit(&self) -> usize {
        self.connections
    }

    /// How long a client may take to send a request's head, counted from
    /// when the server starts waiting for it (100 ms ..= 10 min).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(perf_core::ServerLimits::new().header_read_timeout(Duration::ZERO).is_err());
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.header_read_timeout = timeout_in_range("header_read_timeout", timeout)?;
        Ok(self)
    }

    /// How long a response may make no progress before the connection is
    /// dropped (100 ms ..= 10 min).
    ///
    /// ```
    /// use std::time::Duration;
    /// let limits = perf_core::ServerLimits::new().write_timeout(Duration::from_secs(2))?;
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.write_timeout = timeout_in_range("write_timeout", timeout)?;
        Ok(self)
    }

    /// The longest request line in bytes (256 ..= 1 MiB, at most the head
    /// limit).
    ///
    /// ```
    /// let limits = perf_core::ServerLimits::new().max_request_line(4096)?;
    /// assert!(perf_core::ServerLimits::new().max_request_line(32 << 10).is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn max_request_line(mut self, bytes: usize) -> Result<Self> {
        self.request_line = in_range("max_request_line", bytes, 256, self.head)?;
        Ok(self)
    }

    /// The largest request head (request line and headers) in bytes
    /// (8 KiB ..= 1 MiB, at least the request line limit).
    ///
    /// ```
    /// let limits = perf_core::ServerLimits::new().max_head(64 << 10)?;
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn max_head(mut self, bytes: usize) -> Result<Self> {
        let least = MIN_HEAD_LIMIT.max(self.request_line);
        self.head = in_range("max_head", bytes, least, MAX_HEAD_LIMIT)?;
        Ok(self)
    }
}

/// `value` when `low <= value <= high`, else an error naming `setting`.
fn in_range(setting: &str, value: usize, low: usize, high: usize) -> Result<usize> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(PerfError::InvalidConfig(format!(
            "{setting} must be in {low} ..= {high}, got {value}"
        )))
    }
}

/// `timeout` when within [`TIMEOUTS`], else an error naming `setting`.
fn timeout_in_range(setting: &str, timeout: Duration) -> Result<Duration> {
    let (low, high) = TIMEOUTS;
    if (low..=high).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(PerfError::InvalidConfig(format!(
            "{setting} must be in {low:?} ..= {high:?}, got {timeout:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_names_itself_when_out_of_range() {
        let cases = [
            ServerLimits::new().connection_limit_of(70_000).unwrap_err(),
            ServerLimits::new()
                .header_read_timeout(Duration::from_secs(3600))
                .unwrap_err(),
            ServerLimits::new()
                .write_timeout(Duration::from_millis(1))
                .unwrap_err(),
            ServerLimits::new().max_request_line(10).unwrap_err(),
            ServerLimits::new().max_head(4096).unwrap_err(),
        ];
        let names = [
            "connection_limit",
            "header_read_timeout",
            "write_timeout",
            "max_request_line",
            "max_head",
        ];
        for (error, name) in cases.iter().zip(names) {
            assert!(matches!(error, PerfError::InvalidConfig(m) if m.starts_with(name)));
        }
    }

    #[test]
    fn the_request_line_never_exceeds_the_head() {
        let limits = ServerLimits::new().max_head(1 << 20).unwrap();
        let limits = limits.max_request_line(512 << 10).unwrap();
        assert!(limits.clone().max_head(256 << 10).is_err());
        assert_eq!(limits.max_head(512 << 10).unwrap().head, 512 << 10);
    }
}
