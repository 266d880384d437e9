//! Remote write (feature `remote-write`): pushing every series to a
//! Prometheus remote-write receiver (Prometheus with
//! `--web.enable-remote-write-receiver`, Mimir, Thanos, VictoriaMetrics…)
//! with the remote write 1.0 protocol, for batch jobs, CI runs and hosts
//! that cannot be scraped.
//!
//! * [`RemoteWriteConfig`] (here) — where, how often, how much to buffer;
//!   validated, and read from `PERF_CORE_REMOTE_WRITE_*` variables.
//! * `proto` — the `prometheus.WriteRequest` messages.
//! * `encode` — a registry as one request (classic and native histograms).
//! * `buffer` — the pending requests, bounded in bytes.
//! * `client` — one HTTP request, its outcome, the back-off.
//! * `writer` — the background thread that ties them together.
//!
//! See `docs/export.md` ("Remote write") for the guarantees.

pub(crate) mod buffer;
pub(crate) mod client;
pub(crate) mod encode;
pub mod proto;
pub(crate) mod writer;

use std::time::Duration;

use crate::error::{PerfError, Result};
use crate::export::exposition::ExpositionConfig;

/// The environment variable that turns remote write on (its URL) when the
/// builder was given no [`RemoteWriteConfig`].
pub const REMOTE_WRITE_URL_ENV: &str = "PERF_CORE_REMOTE_WRITE_URL";
/// The interval (`"15s"`, `"1m"`), with [`REMOTE_WRITE_URL_ENV`].
pub const REMOTE_WRITE_INTERVAL_ENV: &str = "PERF_CORE_REMOTE_WRITE_INTERVAL";
/// The request timeout (`"10s"`), with [`REMOTE_WRITE_URL_ENV`].
pub const REMOTE_WRITE_TIMEOUT_ENV: &str = "PERF_CORE_REMOTE_WRITE_TIMEOUT";
/// A bearer token sent as `Authorization: Bearer …`, with [`REMOTE_WRITE_URL_ENV`].
pub const REMOTE_WRITE_BEARER_TOKEN_ENV: &str = "PERF_CORE_REMOTE_WRITE_BEARER_TOKEN";
/// The buffer capacity in bytes, with [`REMOTE_WRITE_URL_ENV`].
pub const REMOTE_WRITE_BUFFER_BYTES_ENV: &str = "PERF_CORE_REMOTE_WRITE_BUFFER_BYTES";

/// The name of the counter of samples the receiver accepted.
pub const REMOTE_WRITE_SENT_COUNTER: &str = "perf_core_remote_write_samples_sent_total";
/// The name of the counter of samples the receiver refused (a 4xx other
/// than 429: the data is bad, sending it again would not help).
pub const REMOTE_WRITE_FAILED_COUNTER: &str = "perf_core_remote_write_samples_failed_total";
/// The name of the counter of samples dropped unsent: no room in the
/// buffer, or still pending when the final flush ran out of time.
pub const REMOTE_WRITE_DROPPED_COUNTER: &str = "perf_core_remote_write_samples_dropped_total";
/// The name of the counter of failed attempts that were retried.
pub const REMOTE_WRITE_RETRIES_COUNTER: &str = "perf_core_remote_write_retries_total";

/// Headers the protocol sets, which `headers` may not override.
const RESERVED_HEADERS: [&str; 4] = [
    "content-encoding",
    "content-type",
    "content-length",
    "x-prometheus-remote-write-version",
];

/// Where and how a monitor pushes its series
/// ([`crate::MonitorBuilder::remote_write`]).
///
/// Every collection is one request holding every series of this process
/// at one wall-clock timestamp, named and labelled as the Prometheus text
/// exposition writes them (with [`Self::exposition`]'s global labels —
/// give each pushing process a distinguishing label such as `instance`).
///
/// ```
/// use perf_core::{ExpositionConfig, RemoteWriteConfig};
/// use std::time::Duration;
/// let config = RemoteWriteConfig {
///     interval: Duration::from_secs(5),
///     exposition: ExpositionConfig::new().global_label("instance", "ci-42")?,
///     ..RemoteWriteConfig::new("http://127.0.0.1:9090/api/v1/write")
/// }
/// .bearer_token("s3cret");
/// config.validate()?;
/// assert!(!format!("{config:?}").contains("s3cret")); // header values are not shown
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, PartialEq)]
#[must_use]
pub struct RemoteWriteConfig {
    /// The receiver's write endpoint, `http://host:port/path` (plain HTTP).
    pub url: String,
    /// How often every series is collected and queued (default 10 s, at
    /// least 10 ms).
    pub interval: Duration,
    /// The bound on one request, connecting included (default 10 s, at
    /// least 1 ms).
    pub timeout: Duration,
    /// Extra request headers, e.g. `Authorization` (see
    /// [`Self::bearer_token`]); not the protocol's own.
    pub headers: Vec<(String, String)>,
    /// The most compressed request bytes waiting to be sent (default
    /// 16 MiB, at least 1 KiB); past it the oldest are dropped and counted.
    pub buffer_bytes: usize,
    /// The first retry's back-off (default 100 ms); it doubles per failed
    /// attempt, with jitter, up to [`Self::max_backoff`].
    pub min_backoff: Duration,
    /// The longest back-off (default 10 s).
    pub max_backoff: Duration,
    /// How long the final flush at shutdown may take (default 5 s): the
    /// monitor's drop waits at most `timeout + flush_timeout` (plus 1 s).
    pub flush_timeout: Duration,
    /// Whether histograms are also sent as native histograms (default
    /// true). Turn off for receivers that refuse them (Prometheus without
    /// `--enable-feature=native-histograms`).
    pub native_histograms: bool,
    /// Global labels, help, units and bucket layouts, as for the exposition.
    pub exposition: ExpositionConfig,
}

impl RemoteWriteConfig {
    /// The defaults, pushing to `url`.
    pub fn new(url: impl Into<String>) -> RemoteWriteConfig {
        RemoteWriteConfig {
            url: url.into(),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            headers: Vec::new(),
            buffer_bytes: 16 << 20,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(5),
            native_histograms: true,
            exposition: ExpositionConfig::new(),
        }
    }

    /// Adds the header `name: value`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer_token(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Checks every field; the error names the first bad one
    /// ([`PerfError::InvalidConfig`], `remote_write.<field>: <reason>`).
    ///
    /// ```
    /// use perf_core::RemoteWriteConfig;
    /// let err = RemoteWriteConfig::new("ftp://example/write").validate().unwrap_err();
    /// assert!(err.to_string().contains("remote_write.url"), "{err}");
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_url(&self.url).map_err(|r| invalid("url", &r))?;
        if self.interval < Duration::from_millis(10) {
            return Err(invalid("interval", "must be at least 10 ms"));
        }
        if self.timeout < Duration::from_millis(1) {
            return Err(invalid("timeout", "must be at least 1 ms"));
        }
        if self.buffer_bytes < 1024 {
            return Err(invalid("buffer_bytes", "must be at least 1024"));
        }
        if self.min_backoff.is_zero() || self.min_backoff > self.max_backoff {
            return Err(invalid(
                "min_backoff",
                "must be above 0 and at most max_backoff",
            ));
        }
        self.headers
            .iter()
            .enumerate()
            .try_for_each(|(i, (name, value))| {
                check_header(name, value).map_err(|r| invalid(&format!("headers[{i}]"), &r))
            })
    }

    /// The configuration the environment asks for: `None` unless
    /// [`REMOTE_WRITE_URL_ENV`] is set (and not empty); then the defaults
    /// with the interval, timeout, bearer token and buffer capacity of the
    /// other `PERF_CORE_REMOTE_WRITE_*` variables that are set. A value
    /// that does not parse is an error naming its variable.
    pub fn from_env() -> Result<Option<RemoteWriteConfig>> {
        from_vars(|name| std::env::var(name).ok())
    }
}

impl std::fmt::Debug for RemoteWriteConfig {
    /// Every field but the headers' values, which may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| format!("{n}: …"))
            .collect();
        f.debug_struct("RemoteWriteConfig")
            .field("url", &self.url)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("headers", &headers)
            .field("buffer_bytes", &self.buffer_bytes)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("flush_timeout", &self.flush_timeout)
            .field("native_histograms", &self.native_histograms)
            .field("exposition", &self.exposition)
            .finish()
    }
}

/// What a monitor's writer has done so far ([`crate::Monitor::remote_write_status`]).
/// Every collected sample is sent, failed, dropped or pending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteWriteStatus {
    /// Samples (float samples and native histograms) the receiver accepted.
    pub samples_sent: u64,
    /// Samples the receiver refused (4xx other than 429).
    pub samples_failed: u64,
    /// Samples dropped unsent (no room, or the final flush ran out of time).
    pub samples_dropped: u64,
    /// Failed attempts that were retried (network errors, 5xx, 429).
    pub retries: u64,
    /// Samples waiting to be sent.
    pub pending_samples: u64,
    /// Compressed bytes waiting to be sent (at most the buffer capacity).
    pub pending_bytes: usize,
    /// The last failure, if any (`HTTP 503`, a connection error…).
    pub last_error: Option<String>,
}

fn invalid(field: &str, reason: &str) -> PerfError {
    PerfError::InvalidConfig(format!("remote_write.{field}: {reason}"))
}

/// `http://` with a host; https is refused with a hint.
fn check_url(url: &str) -> std::result::Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        Some("http") => Err(format!("{url:?} has no host")),
        Some("https") => Err(format!(
            "{url:?}: https is not supported; use http:// (a TLS-terminating proxy on loopback for https)"
        )),
        _ => Err(format!("{url:?} must start with http://")),
    }
}

fn check_header(name: &str, value: &str) -> std::result::Result<(), String> {
    let parsed = ureq::http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a header name"))?;
    if RESERVED_HEADERS.contains(&parsed.as_str()) {
        return Err(format!("{name} is set by the protocol"));
    }
    ureq::http::HeaderValue::from_str(value)
        .map(drop)
        .map_err(|_| format!("the value of {name} is not a valid header value"))
}

/// [`RemoteWriteConfig::from_env`] reading variables through `get`.
fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<RemoteWriteConfig>> {
    let Some(url) = get(REMOTE_WRITE_URL_ENV).filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let mut config = RemoteWriteConfig::new(url.trim());
    let duration = |name: &str| -> Result<Option<Duration>> {
        get(name)
            .map(|v| {
                humantime::parse_duration(v.trim()).map_err(|e| env_error(name, &v, &e.to_string()))
            })
            .transpose()
    };
    if let Some(interval) = duration(REMOTE_WRITE_INTERVAL_ENV)? {
        config.interval = interval;
    }
    if let Some(timeout) = duration(REMOTE_WRITE_TIMEOUT_ENV)? {
        config.timeout = timeout;
    }
    if let Some(v) = get(REMOTE_WRITE_BUFFER_BYTES_ENV) {
        config.buffer_bytes = v
            .trim()
            .parse()
            .map_err(|_| env_error(REMOTE_WRITE_BUFFER_BYTES_ENV, &v, "not a number"))?;
    }
    if let Some(token) = get(REMOTE_WRITE_BEARER_TOKEN_ENV) {
        config = config.bearer_token(token.trim());
    }
    config.validate()?;
    Ok(Some(config))
}

fn env_error(name: &str, value: &str, reason: &str) -> PerfError {
    PerfError::InvalidConfig(format!("{name}={value:?}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_bad_field_is_named() {
        let ok = RemoteWriteConfig::new("http://127.0.0.1:9090/api/v1/write");
        assert!(ok.validate().is_ok());
        let cases = [
            (RemoteWriteConfig::new("https://h/w"), "remote_write.url"),
            (RemoteWriteConfig::new("not a url"), "remote_write.url"),
            (
                RemoteWriteConfig {
                    interval: Duration::ZERO,
                    ..ok.clone()
                },
                "remote_write.interval",
            ),
            (
                RemoteWriteConfig {
                    timeout: Duration::ZERO,
                    ..ok.clone()
                },
                "remote_write.timeout",
            ),
            (
                RemoteWriteConfig {
                    buffer_bytes: 10,
                    ..ok.clone()
                },
                "remote_write.buffer_bytes",
            ),
            (
                RemoteWriteConfig {
                    min_backoff: Duration::from_secs(60),
                    ..ok.clone()
                },
                "remote_write.min_backoff",
            ),
            (
                ok.clone().header("Content-Type", "text/plain"),
                "remote_write.headers[0]",
            ),
            (
                ok.clone().header("X-Ok", "1").header("bad name", "x"),
                "remote_write.headers[1]",
            ),
            (
                ok.clone().header("X-A", "line\nbreak"),
                "remote_write.headers[0]",
            ),
        ];
        for (config, field) in cases {
            let err = config.validate().unwrap_err();
            assert!(matches!(err, PerfError::InvalidConfig(_)));
            assert!(err.to_string().contains(field), "{err} should name {field}");
        }
    }

    #[test]
    fn the_environment_configures_it() {
        assert_eq!(from_vars(vars(&[])).unwrap(), None);
        assert_eq!(
            from_vars(vars(&[(REMOTE_WRITE_URL_ENV, " ")])).unwrap(),
            None
        );
        let config = from_vars(vars(&[
            (REMOTE_WRITE_URL_ENV, "http://localhost:9090/api/v1/write"),
            (REMOTE_WRITE_INTERVAL_ENV, "2s"),
            (REMOTE_WRITE_TIMEOUT_ENV, "500ms"),
            (REMOTE_WRITE_BEARER_TOKEN_ENV, "tok"),
            (REMOTE_WRITE_BUFFER_BYTES_ENV, "65536"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(config.interval, Duration::from_secs(2));
        assert_eq!(config.timeout, Duration::from_millis(500));
        assert_eq!(config.buffer_bytes, 65536);
        assert_eq!(
            config.headers,
            [("Authorization".to_owned(), "Bearer tok".to_owned())]
        );
        let err = from_vars(vars(&[
            (REMOTE_WRITE_URL_ENV, "http://localhost/w"),
            (REMOTE_WRITE_INTERVAL_ENV, "soon"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains(REMOTE_WRITE_INTERVAL_ENV), "{err}");
    }
}
