//! One remote-write request over HTTP, and what to do about its outcome.
//!
//! The request is a `POST` of the snappy-compressed `WriteRequest` with
//! the headers the remote write 1.0 specification requires
//! (`Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
//! `X-Prometheus-Remote-Write-Version: 0.1.0`) and the configured ones
//! (an `Authorization` bearer token, say). Each request is bounded in time
//! as a whole (connect, send, receive): a receiver that never answers
//! costs at most the timeout.
//!
//! Outcomes, as the specification classifies them: 2xx is sent; a network
//! error, 5xx and 429 are retried (after a back-off, see [`backoff`]);
//! any other status is a rejection of the data itself, never retried.

use std::time::Duration;

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The headers every request carries.
pub(crate) const PROTOCOL_HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// What became of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver took it (2xx).
    Sent,
    /// Try again later: a network error, 5xx or 429 (the reason).
    Retry(String),
    /// The receiver refused the data (another status): drop it.
    Reject(String),
}

/// Sends requests to one receiver.
pub(crate) struct Client {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
}

impl Client {
    /// A client for `url` adding `headers` to each request.
    pub(crate) fn new(url: &str, headers: &[(String, String)]) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("perf-core/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
            url: url.to_owned(),
            headers: headers.to_vec(),
        }
    }

    /// POSTs `body`, giving up after `timeout`.
    pub(crate) fn send(&self, body: &[u8], timeout: Duration) -> Outcome {
        let mut request = self.agent.post(&self.url);
        for (name, value) in PROTOCOL_HEADERS {
            request = request.header(name, value);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request
            .config()
            .timeout_global(Some(timeout.max(Duration::from_millis(1))))
            .build();
        match request.send(body) {
            Ok(response) => classify(response.status().as_u16()),
            Err(err) => Outcome::Retry(format!("{}: {err}", self.url)),
        }
    }
}

/// The outcome of an HTTP status.
fn classify(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Sent,
        429 | 500..=599 => Outcome::Retry(format!("HTTP {status}")),
        _ => Outcome::Reject(format!("HTTP {status}")),
    }
}

/// Exponential back-off with jitter: the `attempt`-th retry (from 0)
/// waits a random time in `[d/2, d]`, `d = min(max, min · 2^attempt)`, so
/// writers that failed together do not retry together.
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    rng: Xoshiro256PlusPlus,
}

impl Backoff {
    /// Back-off between `min` and `max` (`min <= max`).
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        let seed = std::process::id() as u64
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        Backoff {
            min,
            max,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// How long to wait before retry `attempt`.
    pub(crate) fn delay(&mut self, attempt: u32) -> Duration {
        backoff(self.min, self.max, attempt, self.rng.next_u64())
    }
}

/// [`Backoff::delay`] with the random draw `r` given.
pub(crate) fn backoff(min: Duration, max: Duration, attempt: u32, r: u64) -> Duration {
    let full = min.saturating_mul(1u32 << attempt.min(20)).min(max);
    let fraction = 0.5 + 0.5 * (r >> 11) as f64 / (1u64 << 53) as f64;
    full.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sent_retried_or_rejected() {
        assert_eq!(classify(204), Outcome::Sent);
        assert_eq!(classify(500), Outcome::Retry("HTTP 500".into()));
        assert_eq!(classify(503), Outcome::Retry("HTTP 503".into()));
        assert_eq!(classify(429), Outcome::Retry("HTTP 429".into()));
        assert_eq!(classify(400), Outcome::Reject("HTTP 400".into()));
        assert_eq!(classify(404), Outcome::Reject("HTTP 404".into()));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(5));
        let top = backoff(min, max, 0, u64::MAX); // d, within rounding
        assert!(top <= min && top > min * 99 / 100, "{top:?}");
        assert_eq!(backoff(min, max, 0, 0), Duration::from_millis(50));
        assert_eq!(backoff(min, max, 3, 0), Duration::from_millis(400));
        assert_eq!(backoff(min, max, 30, 0), Duration::from_millis(2500));
        let mut b = Backoff::new(min, max);
        assert!((0..100)
            .map(|_| b.delay(1))
            .all(|d| d >= min && d <= 2 * min));
    }

    #[test]
    fn nothing_listening_is_a_retry_within_the_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // closed again: connections are refused
        let client = Client::new(&format!("http://127.0.0.1:{port}/write"), &[]);
        let started = std::time::Instant::now();
        let outcome = client.send(b"x", Duration::from_secs(2));
        assert!(matches!(outcome, Outcome::Retry(_)), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
