#![cfg(feature = "http")]
//! The `/metrics` HTTP endpoint (feature `http`), spoken to with plain
//! HTTP/1.1 over a `TcpStream`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use perf_core::{ExpositionFormat, Monitor};

/// A parsed response: status code, headers (names lowercased), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request (with `Connection: close`) and reads the response
/// until the server closes the connection.
fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let text =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    parse(&raw)
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, "")
}

fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .map(|l| l.split_once(':').unwrap())
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status: status.parse().unwrap(),
        headers,
        body: body.to_owned(),
    }
}

fn monitor_with_values() -> Monitor {
    let monitor = Monitor::builder().build().unwrap();
    for v in [3.0, 12.0, 250.0] {
        monitor
            .record("api.latency", &[("route", "/login")], v)
            .unwrap();
    }
    monitor.counter("jobs.done", &[]).unwrap().increment(7);
    monitor
}

#[test]
fn get_metrics_serves_the_prometheus_exposition() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let reply = get(server.local_addr(), "/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some(ExpositionFormat::Prometheus.content_type())
    );
    assert_eq!(reply.body, monitor.export_prometheus());
    assert!(reply.body.contains("jobs_done_total 7\n"));
}

#[test]
fn openmetrics_is_served_when_accepted() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let accept = "Accept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5\r\n";
    let reply = request(server.local_addr(), "GET", "/metrics", accept);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some(ExpositionFormat::OpenMetrics.content_type())
    );
    assert_eq!(reply.body, monitor.export_openmetrics());
    assert!(reply.body.ends_with("# EOF\n"));
}

#[test]
fn head_has_headers_and_no_body() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let reply = request(server.local_addr(), "HEAD", "/metrics", "");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some(ExpositionFormat::Prometheus.content_type())
    );
    assert_eq!(reply.body, "");
}

#[test]
fn other_paths_and_methods_are_refused() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").status, 404);
    assert_eq!(get(addr, "/metrics/extra").status, 404);
    assert_eq!(get(addr, "/metrics?name=x").status, 200);
    let post = request(addr, "POST", "/metrics", "Content-Length: 0\r\n");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[test]
fn garbage_requests_do_not_stop_the_server() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    for junk in [
        "\r\n\r\n",
        "NOT HTTP AT ALL\r\n\r\n",
        "GET\r\n\r\n",
        "\u{0}\u{1}\u{2}",
    ] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(junk.as_bytes()).unwrap();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
    assert_eq!(get(addr, "/metrics").status, 200);
}

#[test]
fn stop_closes_the_port_and_is_idempotent() {
    let monitor = monitor_with_values();
    let mut server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/metrics").status, 200);
    server.stop();
    assert!(TcpStream::connect(addr).is_err());
    server.stop();
    assert_eq!(server.local_addr(), addr);
}

#[test]
fn drop_stops_the_server_and_frees_the_port() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/metrics").status, 200);
    drop(server);
    assert!(TcpStream::connect(addr).is_err());
    TcpListener::bind(addr).expect("the port is free again");
}

#[test]
fn the_server_does_not_keep_the_monitor_alive() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    drop(monitor);
    let reply = get(server.local_addr(), "/metrics");
    assert_eq!(reply.status, 503);
}

#[test]
fn config_applies_to_served_documents() {
    let monitor = monitor_with_values();
    let config = perf_core::ExpositionConfig::new()
        .global_label("service", "checkout")
        .unwrap();
    let server = monitor
        .serve_metrics_with("127.0.0.1:0", config.clone())
        .unwrap();
    let reply = get(server.local_addr(), "/metrics");
    assert_eq!(reply.body, monitor.export_prometheus_with(&config));
    assert!(reply.body.contains("service=\"checkout\""));
}

#[test]
fn a_taken_port_is_a_typed_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let monitor = Monitor::builder().build().unwrap();
    match monitor.serve_metrics(addr) {
        Err(perf_core::PerfError::Io { path, reason }) => {
            assert_eq!(path, addr.to_string());
            assert!(!reason.is_empty());
        }
        other => panic!("expected an Io error, got {other:?}"),
    }
}

/// Sends one request with `Accept: accept` and returns the response head
/// and its body as bytes (the protobuf body is not text).
fn get_bytes(addr: SocketAddr, accept: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let text = format!(
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    (head, raw[end + 4..].to_vec())
}

/// What Prometheus 2.42 sends with `--enable-feature=native-histograms`.
const PROMETHEUS_PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[test]
fn protobuf_is_served_when_preferred_and_decodes() {
    use perf_core::client_model::{MetricFamily, MetricType};
    use perf_core::ExportFormat;
    use prost::Message;

    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let (head, body) = get_bytes(server.local_addr(), PROMETHEUS_PROTOBUF_ACCEPT);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = format!("content-type: {}", ExportFormat::Protobuf.content_type());
    assert!(
        head.to_ascii_lowercase()
            .contains(&content_type.to_ascii_lowercase()),
        "{head}"
    );
    assert_eq!(body, monitor.export_protobuf());

    let mut rest = &body[..];
    let mut families = Vec::new();
    while !rest.is_empty() {
        families.push(MetricFamily::decode_length_delimited(&mut rest).unwrap());
    }
    let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["api_latency", "jobs_done_total"]);
    assert_eq!(families[1].r#type(), MetricType::Counter);
    assert_eq!(families[1].metric[0].counter.as_ref().unwrap().value(), 7.0);
    let h = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(families[0].metric[0].label[0].value(), "/login");
    assert_eq!((h.sample_count(), h.sample_sum()), (3, 265.0));
    assert_eq!(h.schema(), 8);
    let native: i64 = h
        .positive_delta
        .iter()
        .scan(0i64, |count, delta| {
            *count += delta;
            Some(*count)
        })
        .sum();
    assert_eq!(native, 3);
    assert_eq!(h.bucket.len(), 13); // classic bounds 1 … 10000, +Inf implied
    assert_eq!(h.bucket[3].cumulative_count(), 1); // le=10
}

#[test]
fn text_scrapers_still_get_text() {
    let monitor = monitor_with_values();
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    // Protobuf listed, but text preferred: text.
    let accept = "Accept: text/plain;version=0.0.4,application/vnd.google.protobuf;q=0.5\r\n";
    let reply = request(server.local_addr(), "GET", "/metrics", accept);
    assert_eq!(
        reply.header("content-type"),
        Some(ExpositionFormat::Prometheus.content_type())
    );
    assert_eq!(reply.body, monitor.export_prometheus());
}
