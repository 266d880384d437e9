//! A scrape over HTTP: `GET /metrics` of a monitor with 1,000 latency
//! series (10 metrics × 100 routes, 100 values each), from a client on
//! loopback, one connection per scrape (`Connection: close`), the response
//! read to the end. Measures the endpoint (feature `http`) end to end:
//! accept, parse, render, write.
//!
//! Run: `cargo bench -p perf-core-benches --features http --bench http -- --warm-up-time 2 --measurement-time 5`.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use criterion::{criterion_group, criterion_main, Criterion};
use perf_core::Monitor;
use perf_core_benches::lognormal_ms;

const METRICS: usize = 10;
const ROUTES: usize = 100;
const VALUES_PER_SERIES: usize = 100;

/// One scrape; the number of bytes received.
fn scrape(addr: SocketAddr, buffer: &mut Vec<u8>) -> usize {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .unwrap();
    buffer.clear();
    stream.read_to_end(buffer).unwrap();
    assert!(buffer.starts_with(b"HTTP/1.1 200"));
    buffer.len()
}

fn bench_scrape(c: &mut Criterion) {
    let monitor = Monitor::builder().build().unwrap();
    let values = lognormal_ms(VALUES_PER_SERIES, 20.0, 1.0, 7);
    for m in 0..METRICS {
        for r in 0..ROUTES {
            let route = format!("/route/{r}");
            let h = monitor
                .histogram(&format!("http.latency.{m}"), &[("route", &route)])
                .unwrap();
            for &v in &values {
                h.record(v).unwrap();
            }
        }
    }
    let server = monitor.serve_metrics("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let mut buffer = Vec::new();
    let mut group = c.benchmark_group("scrape_http");
    group.bench_function("GET /metrics, 1,000 series", |b| {
        b.iter(|| black_box(scrape(addr, &mut buffer)));
    });
    group.finish();
}

criterion_group!(benches, bench_scrape);
criterion_main!(benches);
