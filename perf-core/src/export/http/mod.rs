//! The HTTP endpoint (feature `http`): hyper 1.x on one dedicated thread
//! running a tokio current-thread runtime, answering the paths of a
//! [`Router`].
//!
//! Built for hostile networks: however many clients connect and however
//! they behave, the server uses one thread, at most
//! [`ServerLimits::connection_limit`] sockets, and for each a head buffer
//! of at most [`ServerLimits::max_head`] bytes. A slow or stalled client
//! holds only its own connection: heads must arrive within the header
//! read timeout, responses must make progress within the write timeout,
//! and at the connection limit the longest-idle connection gives way to a
//! newcomer (see [`limits`] for every bound and its answer).

mod connection;
mod limits;
mod router;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};

use crate::error::{PerfError, Result};
use connection::{Shared, Table};

pub use limits::ServerLimits;
pub(crate) use router::{Handler, Reply, Router};

/// How long [`MetricsServer::stop`] lets requests in progress finish.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// How long the server pauses accepting after a failed accept (out of
/// descriptors, say), so it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running HTTP endpoint (feature `http`), started by
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
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl MetricsServer {
    /// Binds the first of `addrs` that works (the error names all of
    /// them otherwise) and starts serving `router` within `limits`.
    pub(crate) fn start(
        addrs: &[SocketAddr],
        router: Router,
        limits: ServerLimits,
    ) -> Result<MetricsServer> {
        let io_error = |e: std::io::Error| PerfError::Io {
            path: addr_text(addrs),
            reason: e.to_string(),
        };
        let listener = TcpListener::bind(addrs).map_err(io_error)?;
        listener.set_nonblocking(true).map_err(io_error)?;
        let addr = listener.local_addr().map_err(io_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(io_error)?;
        let shared = Arc::new(Shared {
            router,
            limits,
            table: Mutex::new(Table::default()),
            stopping: watch::Sender::new(false),
        });
        let (stop, stopped) = oneshot::channel();
        let thread = thread::Builder::new()
            .name("perf-core-http".into())
            .spawn(move || runtime.block_on(run(listener, shared, stopped)))
            .map_err(io_error)?;
        Ok(MetricsServer {
            addr,
            stop: Some(stop),
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

    /// Stops serving: the listening socket is closed at once, requests in
    /// progress get up to a second to finish, then every connection is
    /// closed and the thread joined. Calling it again does nothing.
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
        // Dropping the sender is the signal.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The server thread's work: accept until stopped, then let connections
/// finish for [`STOP_GRACE`] and cancel the rest.
async fn run(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => connection::admit(stream, &shared),
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
        }
    }
    drop(listener);
    shared.stopping.send_replace(true);
    let deadline = Instant::now() + STOP_GRACE;
    while shared.table.lock().len() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    shared.table.lock().clear();
}

/// `addrs` as text, comma-separated.
fn addr_text(addrs: &[SocketAddr]) -> String {
    let texts: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    texts.join(", ")
}
