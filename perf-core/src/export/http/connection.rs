//! One connection's life: admission against the connection limit, hyper
//! serving it through a guard that enforces the request-line limit and
//! the write timeout, and a lingering close.
//!
//! All of it runs on the server's single runtime thread, so a connection
//! costs a task and its buffers (hyper's head buffer is bounded by
//! [`ServerLimits::max_head`]), never a thread.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::time::Sleep;

use super::limits::ServerLimits;
use super::router::Router;

/// How long a connection must have gone without a new request before a
/// newcomer may take its place at the connection limit. Legitimate
/// clients send their request head right after connecting, so only the
/// idle and the slow reach this age.
const EVICTABLE_AFTER: Duration = Duration::from_millis(250);

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so that the client sees the final answer rather
/// than a reset; and how much it reads at most.
const LINGER: (Duration, usize) = (Duration::from_secs(1), 256 << 10);

/// The answer to a connection over the limit when none can give way.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
Retry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nbusy\n";

/// The answer to a request line over the limit.
const URI_TOO_LONG: &[u8] = b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\nrequest line too long\n";

/// What a server's connections share.
pub(super) struct Shared {
    pub(super) router: Router,
    pub(super) limits: ServerLimits,
    pub(super) table: Mutex<Table>,
    /// Set once when the server stops.
    pub(super) stopping: watch::Sender<bool>,
}

/// The open connections.
///
/// Invariant: `open.len() <= limit`; a connection's entry is removed
/// before (eviction) or when (its task ends) it closes, and removing the
/// entry drops the sender its task waits on, which ends the task.
#[derive(Default)]
pub(super) struct Table {
    next_id: u64,
    open: HashMap<u64, Slot>,
}

/// One open connection: when it last made progress (accepted or a request
/// dispatched), and the sender whose drop cancels it.
struct Slot {
    progress: Instant,
    _cancel: oneshot::Sender<()>,
}

impl Table {
    /// Room for a new connection: its id and the receiver that resolves
    /// when it must close; `None` when the table is full and no
    /// connection has been idle for [`EVICTABLE_AFTER`].
    fn admit(&mut self, limit: usize, now: Instant) -> Option<(u64, oneshot::Receiver<()>)> {
        if self.open.len() >= limit {
            let (&victim, _) = self
                .open
                .iter()
                .filter(|(_, slot)| now.duration_since(slot.progress) >= EVICTABLE_AFTER)
                .min_by_key(|(_, slot)| slot.progress)?;
            self.open.remove(&victim);
        }
        let (cancel, cancelled) = oneshot::channel();
        let id = self.next_id;
        self.next_id += 1;
        let slot = Slot {
            progress: now,
            _cancel: cancel,
        };
        self.open.insert(id, slot);
        Some((id, cancelled))
    }

    /// Marks connection `id` as having made progress now.
    fn touch(&mut self, id: u64, now: Instant) {
        if let Some(slot) = self.open.get_mut(&id) {
            slot.progress = now;
        }
    }

    /// Forgets connection `id` (it has closed or is closing).
    fn remove(&mut self, id: u64) {
        self.open.remove(&id);
    }

    /// Cancels every connection.
    pub(super) fn clear(&mut self) {
        self.open.clear();
    }

    /// How many connections are open.
    pub(super) fn len(&self) -> usize {
        self.open.len()
    }
}

/// Takes in an accepted connection: serves it in its own task, or answers
/// 503 and closes it when the table is full and none can give way.
pub(super) fn admit(stream: TcpStream, shared: &Arc<Shared>) {
    let admitted = shared
        .table
        .lock()
        .admit(shared.limits.connections, Instant::now());
    match admitted {
        Some((id, cancelled)) => {
            tokio::spawn(serve(stream, id, cancelled, Arc::clone(shared)));
        }
        None => {
            // One try: a client that cannot take 88 bytes gets a reset.
            let _ = stream.try_write(BUSY);
        }
    }
}

/// Serves one connection until it ends or is cancelled, then closes it.
async fn serve(
    mut stream: TcpStream,
    id: u64,
    cancelled: oneshot::Receiver<()>,
    shared: Arc<Shared>,
) {
    tokio::select! {
        _ = converse(&mut stream, id, &shared) => {}
        _ = cancelled => {}
    }
    shared.table.lock().remove(id);
}

/// Lets hyper answer requests on `stream` until either side closes it,
/// answers 414 when a request line went over the limit, then closes with
/// a linger. When the server stops, hyper finishes the request in
/// progress and closes an idle connection at once.
async fn converse(stream: &mut TcpStream, id: u64, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let line = RequestLine::new(shared.limits.request_line);
    let mut stopping = shared.stopping.subscribe();
    {
        let guard = Guard::new(stream, &line, shared.limits.write_timeout);
        let service = service_fn(|request| {
            shared.table.lock().touch(id, Instant::now());
            line.rearm();
            let response = shared.router.respond(request);
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(shared.limits.header_read_timeout)
            .max_header_size(shared.limits.head)
            .max_buf_size(shared.limits.head.max(8 << 10))
            .serve_connection(TokioIo::new(guard), service);
        let mut connection = std::pin::pin!(connection);
        let stopped = async { stopping.wait_for(|stop| *stop).await.is_ok() };
        let finished = tokio::select! {
            _ = connection.as_mut() => true,
            _ = stopped => false,
        };
        if !finished {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    if line.exceeded() {
        let _ = stream.write_all(URI_TOO_LONG).await;
    }
    let stopping = *shared.stopping.borrow();
    if !stopping {
        linger(stream).await;
    }
}

/// Closes the write side and reads what the client still sends for a
/// short while, so an answer written just before closing is not lost to
/// a reset.
async fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let (time, bytes) = LINGER;
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut read = 0;
        while read < bytes {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    };
    let _ = tokio::time::timeout(time, drain).await;
}

/// Watches the first line of each request head for its length, which
/// hyper only bounds together with the headers (431); a line over the
/// limit gets 414.
///
/// Armed at the start of the connection and again whenever a request is
/// dispatched (the next bytes are then the next request's, since no route
/// reads a body); disarmed at the line's end.
struct RequestLine {
    limit: usize,
    state: Mutex<LineState>,
    exceeded: AtomicBool,
}

#[derive(Clone, Copy)]
struct LineState {
    armed: bool,
    length: usize,
}

impl RequestLine {
    fn new(limit: usize) -> RequestLine {
        RequestLine {
            limit,
            state: Mutex::new(LineState {
                armed: true,
                length: 0,
            }),
            exceeded: AtomicBool::new(false),
        }
    }

    /// Watches the next bytes as the start of a new request.
    fn rearm(&self) {
        *self.state.lock() = LineState {
            armed: true,
            length: 0,
        };
    }

    /// Follows `bytes` just received; false when they take the request
    /// line past the limit.
    fn accept(&self, bytes: &[u8]) -> bool {
        let mut state = self.state.lock();
        let mut rest = bytes;
        while state.armed && !rest.is_empty() {
            let end = rest.iter().position(|&b| b == b'\n');
            let line = &rest[..end.unwrap_or(rest.len())];
            state.length += line.iter().filter(|&&b| b != b'\r').count();
            if state.length > self.limit {
                self.exceeded.store(true, Ordering::Relaxed);
                return false;
            }
            let Some(end) = end else { break };
            // Empty lines before a request line are allowed (RFC 9112 §2.2).
            state.armed = state.length == 0;
            rest = &rest[end + 1..];
        }
        true
    }

    /// Whether a request line went over the limit.
    fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }
}

/// The stream as hyper sees it: reads pass through [`RequestLine`] (a
/// line over the limit reads as the end of the stream, after which the
/// connection task answers 414), and a write that makes no progress for
/// the write timeout fails, which ends the connection.
struct Guard<'a> {
    stream: &'a mut TcpStream,
    line: &'a RequestLine,
    write_timeout: Duration,
    stalled_since: Option<Pin<Box<Sleep>>>,
}

impl<'a> Guard<'a> {
    fn new(stream: &'a mut TcpStream, line: &'a RequestLine, write_timeout: Duration) -> Self {
        Guard {
            stream,
            line,
            write_timeout,
            stalled_since: None,
        }
    }

    /// `poll` of a write, failing once writes have been pending for the
    /// write timeout.
    fn timed<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled_since = None;
            return poll;
        }
        let timeout = self.write_timeout;
        let stall = self
            .stalled_since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
    }
}

impl AsyncRead for Guard<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.line.exceeded() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut *self.stream).poll_read(cx, buf))?;
        if !self.line.accept(&buf.filled()[before..]) {
            buf.set_filled(before);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Guard<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut *self.stream).poll_write(cx, buf);
        self.timed(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs);
        self.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut *self.stream).poll_flush(cx);
        self.timed(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_evicts_the_longest_idle_connection() {
        let mut table = Table::default();
        let start = Instant::now();
        let (first, _a) = table.admit(2, start).unwrap();
        let (second, _b) = table.admit(2, start).unwrap();
        assert!(table.admit(2, start).is_none(), "nobody idle long enough");
        let later = start + EVICTABLE_AFTER * 2;
        table.touch(first, later);
        let (third, _c) = table.admit(2, later).unwrap();
        assert_eq!(table.len(), 2);
        assert!(table.open.contains_key(&first));
        assert!(!table.open.contains_key(&second));
        assert!(table.open.contains_key(&third));
    }

    #[test]
    fn evicting_a_connection_cancels_its_task() {
        let mut table = Table::default();
        let start = Instant::now();
        let (_, mut cancelled) = table.admit(1, start).unwrap();
        assert!(cancelled
            .try_recv()
            .is_err_and(|e| e == oneshot::error::TryRecvError::Empty));
        table.admit(1, start + EVICTABLE_AFTER).unwrap();
        assert_eq!(
            cancelled.try_recv(),
            Err(oneshot::error::TryRecvError::Closed)
        );
    }

    #[test]
    fn the_request_line_is_measured_across_reads_and_requests() {
        let line = RequestLine::new(24);
        assert!(line.accept(b"\r\nGET /abc"));
        assert!(line.accept(b"def HTTP/1.1\r\nHost: a-very-long-header-value-indeed\r\n"));
        assert!(line.accept(b"\r\n"));
        line.rearm();
        assert!(line.accept(b"GET /0123456"));
        assert!(!line.accept(b"789abcdef HTTP/1.1\r\n"));
        assert!(line.exceeded());
    }
}
