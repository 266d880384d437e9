//! The `/metrics` HTTP endpoint of a monitor (feature `http`): a route
//! of [`crate::export::http`]'s server answering with
//! [`crate::export::exposition`] of the registry.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use hyper::header::ACCEPT;
use hyper::http::request::Parts;
use hyper::StatusCode;

use super::Monitor;
use crate::error::{PerfError, Result};
use crate::export::exposition::{self, ExpositionConfig, ExpositionFormat};
use crate::export::http::{Handler, MetricsServer, Reply, Router, ServerLimits};

/// The path the exposition is served on.
const METRICS_PATH: &str = "/metrics";

/// The media type whose presence in `Accept` selects OpenMetrics.
const OPENMETRICS_MEDIA_TYPE: &str = "application/openmetrics-text";

/// Export: a `/metrics` endpoint over HTTP.
impl Monitor {
    /// Serves `GET /metrics` on `addr` from a background thread, with the
    /// default [`ExpositionConfig`]: OpenMetrics when the scrape's `Accept`
    /// header asks for `application/openmetrics-text`, the Prometheus text
    /// format 0.0.4 otherwise. The server holds only a weak reference to
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
            let format = negotiate(request);
            let text = exposition::render(&monitor.view(), &config, format).text;
            Reply::ok(format.content_type(), text)
        })
    }
}

/// OpenMetrics when an `Accept` header mentions it, else Prometheus.
fn negotiate(request: &Parts) -> ExpositionFormat {
    let wants_openmetrics = request.headers.get_all(ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains(OPENMETRICS_MEDIA_TYPE))
    });
    if wants_openmetrics {
        ExpositionFormat::OpenMetrics
    } else {
        ExpositionFormat::Prometheus
    }
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
