#![cfg(feature = "remote-write")]
//! Remote write against in-process receivers on loopback
//! (`common/receiver.rs`): what arrives (series, labels, values, native
//! histograms), and receivers that fail — answering 500, never answering,
//! closing the connection, refusing with 400, going away and coming back.
//! Every receiver is stopped and every monitor dropped within the test.

#[path = "common/receiver.rs"]
mod receiver;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use perf_core::prompb::histogram::{Count, ZeroCount};
use perf_core::{ExpositionConfig, Monitor, RemoteWriteConfig, RemoteWriteStatus};
use receiver::{label, Behaviour, Receiver};

const FLUSH: Duration = Duration::from_secs(10);

fn config(url: String) -> RemoteWriteConfig {
    RemoteWriteConfig {
        interval: Duration::from_millis(20),
        timeout: Duration::from_millis(300),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        flush_timeout: Duration::from_millis(500),
        ..RemoteWriteConfig::new(url)
    }
}

fn status(monitor: &Monitor) -> RemoteWriteStatus {
    monitor.remote_write_status().expect("remote write is on")
}

#[test]
fn series_labels_values_and_native_histograms_arrive() {
    let receiver = Receiver::start(Behaviour::Accept);
    let config = RemoteWriteConfig {
        interval: Duration::from_secs(3600), // only the flushes collect
        exposition: ExpositionConfig::new()
            .global_label("instance", "t1")
            .unwrap(),
        ..config(receiver.url())
    }
    .bearer_token("tok");
    let monitor = Monitor::builder().remote_write(config).build().unwrap();
    monitor
        .counter("jobs.done", &[("queue", "mail")])
        .unwrap()
        .increment(7);
    monitor.gauge("depth", &[]).unwrap().set(2.5).unwrap();
    let h = monitor.histogram("lat", &[("route", "/a")]).unwrap();
    for v in [0.0, 3.0, 3.0, 20000.0] {
        h.record(v).unwrap();
    }
    assert!(monitor.flush_remote_write(FLUSH));

    let series = receiver.series();
    let find = |name: &str, extra: Option<(&str, &str)>| {
        series
            .iter()
            .find(|s| {
                label(s, "__name__") == Some(name)
                    && extra.is_none_or(|(k, v)| label(s, k) == Some(v))
            })
            .unwrap_or_else(|| panic!("no series {name} {extra:?}"))
    };
    let jobs = find("jobs_done_total", None);
    assert_eq!(label(jobs, "queue"), Some("mail"));
    assert_eq!(label(jobs, "instance"), Some("t1"));
    assert_eq!(jobs.samples[0].value, 7.0);
    assert_eq!(find("depth", None).samples[0].value, 2.5);
    assert_eq!(find("lat_bucket", Some(("le", "5"))).samples[0].value, 3.0);
    assert_eq!(
        find("lat_bucket", Some(("le", "+Inf"))).samples[0].value,
        4.0
    );
    assert_eq!(find("lat_sum", None).samples[0].value, 20006.0);
    assert_eq!(find("lat_count", None).samples[0].value, 4.0);
    let native = &find("lat", None).histograms[0];
    assert_eq!(native.count, Some(Count::CountInt(4)));
    assert_eq!(native.zero_count, Some(ZeroCount::ZeroCountInt(1)));
    assert_eq!((native.schema, native.sum), (8, 20006.0));
    let counts: i64 = native
        .positive_deltas
        .iter()
        .scan(0, |c, d| {
            *c += d;
            Some(*c)
        })
        .sum();
    assert_eq!(counts, 3);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((now_ms - jobs.samples[0].timestamp).abs() < 60_000);
    for s in &series {
        let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
        assert!(names.is_sorted(), "{names:?}");
    }

    // The self-metrics are series too, on the next collection.
    assert!(monitor.flush_remote_write(FLUSH));
    let sent = receiver
        .series()
        .into_iter()
        .rfind(|s| label(s, "__name__") == Some("perf_core_remote_write_samples_sent_total"))
        .expect("the self-metric");
    assert_eq!(
        sent.samples[0].value,
        status(&monitor).samples_sent as f64 - sent_in_last(&receiver)
    );
    let st = status(&monitor);
    assert_eq!(
        (st.samples_failed, st.samples_dropped, st.pending_samples),
        (0, 0, 0)
    );
}

/// Samples in the last request (counted as sent after it was collected).
fn sent_in_last(receiver: &Receiver) -> f64 {
    let last = receiver.requests().pop().unwrap();
    last.timeseries
        .iter()
        .map(|s| (s.samples.len() + s.histograms.len()) as f64)
        .sum()
}

/// Records on another thread while `check` runs; returns the longest
/// single batch of 1000 records.
fn recording_while(monitor: &Monitor, check: impl FnOnce()) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let h = monitor.histogram("busy", &[]).unwrap();
    let flag = Arc::clone(&stop);
    let recorder = std::thread::spawn(move || {
        let mut worst = Duration::ZERO;
        while !flag.load(Ordering::Relaxed) {
            let started = Instant::now();
            for i in 0..1000 {
                h.record(f64::from(i)).unwrap();
            }
            worst = worst.max(started.elapsed());
        }
        worst
    });
    check();
    stop.store(true, Ordering::Relaxed);
    recorder.join().unwrap()
}

/// A monitor with many series, so that each request is a few KiB, pushing
/// to a receiver that behaves as `behaviour`: the buffer stays within its
/// capacity, the overflow is counted, recording never waits, and the drop
/// is bounded.
fn bounded_against(behaviour: Behaviour) -> RemoteWriteStatus {
    let receiver = Receiver::start(behaviour);
    let capacity = 8 * 1024;
    let config = RemoteWriteConfig {
        buffer_bytes: capacity,
        ..config(receiver.url())
    };
    let monitor = Monitor::builder().remote_write(config).build().unwrap();
    for i in 0..200 {
        monitor
            .counter("c", &[("i", &i.to_string())])
            .unwrap()
            .increment(i);
    }
    let worst = recording_while(&monitor, || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while status(&monitor).samples_dropped == 0 {
            assert!(status(&monitor).pending_bytes <= capacity);
            assert!(
                Instant::now() < deadline,
                "nothing dropped: {:?}",
                status(&monitor)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert!(
        worst < Duration::from_millis(500),
        "recording waited {worst:?}"
    );
    let st = status(&monitor);
    assert!(st.pending_bytes <= capacity && st.retries > 0, "{st:?}");
    assert_eq!(st.samples_sent, 0);
    assert!(st.last_error.is_some());
    let dropping = Instant::now();
    drop(monitor); // a final flush of 500 ms, after a send of at most 300 ms
    assert!(
        dropping.elapsed() < Duration::from_secs(3),
        "{:?}",
        dropping.elapsed()
    );
    st
}

#[test]
fn a_receiver_answering_500_is_retried_within_a_bounded_buffer() {
    bounded_against(Behaviour::Status(500));
}

#[test]
fn a_receiver_that_never_answers_costs_a_timeout_per_attempt() {
    bounded_against(Behaviour::Hang);
}

#[test]
fn a_receiver_that_closes_the_connection_is_retried() {
    bounded_against(Behaviour::Close);
}

#[test]
fn a_refused_write_is_dropped_and_counted_not_retried() {
    let receiver = Receiver::start(Behaviour::Status(400));
    let config = RemoteWriteConfig {
        interval: Duration::from_secs(3600),
        ..config(receiver.url())
    };
    let monitor = Monitor::builder().remote_write(config).build().unwrap();
    monitor.gauge("g", &[]).unwrap().set(1.0).unwrap();
    assert!(monitor.flush_remote_write(FLUSH));
    let st = status(&monitor);
    assert!(st.samples_failed > 0 && st.retries == 0, "{st:?}");
    assert_eq!(st.last_error.as_deref(), Some("HTTP 400"));
}

#[test]
fn nothing_within_the_buffer_is_lost_while_the_receiver_is_away() {
    let first = Receiver::start(Behaviour::Accept);
    let addr = first.addr;
    let monitor = Monitor::builder()
        .remote_write(config(first.url()))
        .build()
        .unwrap();
    let gauge = monitor.gauge("step", &[]).unwrap();
    gauge.set(-1.0).unwrap();
    assert!(monitor.flush_remote_write(FLUSH));
    drop(first);
    // Each value is held for several intervals while nobody listens.
    for step in 0..10 {
        gauge.set(f64::from(step)).unwrap();
        std::thread::sleep(Duration::from_millis(80));
    }
    assert!(status(&monitor).retries > 0);
    let second = Receiver::start_on(addr, Behaviour::Accept);
    assert!(monitor.flush_remote_write(FLUSH));
    let seen: Vec<f64> = second
        .series()
        .iter()
        .filter(|s| label(s, "__name__") == Some("step"))
        .map(|s| s.samples[0].value)
        .collect();
    for step in 0..10 {
        assert!(
            seen.contains(&f64::from(step)),
            "step {step} lost: {seen:?}"
        );
    }
    let timestamps: Vec<i64> = second
        .series()
        .iter()
        .filter(|s| label(s, "__name__") == Some("step"))
        .map(|s| s.samples[0].timestamp)
        .collect();
    assert!(timestamps.is_sorted(), "sent out of order");
    let st = status(&monitor);
    assert_eq!((st.samples_dropped, st.samples_failed), (0, 0), "{st:?}");
}
