//! A tiny remote-write receiver on loopback for the integration tests: it
//! decodes each request (snappy, then `prometheus.WriteRequest`), checks
//! the protocol headers, and answers as told — or misbehaves (an error
//! status, never answering, closing the connection). Stopped (every
//! connection closed) on drop. Included with `#[path]` by the tests that
//! need it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use perf_core::prompb::{TimeSeries, WriteRequest};
use prost::Message;

/// How the receiver answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// 204 after decoding.
    Accept,
    /// This status, without decoding.
    Status(u16),
    /// Reads the request and never answers (until stopped).
    Hang,
    /// Reads the request and closes the connection.
    Close,
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<WriteRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Receiver {
        Receiver::start_on("127.0.0.1:0".parse().unwrap(), behaviour)
    }

    /// A receiver on `addr` (to come back on the same port).
    pub fn start_on(addr: SocketAddr, behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind(addr).expect("bind the receiver");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || accept(listener, behaviour, r, s));
        Receiver {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The write URL.
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    /// Every request decoded so far.
    pub fn requests(&self) -> Vec<WriteRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Every series of every request, in order.
    pub fn series(&self) -> Vec<TimeSeries> {
        self.requests()
            .into_iter()
            .flat_map(|r| r.timeseries)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept(
    listener: TcpListener,
    behaviour: Behaviour,
    requests: Arc<Mutex<Vec<WriteRequest>>>,
    stop: Arc<AtomicBool>,
) {
    let mut connections = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
                connections.push(std::thread::spawn(move || serve(stream, behaviour, r, s)));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    connections.into_iter().for_each(|c| drop(c.join()));
}

/// One connection: requests until it closes (or misbehaves).
fn serve(
    mut stream: TcpStream,
    behaviour: Behaviour,
    requests: Arc<Mutex<Vec<WriteRequest>>>,
    stop: Arc<AtomicBool>,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while let Some((head, body)) = read_request(&mut stream, &stop) {
        let reply = match behaviour {
            Behaviour::Accept => {
                requests.lock().unwrap().push(decode(&head, &body));
                "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_owned()
            }
            Behaviour::Status(code) => {
                format!("HTTP/1.1 {code} Nope\r\nContent-Length: 4\r\n\r\nnope")
            }
            Behaviour::Hang => {
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return;
            }
            Behaviour::Close => return,
        };
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The head (lower-cased) and body of the next request; `None` at the end.
fn read_request(stream: &mut TcpStream, stop: &AtomicBool) -> Option<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if stop.load(Ordering::SeqCst) {
            return None; // stopped: close even a busy keep-alive connection
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            Err(_) if !stop.load(Ordering::SeqCst) => continue, // read timeout: look again
            Err(_) => return None,
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
    let length: usize = header(&head, "content-length").and_then(|v| v.parse().ok())?;
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(_) if !stop.load(Ordering::SeqCst) => continue,
            Err(_) => return None,
        }
    }
    Some((head, body))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Checks the protocol headers and decodes the body.
fn decode(head: &str, body: &[u8]) -> WriteRequest {
    assert!(head.starts_with("post /api/v1/write "), "{head}");
    assert_eq!(header(head, "content-encoding"), Some("snappy"));
    assert_eq!(header(head, "content-type"), Some("application/x-protobuf"));
    assert_eq!(
        header(head, "x-prometheus-remote-write-version"),
        Some("0.1.0")
    );
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .expect("snappy");
    WriteRequest::decode(&raw[..]).expect("a WriteRequest")
}

/// The value of label `name` of a series.
pub fn label<'a>(series: &'a TimeSeries, name: &str) -> Option<&'a str> {
    series
        .labels
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.value.as_str())
}
