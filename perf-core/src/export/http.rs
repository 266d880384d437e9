//! An HTTP `/metrics` endpoint (feature `http`): a [`tiny_http`] server
//! whose requests one background thread answers with an exposition
//! document.
//!
//! The thread gets a [`Render`] closure and nothing else, so it holds only
//! what the closure holds; when the closure has nothing left to render (its
//! source is gone), `/metrics` answers 503. Content negotiation: OpenMetrics
//! when the `Accept` header mentions `application/openmetrics-text`, the
//! Prometheus text format 0.0.4 otherwise. Other paths answer 404, methods
//! other than `GET` and `HEAD` 405. A panic while answering one request is
//! caught and answered with 500; it never ends the thread.

use std::fmt;
use std::io::Cursor;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Request, Response, Server};

use crate::error::{PerfError, Result};
use crate::export::exposition::ExpositionFormat;

/// Renders the exposition document in a format, or `None` when there is
/// nothing to render any more (the source is gone): answered with 503.
pub(crate) type Render = Box<dyn Fn(ExpositionFormat) -> Option<String> + Send + 'static>;

/// The path the server answers.
const METRICS_PATH: &str = "/metrics";

/// The media type whose presence in `Accept` selects OpenMetrics.
const OPENMETRICS_MEDIA_TYPE: &str = "application/openmetrics-text";

/// How long [`MetricsServer::stop`] waits for the listening socket to close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A running `/metrics` endpoint (feature `http`), started by
/// [`crate::Monitor::serve_metrics`]. [`MetricsServer::stop`], or dropping
/// the handle, stops it: the serving thread is joined and the port is
/// closed when either returns. The server does not keep the monitor alive;
/// once the monitor is dropped, `/metrics` answers 503.
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// let mut server = monitor.serve_metrics("127.0.0.1:0")?;
/// assert!(server.local_addr().port() != 0);
/// server.stop();
/// server.stop(); // idempotent
/// # Ok::<(), perf_core::PerfError>(())
/// ```
pub struct MetricsServer {
    addr: SocketAddr,
    server: Option<Arc<Server>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .field("running", &self.server.is_some())
            .finish()
    }
}

impl MetricsServer {
    /// Binds the first of `addrs` that works (text of all of them in the
    /// error otherwise) and starts the serving thread.
    pub(crate) fn start(addrs: &[SocketAddr], render: Render) -> Result<MetricsServer> {
        let server = Server::http(addrs).map_err(|e| bind_error(addrs, &*e))?;
        let addr = server.server_addr().to_ip().ok_or_else(|| PerfError::Io {
            path: addr_text(addrs),
            reason: "not an IP address".into(),
        })?;
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let thread = thread::Builder::new()
            .name("perf-core-metrics-http".into())
            .spawn(move || serve(&serving, &render))
            .map_err(|e| bind_error(addrs, &e))?;
        Ok(MetricsServer {
            addr,
            server: Some(server),
            thread: Some(thread),
        })
    }

    /// The address the server listens on (with the actual port when it
    /// was started on port 0).
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let server = monitor.serve_metrics("127.0.0.1:0")?;
    /// assert!(server.local_addr().ip().is_loopback());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving: requests already received are answered, the thread
    /// is joined and the listening socket closed (waiting at most 2 s for
    /// the socket). Calling it again does nothing.
    ///
    /// ```
    /// use perf_core::Monitor;
    /// let monitor = Monitor::builder().build()?;
    /// let mut server = monitor.serve_metrics("127.0.0.1:0")?;
    /// let addr = server.local_addr();
    /// server.stop();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn stop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The last reference: dropping it ends tiny_http's accept thread,
        // which closes the socket shortly after.
        drop(server);
        wait_until_closed(self.addr);
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The serving thread: answers requests until the server is unblocked.
fn serve(server: &Server, render: &Render) {
    for request in server.incoming_requests() {
        let response = panic::catch_unwind(AssertUnwindSafe(|| respond_to(&request, render)))
            .unwrap_or_else(|_| plain(500, "internal error\n"));
        // The client may have gone: nothing to do about it.
        let _ = request.respond(response);
    }
}

/// The response to one request.
fn respond_to(request: &Request, render: &Render) -> Response<Cursor<Vec<u8>>> {
    let path = request.url().split('?').next().unwrap_or_default();
    if path != METRICS_PATH {
        return plain(404, "not found\n");
    }
    if !matches!(request.method(), Method::Get | Method::Head) {
        return plain(405, "method not allowed\n").with_header(header("Allow", "GET, HEAD"));
    }
    let format = negotiate(request);
    match render(format) {
        Some(body) => {
            Response::from_string(body).with_header(header("Content-Type", format.content_type()))
        }
        None => plain(503, "the monitor is gone\n"),
    }
}

/// OpenMetrics when an `Accept` header mentions it, else Prometheus.
fn negotiate(request: &Request) -> ExpositionFormat {
    let wants_openmetrics = request.headers().iter().any(|h| {
        h.field.equiv("Accept")
            && h.value
                .as_str()
                .to_ascii_lowercase()
                .contains(OPENMETRICS_MEDIA_TYPE)
    });
    if wants_openmetrics {
        ExpositionFormat::OpenMetrics
    } else {
        ExpositionFormat::Prometheus
    }
}

/// A `text/plain` response with a status.
fn plain(status: u16, body: &str) -> Response<Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

/// A header from constant ASCII text.
fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("constant ASCII header")
}

/// Waits (at most [`CLOSE_TIMEOUT`]) until nothing accepts connections on
/// `addr` any more, so the port can be bound again once `stop` returns.
fn wait_until_closed(addr: SocketAddr) {
    let target = SocketAddr::new(connectable(addr), addr.port());
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&target, Duration::from_millis(100)) {
            Ok(_) => thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
}

/// The loopback address in place of an unspecified (wildcard) one.
fn connectable(addr: SocketAddr) -> std::net::IpAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        _ => addr.ip(),
    }
}

/// The error for a server that could not be started on `addrs`.
fn bind_error(addrs: &[SocketAddr], error: &dyn std::error::Error) -> PerfError {
    PerfError::Io {
        path: addr_text(addrs),
        reason: error.to_string(),
    }
}

/// `addrs` as text, comma-separated.
fn addr_text(addrs: &[SocketAddr]) -> String {
    let texts: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    texts.join(", ")
}
