//! The `/metrics` HTTP endpoint of a monitor (feature `http`): a route
//! of [`crate::export::http`]'s server answering with
//! [`crate::export::exposition`] or [`crate::export::protobuf`] of the
//! registry, as the scrape's `Accept` header asks.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use hyper::header::ACCEPT;
use hyper::StatusCode;

use super::Monitor;
use crate::error::{PerfError, Result};
use crate::export::exposition::{self, ExpositionConfig, ExpositionFormat};
use crate::export::http::{Handler, MetricsServer, Reply, Router, ServerLimits};
use crate::export::protobuf::{self, PROTOBUF_CONTENT_TYPE};

/// The path the exposition is served on.
const METRICS_PATH: &str = "/metrics";

/// The media type whose presence in `Accept` selects OpenMetrics.
const OPENMETRICS_MEDIA_TYPE: &str = "application/openmetrics-text";

/// The media type of the protobuf exposition, and the parameters that
/// must have these values when present.
const PROTOBUF_MEDIA_TYPE: &str = "application/vnd.google.protobuf";
const PROTOBUF_PARAMETERS: [(&str, &str); 2] = [
    ("proto", "io.prometheus.client.MetricFamily"),
    ("encoding", "delimited"),
];

/// What a scrape gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Text(ExpositionFormat),
    Protobuf,
}

/// Export: a `/metrics` endpoint over HTTP.
impl Monitor {
    /// Serves `GET /metrics` on `addr` from a background thread, with the
    /// default [`ExpositionConfig`]: the protobuf exposition with native
    /// histograms ([`Monitor::export_protobuf`]) when the scrape's `Accept`
    /// header prefers `application/vnd.google.protobuf;
    /// proto=io.prometheus.client.MetricFamily; encoding=delimited` (as
    /// Prometheus does with native histograms on), else OpenMetrics when it
    /// asks for `application/openmetrics-text`, the Prometheus text format
    /// 0.0.4 otherwise. The server holds only a weak reference to
    /// the monitor (`/metrics` answers 503 once it is dropped); stop it with
    /// [`MetricsServer::stop`] or by dropping the handle. Needs the `http`
    /// feature. An address that cannot be resolved or bound gives
    /// [`PerfError::Io`] naming it.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let server = monitor.serve_metrics("127.0.0.1:0")?; // any free port
    /// println!("scrape http://{}/metrics", server.local_addr());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn serve_metrics(&self, addr: impl ToSocketAddrs) -> Result<MetricsServer> {
        self.serve_metrics_with(addr, ExpositionConfig::new())
    }

    /// [`Self::serve_metrics`] with global labels, help texts, units and
    /// histogram layouts from `config`.
    ///
    /// ```
    /// use perf_core::{ExpositionConfig, Monitor};
    /// let monitor = Monitor::builder().build()?;
    /// let config = ExpositionConfig::new().global_label("service", "checkout")?;
    /// let server = monitor.serve_metrics_with("127.0.0.1:0", config)?;
    /// # drop(server);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn serve_metrics_with(
        &self,
        addr: impl ToSocketAddrs,
        config: ExpositionConfig,
    ) -> Result<MetricsServer> {
        self.serve_metrics_with_limits(addr, config, ServerLimits::new())
    }

    /// [`Self::serve_metrics_with`] within `limits` (connections,
    /// timeouts, request sizes) instead of the defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_core::{ExpositionConfig, Monitor, ServerLimits};
    /// let monitor = Monitor::builder().build()?;
    /// let limits = ServerLimits::new().connection_limit_of(32)?;
    /// let server = monitor.serve_metrics_with_limits("127.0.0.1:0", ExpositionConfig::new(), limits)?;
    /// # drop(server);
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn serve_metrics_with_limits(
        &self,
        addr: impl ToSocketAddrs,
        config: ExpositionConfig,
        limits: ServerLimits,
    ) -> Result<MetricsServer> {
        let addrs = resolve(addr)?;
        let router = Router::new().get(METRICS_PATH, self.metrics_handler(config));
        MetricsServer::start(&addrs, router, limits)
    }

    /// Answers `/metrics` from the registry while the monitor lives
    /// (holding only a weak reference to it), with 503 once it is gone.
    fn metrics_handler(&self, config: ExpositionConfig) -> Handler {
        let weak = Arc::downgrade(&self.inner);
        let local_only = self.local_only;
        Box::new(move |request| {
            let Some(inner) = weak.upgrade() else {
                return Reply::plain(StatusCode::SERVICE_UNAVAILABLE, "the monitor is gone\n");
            };
            let monitor = Monitor { inner, local_only };
            let accept: Vec<&str> = request
                .headers
                .get_all(ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            match negotiate(&accept) {
                Answer::Protobuf => {
                    let bytes = protobuf::render(&monitor.view(), &config).0;
                    Reply::ok(PROTOBUF_CONTENT_TYPE, bytes)
                }
                Answer::Text(format) => {
                    let text = exposition::render(&monitor.view(), &config, format).text;
                    Reply::ok(format.content_type(), text)
                }
            }
        })
    }
}

/// The answer to `Accept` header values: protobuf when its media range is
/// the first of those with the highest `q`; otherwise OpenMetrics when a
/// value mentions it, else the Prometheus text format.
fn negotiate(accept: &[&str]) -> Answer {
    let ranges: Vec<(&str, f64)> = accept
        .iter()
        .flat_map(|value| value.split(','))
        .map(|range| (range, quality(range)))
        .collect();
    let best = ranges
        .iter()
        .fold(None::<(&str, f64)>, |best, &(range, q)| match best {
            Some((_, top)) if top >= q => best,
            _ => Some((range, q)),
        });
    if best.is_some_and(|(range, q)| q > 0.0 && is_protobuf(range)) {
        return Answer::Protobuf;
    }
    let wants_openmetrics = accept
        .iter()
        .any(|v| v.to_ascii_lowercase().contains(OPENMETRICS_MEDIA_TYPE));
    if wants_openmetrics {
        Answer::Text(ExpositionFormat::OpenMetrics)
    } else {
        Answer::Text(ExpositionFormat::Prometheus)
    }
}

/// The `q` of a media range (1 without one, 0 when unreadable).
fn quality(range: &str) -> f64 {
    parameters(range)
        .find(|(name, _)| name.eq_ignore_ascii_case("q"))
        .map_or(1.0, |(_, value)| value.parse().unwrap_or(0.0))
}

/// Whether a media range is the delimited `MetricFamily` protobuf stream.
fn is_protobuf(range: &str) -> bool {
    let media_type = range.split(';').next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case(PROTOBUF_MEDIA_TYPE)
        && parameters(range).all(|(name, value)| {
            PROTOBUF_PARAMETERS
                .iter()
                .all(|(wanted, must)| !name.eq_ignore_ascii_case(wanted) || value == *must)
        })
}

/// The `name=value` parameters of a media range, trimmed and unquoted.
fn parameters(range: &str) -> impl Iterator<Item = (&str, &str)> {
    range.split(';').skip(1).filter_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        Some((name.trim(), value.trim().trim_matches('"')))
    })
}

/// The socket addresses `addr` stands for.
fn resolve(addr: impl ToSocketAddrs) -> Result<Vec<SocketAddr>> {
    let unresolved = |reason: String| PerfError::Io {
        path: "metrics server address".into(),
        reason,
    };
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| unresolved(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(unresolved("resolves to no address".into()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Prometheus 2.42 sends with native histograms on, and without.
    const PROMETHEUS_PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    const PROMETHEUS_TEXT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    #[test]
    fn protobuf_is_served_when_preferred() {
        assert_eq!(negotiate(&[PROMETHEUS_PROTOBUF]), Answer::Protobuf);
        let bare = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
        assert_eq!(negotiate(&[bare]), Answer::Protobuf);
        assert_eq!(
            negotiate(&["text/plain;q=0.5", "application/vnd.google.protobuf"]),
            Answer::Protobuf
        );
    }

    #[test]
    fn everything_else_is_negotiated_as_before() {
        use ExpositionFormat::{OpenMetrics, Prometheus};
        assert_eq!(negotiate(&[PROMETHEUS_TEXT]), Answer::Text(OpenMetrics));
        assert_eq!(negotiate(&[]), Answer::Text(Prometheus));
        assert_eq!(negotiate(&["*/*"]), Answer::Text(Prometheus));
        // Protobuf, but not first among the most preferred.
        let later = "text/plain;version=0.0.4,application/vnd.google.protobuf";
        assert_eq!(negotiate(&[later]), Answer::Text(Prometheus));
        let lower = "application/vnd.google.protobuf;q=0.4,application/openmetrics-text;q=0.9";
        assert_eq!(negotiate(&[lower]), Answer::Text(OpenMetrics));
        // Another message, another encoding, or q=0: not what we write.
        for other in [
            "application/vnd.google.protobuf;proto=io.prometheus.client.Other;encoding=delimited",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
            "application/vnd.google.protobuf;q=0",
        ] {
            assert_eq!(negotiate(&[other]), Answer::Text(Prometheus), "{other}");
        }
    }
}
