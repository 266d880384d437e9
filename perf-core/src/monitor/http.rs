//! The `/metrics` HTTP endpoint of a monitor (feature `http`):
//! [`crate::export::http`] serving [`crate::export::exposition`] of its
//! registry.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use super::Monitor;
use crate::error::{PerfError, Result};
use crate::export::exposition::{self, ExpositionConfig};
use crate::export::http::{MetricsServer, Render};

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
        let addrs = resolve(addr)?;
        MetricsServer::start(&addrs, self.renderer(config))
    }

    /// Renders the registry while the monitor lives, holding only a weak
    /// reference to it.
    fn renderer(&self, config: ExpositionConfig) -> Render {
        let weak = Arc::downgrade(&self.inner);
        let local_only = self.local_only;
        Box::new(move |format| {
            let monitor = Monitor {
                inner: weak.upgrade()?,
                local_only,
            };
            let text = exposition::render(&monitor.view(), &config, format).text;
            Some(text)
        })
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
