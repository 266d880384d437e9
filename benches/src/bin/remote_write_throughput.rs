//! Remote write's cost: how many series a second perf-core collects,
//! encodes, compresses and sends to a loopback receiver that accepts
//! everything, and how much CPU the writer thread (`perf-core-remote-write`)
//! spends per collection, for 1,000, 10,000 and 50,000 histogram series.
//!
//! ```text
//! cargo run --release -p perf-core-benches --features remote-write --bin remote-write-throughput
//! cargo run --release -p perf-core-benches --features remote-write --bin remote-write-throughput -- --smoke
//! cargo run --release -p perf-core-benches --features remote-write --bin remote-write-throughput -- 10000 --rounds 20
//! ```
//!
//! * The monitor holds `N` histogram series (`N / 100` metrics × 100 routes),
//!   each fed 100 lognormal latencies (median 20 ms, σ = 1), default
//!   exposition: per series 14 `_bucket` samples, `_sum`, `_count` and one
//!   native histogram.
//! * Its writer has an interval of an hour, so it collects only when asked:
//!   each round records one more value into every series (so nothing is
//!   unchanged since the last collection) and then times
//!   `Monitor::flush_remote_write` — collect every series, encode the
//!   `WriteRequest`, snappy, POST, wait for the 204 — in wall-clock time,
//!   and the writer thread's CPU time over the same flush (from
//!   `/proc/self/task/<tid>/schedstat`, nanoseconds on the CPU).
//! * The receiver (threads of this process) reads each request, counts its
//!   bytes and answers 204 without decoding it; the last request is decoded
//!   once at the end to check and count its series.
//! * For scale, the same registry's `export_prometheus()` (what a scrape
//!   renders) is timed too.
//!
//! Medians (and ranges) over the rounds; the machine's other load shows in
//! wall-clock times more than in the thread's CPU time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perf_core::prompb::WriteRequest;
use perf_core::{Monitor, RemoteWriteConfig};
use perf_core_benches::lognormal_ms;
use prost::Message;

/// Series per metric, over their `route` tag (the default cap is 1,000 per
/// metric; past it, series are folded into an overflow series).
const ROUTES: usize = 100;
const VALUES_PER_SERIES: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let rounds_arg = args
        .iter()
        .position(|a| a == "--rounds")
        .map(|i| args[i + 1].parse::<usize>().expect("--rounds N"));
    let mut counts: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--rounds"))
        .map(|(_, a)| a.parse().expect("a series count"))
        .collect();
    if counts.is_empty() {
        counts = if smoke {
            vec![1_000]
        } else {
            vec![1_000, 10_000, 50_000]
        };
    }
    println!(
        "machine: {} CPUs, load {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    );
    println!(
        "| series | timeseries per request | samples per request | bytes per request (snappy) | \
         flush, wall (ms, median [range]) | series/s | writer CPU per collection (ms, median [range]) | \
         export_prometheus() (ms, median) | rounds |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in counts {
        let rounds = rounds_arg.unwrap_or(match (smoke, n) {
            (true, _) => 3,
            (_, n) if n >= 50_000 => 7,
            _ => 11,
        });
        measure(n, rounds);
    }
}

fn measure(n: usize, rounds: usize) {
    let receiver = Receiver::start();
    let config = RemoteWriteConfig {
        interval: Duration::from_secs(3600),
        timeout: Duration::from_secs(60),
        buffer_bytes: 1 << 30,
        flush_timeout: Duration::from_secs(60),
        ..RemoteWriteConfig::new(format!("http://{}/api/v1/write", receiver.addr))
    };
    let monitor = Monitor::builder().remote_write(config).build().unwrap();
    let values = lognormal_ms(VALUES_PER_SERIES * 16, 20.0, 1.0, 7);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let route = format!("/route/{}", i % ROUTES);
            let h = monitor
                .histogram(&format!("svc.latency.{}", i / ROUTES), &[("route", &route)])
                .unwrap();
            for k in 0..VALUES_PER_SERIES {
                h.record(values[(i + k * 7) % values.len()]).unwrap();
            }
            h
        })
        .collect();
    let writer = writer_thread().expect("the perf-core-remote-write thread");

    let (mut wall, mut cpu, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    let mut samples = 0;
    // One warm-up flush (first allocations, the connection), then the rounds.
    for round in 0..=rounds {
        for (i, h) in handles.iter().enumerate() {
            h.record(values[(i + round) % values.len()]).unwrap();
        }
        let sent_before = monitor.remote_write_status().unwrap().samples_sent;
        let bytes_before = receiver.bytes.load(Ordering::SeqCst);
        let cpu_before = thread_cpu_ns(writer);
        let started = Instant::now();
        assert!(
            monitor.flush_remote_write(Duration::from_secs(120)),
            "flush timed out"
        );
        let elapsed = started.elapsed();
        let cpu_ns = thread_cpu_ns(writer) - cpu_before;
        let status = monitor.remote_write_status().unwrap();
        assert_eq!(
            status.samples_dropped + status.samples_failed,
            0,
            "{status:?}"
        );
        if round > 0 {
            wall.push(elapsed.as_secs_f64() * 1e3);
            cpu.push(cpu_ns as f64 / 1e6);
            bytes.push((receiver.bytes.load(Ordering::SeqCst) - bytes_before) as f64);
            samples = status.samples_sent - sent_before;
        }
    }
    let last = receiver.last.lock().unwrap().clone();
    let raw = snap::raw::Decoder::new().decompress_vec(&last).unwrap();
    let request = WriteRequest::decode(&raw[..]).unwrap();
    let timeseries = request.timeseries.len();
    // 17 per histogram series, and perf-core's own remote-write counters.
    assert!(
        (17 * n..17 * n + 17).contains(&timeseries),
        "{timeseries} time series for {n} histogram series"
    );

    let mut export = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let text = monitor.export_prometheus();
        export.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(text);
    }
    let wall_median = median(&mut wall);
    println!(
        "| {n} | {timeseries} | {samples} | {:.0} | {wall_median:.1} [{:.1}–{:.1}] | {:.0} | \
         {:.1} [{:.1}–{:.1}] | {:.1} | {rounds} |",
        median(&mut bytes),
        min(&wall),
        max(&wall),
        n as f64 / (wall_median / 1e3),
        median(&mut cpu),
        min(&cpu),
        max(&cpu),
        median(&mut export),
    );
    drop(handles);
    drop(monitor);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The id of this process's newest thread named `perf-core-remote-write`
/// (the current monitor's writer); the kernel keeps the first 15 bytes of
/// a thread's name.
fn writer_thread() -> Option<u64> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            let tid: u64 = task.file_name().to_str()?.parse().ok()?;
            let comm = comm.trim_end();
            (comm.len() == 15 && "perf-core-remote-write".starts_with(comm)).then_some(tid)
        })
        .max()
}

/// Nanoseconds thread `tid` of this process has run on a CPU.
fn thread_cpu_ns(tid: u64) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).unwrap();
    stat.split(' ').next().unwrap().parse().unwrap()
}

/// A remote-write receiver on loopback that answers 204 to every request
/// after reading it, counting its bytes and keeping the last body.
struct Receiver {
    addr: SocketAddr,
    bytes: Arc<AtomicU64>,
    last: Arc<Mutex<Vec<u8>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bytes = Arc::new(AtomicU64::new(0));
        let last = Arc::new(Mutex::new(Vec::new()));
        let (b, l) = (Arc::clone(&bytes), Arc::clone(&last));
        // Serves until the process exits (one short-lived receiver per
        // series count).
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (b, l) = (Arc::clone(&b), Arc::clone(&l));
                std::thread::spawn(move || serve(stream, &b, &l));
            }
        });
        Receiver { addr, bytes, last }
    }
}

/// Requests on one keep-alive connection until it closes.
fn serve(mut stream: TcpStream, bytes: &AtomicU64, last: &Mutex<Vec<u8>>) {
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let head_end = loop {
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(k) => data.extend_from_slice(&chunk[..k]),
            }
        };
        let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("a content-length");
        while data.len() < head_end + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(k) => data.extend_from_slice(&chunk[..k]),
            }
        }
        let rest = data.split_off(head_end + length);
        bytes.fetch_add(length as u64, Ordering::SeqCst);
        *last.lock().unwrap() = data[head_end..].to_vec();
        data = rest;
        if stream
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}
