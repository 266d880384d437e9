#![cfg(all(feature = "http", target_os = "linux"))]
//! The `/metrics` endpoint under attack (feature `http`): each test runs
//! one hostile client pattern on loopback while a legitimate scraper keeps
//! asking, and asserts that every legitimate scrape is answered within a
//! second and that the server's threads, sockets and memory stay bounded.
//!
//! The tests share the process's thread, descriptor and RSS counts, so
//! they run one at a time (a file-wide lock).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use perf_core::{Monitor, ServerLimits};

/// One attack at a time: the measurements are process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The longest a legitimate scrape may take while an attack runs.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(1);

/// A monitor with `series` latency series, so `/metrics` has some weight.
fn monitor_with_series(series: usize) -> Monitor {
    let monitor = Monitor::builder().build().unwrap();
    for i in 0..series {
        let route = format!("/route/{i}");
        for v in [3.0, 12.0, 250.0] {
            monitor
                .record("api.latency", &[("route", route.as_str())], v)
                .unwrap();
        }
    }
    monitor
}

/// One legitimate scrape (`Connection: close`): status and body length,
/// asserting it took less than [`SCRAPE_DEADLINE`].
fn scrape(addr: SocketAddr) -> (u16, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, SCRAPE_DEADLINE).unwrap();
    stream.set_read_timeout(Some(SCRAPE_DEADLINE)).unwrap();
    stream.set_write_timeout(Some(SCRAPE_DEADLINE)).unwrap();
    let head = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("scrape failed after {:?}: {e}", started.elapsed()));
    let elapsed = started.elapsed();
    assert!(elapsed < SCRAPE_DEADLINE, "scrape took {elapsed:?}");
    (status_of(&raw), raw.len())
}

/// Scrapes every 100 ms for `duration`, asserting each is a 200 within
/// the deadline; returns how many were made.
fn keep_scraping(addr: SocketAddr, duration: Duration) -> usize {
    let until = Instant::now() + duration;
    let mut scrapes = 0;
    while Instant::now() < until {
        let (status, _) = scrape(addr);
        assert_eq!(status, 200);
        scrapes += 1;
        thread::sleep(Duration::from_millis(100));
    }
    scrapes
}

/// The status code of a raw response (0 when there is none).
fn status_of(raw: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(64)]);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Threads of this process whose name marks them as the HTTP server's.
fn server_threads() -> usize {
    process_threads()
        .iter()
        .filter(|name| name.starts_with("perf-core-http"))
        .count()
}

/// The names of this process's threads.
fn process_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// This process's resident set size in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Open file descriptors of this process.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A client that sends a request line and then one header byte per
/// `pace`, never finishing its head.
fn slowloris(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    stream.set_nonblocking(true).unwrap();
    stream
}

#[test]
fn a_client_that_never_reads_does_not_stop_other_scrapes() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(2_000);
    let limits = ServerLimits::new()
        .write_timeout(Duration::from_secs(2))
        .unwrap();
    let server = monitor
        .serve_metrics_with_limits("127.0.0.1:0", Default::default(), limits)
        .unwrap();
    let addr = server.local_addr();
    let (_, body_len) = scrape(addr);

    // Pipelined requests whose responses together far exceed what the
    // socket buffers hold; the client never reads any of them.
    let mut hog = TcpStream::connect(addr).unwrap();
    let pipelined = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(32);
    hog.write_all(pipelined.as_bytes()).unwrap();
    assert!(32 * body_len > 16 << 20, "responses of {body_len} bytes");

    assert!(keep_scraping(addr, Duration::from_secs(3)) >= 10);
    assert!(server_threads() <= 1, "{:?}", process_threads());

    // The stalled connection is dropped after the write timeout: reading
    // now finds the end of the stream well before 32 responses.
    hog.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut received = Vec::new();
    let _ = hog.read_to_end(&mut received);
    assert!(received.len() < 32 * body_len, "{} bytes", received.len());
    assert_eq!(scrape(addr).0, 200);
}

#[test]
fn five_hundred_slowloris_connections_use_no_threads_and_block_no_scrape() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(100);
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let descriptors_before = open_descriptors();

    let mut attackers: Vec<TcpStream> = (0..500).map(|_| slowloris(addr)).collect();
    let trickle = thread::spawn(move || {
        for _ in 0..6 {
            for stream in &mut attackers {
                let _ = stream.write(b"a");
            }
            thread::sleep(Duration::from_secs(1));
        }
        attackers
    });
    thread::sleep(Duration::from_millis(500));
    assert!(keep_scraping(addr, Duration::from_secs(4)) >= 15);
    assert!(server_threads() <= 1, "{:?}", process_threads());
    // The 500 client sockets are ours; the server keeps at most its
    // connection limit open, plus a few it is closing.
    let server_sockets = open_descriptors().saturating_sub(descriptors_before + 500);
    let limit = ServerLimits::new().connection_limit();
    assert!(
        server_sockets <= limit + 16,
        "{server_sockets} server sockets"
    );
    drop(trickle.join().unwrap());
}

#[test]
fn a_head_that_never_ends_is_dropped_after_the_header_timeout() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(1);
    let limits = ServerLimits::new()
        .header_read_timeout(Duration::from_secs(1))
        .unwrap();
    let server = monitor
        .serve_metrics_with_limits("127.0.0.1:0", Default::default(), limits)
        .unwrap();
    let mut stream = slowloris(server.local_addr());
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(5) && !closed {
        let _ = stream.write(b"a");
        let mut byte = [0u8; 256];
        closed = match stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => true, // a 408 before closing also ends it
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(_) => true,
        };
        thread::sleep(Duration::from_millis(100));
    }
    assert!(closed, "still open after {:?}", started.elapsed());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// Sends `head_start`, then `filler` bytes of `fill` in 64 KiB pieces,
/// stopping as soon as the server answers; returns the status answered.
fn oversized_request(addr: SocketAddr, head_start: &[u8], fill: u8, filler: usize) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let piece = vec![fill; 64 << 10];
    let mut response = Vec::new();
    let _ = stream.write_all(head_start);
    let mut sent = 0;
    while sent < filler {
        let mut buffer = [0u8; 4096];
        if let Ok(n) = stream.read(&mut buffer) {
            response.extend_from_slice(&buffer[..n]);
            break;
        }
        match stream.write(&piece) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    response.extend_from_slice(&rest);
    status_of(&response)
}

/// Runs 20 clients each sending an oversized request while scrapes go
/// on; asserts each client got `expected` and the server's memory grew by
/// less than 16 MiB at the peak and came back afterwards.
fn oversized_requests_are_refused(head_start: &'static [u8], fill: u8, size: usize, expected: u16) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(100);
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    scrape(addr);
    let rss_before = rss_bytes();
    let clients: Vec<_> = (0..20)
        .map(|_| thread::spawn(move || oversized_request(addr, head_start, fill, size)))
        .collect();
    let mut rss_peak = rss_bytes();
    while !clients.iter().all(|c| c.is_finished()) {
        scrape(addr);
        rss_peak = rss_peak.max(rss_bytes());
        thread::sleep(Duration::from_millis(50));
    }
    for client in clients {
        assert_eq!(client.join().unwrap(), expected);
    }
    let grown = rss_peak.saturating_sub(rss_before);
    assert!(grown < 16 << 20, "RSS grew by {} KiB", grown >> 10);
    assert_eq!(scrape(addr).0, 200);
    let after = rss_bytes().saturating_sub(rss_before);
    assert!(after < 8 << 20, "RSS still {} KiB above", after >> 10);
    assert!(server_threads() <= 1, "{:?}", process_threads());
}

#[test]
fn a_ten_megabyte_url_gets_414_and_no_memory() {
    oversized_requests_are_refused(b"GET /metrics?", b'a', 10 << 20, 414);
}

#[test]
fn twenty_megabytes_of_headers_get_431_and_no_memory() {
    oversized_requests_are_refused(
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ",
        b'b',
        20 << 20,
        431,
    );
}

#[test]
fn a_body_on_the_scrape_path_is_refused() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(1);
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\nxyz")
        .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    assert_eq!(status_of(&raw), 413);
}

#[test]
fn connections_over_the_limit_make_room_for_a_scrape() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor_with_series(10);
    let limits = ServerLimits::new().connection_limit_of(8).unwrap();
    let server = monitor
        .serve_metrics_with_limits("127.0.0.1:0", Default::default(), limits)
        .unwrap();
    let addr = server.local_addr();
    let descriptors_before = open_descriptors();
    let idle: Vec<TcpStream> = (0..40).map(|_| TcpStream::connect(addr).unwrap()).collect();
    thread::sleep(Duration::from_millis(1200));
    assert_eq!(scrape(addr).0, 200);
    let server_sockets = open_descriptors().saturating_sub(descriptors_before + idle.len());
    assert!(server_sockets <= 8 + 2, "{server_sockets} server sockets");
}
