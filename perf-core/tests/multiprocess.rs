//! Multi-process mode: several monitors (in this process, or in child
//! processes spawned from this test binary) share a directory, and every
//! read of the merged view sees all of them exactly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use perf_core::{
    GaugeMode, HistogramSnapshot, ManualClock, Monitor, PerfError, Precision, Timestamp,
};

/// A fresh, empty directory under the system's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perf-core-mp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A monitor of the group in `dir`, on `clock` (no background threads).
fn member(dir: &Path, clock: &ManualClock) -> Monitor {
    Monitor::builder()
        .clock(clock.clone())
        .multiprocess_dir(dir)
        .gauge_mode("workers_max", GaugeMode::Max)
        .gauge_mode("workers_min", GaugeMode::Min)
        .gauge_mode("config_version", GaugeMode::Latest)
        .gauge_mode("rss_bytes", GaugeMode::PerProcess)
        .build()
        .unwrap()
}

fn state_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".state"))
        .collect();
    names.sort();
    names
}

#[test]
fn histograms_merge_exactly_and_counters_add() {
    let dir = fresh_dir("merge");
    let clock = ManualClock::new(Timestamp::ZERO);
    let (a, b) = (member(&dir, &clock), member(&dir, &clock));
    let values_a: Vec<f64> = (1..=1000).map(|i| i as f64 * 0.37).collect();
    let values_b: Vec<f64> = (1..=500).map(|i| 100.0 + i as f64 * 3.1).collect();
    for &v in &values_a {
        a.record("latency", &[("route", "/a")], v).unwrap();
    }
    for &v in &values_b {
        b.record("latency", &[("route", "/a")], v).unwrap();
    }
    a.counter("requests", &[]).unwrap().increment(1000);
    b.counter("requests", &[]).unwrap().increment(500);
    b.publish().unwrap();

    let merged = a.stats("latency", &[("route", "/a")]).unwrap();
    let all: Vec<f64> = values_a.iter().chain(&values_b).copied().collect();
    let expected = HistogramSnapshot::from_values(Precision::DEFAULT, &all).unwrap();
    assert_eq!(merged.count, 1500);
    assert_eq!(merged.snapshot(), &expected_merge(&values_a, &values_b));
    assert_eq!(merged.p99, expected.percentile(99.0).unwrap());
    assert_eq!(merged.min, 0.37);
    assert_eq!(merged.max, 100.0 + 500.0 * 3.1);
    assert!((merged.stddev - expected.stddev()).abs() <= 1e-9 * expected.stddev());

    // The local view and the other process's own view.
    assert_eq!(
        a.local()
            .stats("latency", &[("route", "/a")])
            .unwrap()
            .count,
        1000
    );
    a.publish().unwrap();
    assert_eq!(b.stats("latency", &[("route", "/a")]).unwrap().count, 1500);
    assert_eq!(a.counter_total("requests"), 1500);
    let status = a.multiprocess().unwrap();
    assert_eq!((status.processes, status.live_processes), (2, 2));
    assert_eq!(status.skipped_files, 0);
    drop((a, b));
    common::remove_group_dir(&dir);
}

/// What recording `a` then `b` into one histogram would hold.
fn expected_merge(a: &[f64], b: &[f64]) -> HistogramSnapshot {
    let mut merged = HistogramSnapshot::from_values(Precision::DEFAULT, a).unwrap();
    merged.merge(&HistogramSnapshot::from_values(Precision::DEFAULT, b).unwrap());
    merged
}

/// Reads a counter's merged value through the JSON export (every export
/// reads the merged view).
trait CounterTotal {
    fn counter_total(&self, name: &str) -> u64;
}

impl CounterTotal for Monitor {
    fn counter_total(&self, name: &str) -> u64 {
        let json: serde_json::Value = serde_json::from_str(&self.export_json()).unwrap();
        let series = json["series"].as_array().unwrap();
        let found = series.iter().find(|s| s["name"] == name).unwrap();
        found["value"].as_u64().unwrap()
    }
}

#[test]
fn gauges_combine_by_mode_over_live_processes() {
    let dir = fresh_dir("gauges");
    let clock = ManualClock::new(Timestamp::ZERO);
    let (a, b) = (member(&dir, &clock), member(&dir, &clock));
    for (m, workers, version, rss) in [(&a, 3.0, 1.0, 100.0), (&b, 5.0, 2.0, 200.0)] {
        m.gauge("in_flight", &[]).unwrap().set(workers).unwrap();
        m.gauge("workers_max", &[]).unwrap().set(workers).unwrap();
        m.gauge("workers_min", &[]).unwrap().set(workers).unwrap();
        m.gauge("config_version", &[])
            .unwrap()
            .set(version)
            .unwrap();
        m.gauge("rss_bytes", &[]).unwrap().set(rss).unwrap();
        m.publish().unwrap();
        std::thread::sleep(Duration::from_millis(2)); // `latest` goes by publish time
    }
    let text = a.export_prometheus();
    let value = |series: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(series))
            .unwrap_or_else(|| {
                panic!("no {series} in\n{text}");
            });
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("in_flight "), 8.0);
    assert_eq!(value("workers_max "), 5.0);
    assert_eq!(value("workers_min "), 3.0);
    assert_eq!(value("config_version "), 2.0);
    // Both monitors are in this process: one series, their sum.
    let pid = std::process::id();
    assert_eq!(value(&format!("rss_bytes{{pid=\"{pid}\"}}")), 200.0 + 100.0);

    // A dead process's gauges drop out of the merged view.
    drop(b);
    let text = a.export_prometheus();
    let in_flight = text.lines().find(|l| l.starts_with("in_flight ")).unwrap();
    assert_eq!(in_flight, "in_flight 3");
    drop(a);
    common::remove_group_dir(&dir);
}

#[test]
fn dead_processes_keep_their_counts_and_compact_into_one_archive() {
    let dir = fresh_dir("compact");
    let clock = ManualClock::new(Timestamp::ZERO);
    let survivor = member(&dir, &clock);
    survivor.counter("jobs", &[]).unwrap().increment(1);
    let mut previous = 1;
    for generation in 0..20u64 {
        let worker = member(&dir, &clock);
        worker.counter("jobs", &[]).unwrap().increment(10);
        worker.record("job_ms", &[], generation as f64).unwrap();
        drop(worker); // publishes its final state and releases its lock
        let total = survivor.counter_total("jobs");
        assert!(
            total >= previous,
            "jobs went back from {previous} to {total}"
        );
        previous = total;
        if generation % 3 == 0 {
            let multiprocess = survivor.multiprocess().unwrap();
            assert!(multiprocess.live_processes >= 1);
            compact(&survivor);
        }
    }
    compact(&survivor);
    assert_eq!(survivor.counter_total("jobs"), 201);
    assert_eq!(survivor.stats("job_ms", &[]).unwrap().count, 20);
    assert_eq!(survivor.multiprocess().unwrap().archived, 20);
    // One file per live process, plus the archive.
    survivor.publish().unwrap();
    assert_eq!(state_files(&dir).len(), 2, "{:?}", state_files(&dir));
    drop(survivor);
    common::remove_group_dir(&dir);
}

/// A compactor killed after it wrote the archive but before it removed the
/// dead process's files (`kill -9`, or a child's `_exit` while its publisher
/// thread compacts) leaves files the archive already holds: the next
/// compaction removes them without adding them a second time.
#[test]
fn a_compaction_cut_short_is_not_counted_twice_by_the_next() {
    let dir = fresh_dir("cut-short");
    let clock = ManualClock::new(Timestamp::ZERO);
    let survivor = member(&dir, &clock);
    let worker = member(&dir, &clock);
    worker.counter("jobs", &[]).unwrap().increment(10);
    worker.record("job_ms", &[], 4.0).unwrap();
    drop(worker); // publishes its final state and releases its lock
                  // The worker's state and lock files, as a compactor finds them.
    let survivor_id = format!("{:016x}", survivor.multiprocess().unwrap().instance);
    let dead: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with('p') && !name.contains(&survivor_id)
        })
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    compact(&survivor);
    // The files come back as the cut-short compactor left them.
    for (path, bytes) in &dead {
        std::fs::write(path, bytes).unwrap();
    }
    assert_eq!(survivor.counter_total("jobs"), 10);
    compact(&survivor);
    assert_eq!(survivor.counter_total("jobs"), 10);
    assert_eq!(survivor.stats("job_ms", &[]).unwrap().count, 1);
    for (path, _) in &dead {
        assert!(!path.exists(), "{} was left", path.display());
    }
    drop(survivor);
    common::remove_group_dir(&dir);
}

/// Runs a compaction the way the publisher thread does.
fn compact(monitor: &Monitor) {
    monitor.compact_multiprocess().unwrap();
}

#[test]
fn bad_files_are_skipped_and_counted_never_merged() {
    let dir = fresh_dir("bad");
    let clock = ManualClock::new(Timestamp::ZERO);
    let a = member(&dir, &clock);
    let b = member(&dir, &clock);
    b.counter("requests", &[]).unwrap().increment(7);
    b.publish().unwrap();
    let b_file = state_files(&dir)
        .into_iter()
        .find(|n| n.starts_with('p'))
        .unwrap();
    let b_path = dir.join(&b_file);
    let good = std::fs::read(&b_path).unwrap();
    a.counter("requests", &[]).unwrap().increment(1);
    assert_eq!(a.counter_total("requests"), 8);

    let foreign = b"# HELP not a perf-core file\n".to_vec();
    let mut newer = good.clone();
    newer[8] = 9; // format version 9
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for (i, bad) in [
        good[..good.len() / 2].to_vec(),
        foreign,
        newer,
        flipped,
        Vec::new(),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(&b_path, &bad).unwrap();
        // The bad file's process counts as absent; nothing else changes.
        assert_eq!(a.counter_total("requests"), 1, "bad file {i}");
        assert_eq!(a.multiprocess().unwrap().skipped_files, i as u64 + 1);
        assert!(a
            .multiprocess()
            .unwrap()
            .last_error
            .unwrap()
            .contains(&b_file));
    }
    std::fs::write(&b_path, &good).unwrap();
    assert_eq!(a.counter_total("requests"), 8);
    drop((a, b));
    common::remove_group_dir(&dir);
}

#[test]
fn an_unusable_directory_is_a_clear_error() {
    let file = std::env::temp_dir().join(format!("perf-core-mp-file-{}", std::process::id()));
    std::fs::write(&file, b"a file, not a directory").unwrap();
    let err = Monitor::builder()
        .multiprocess_dir(file.join("group"))
        .build()
        .unwrap_err();
    assert!(matches!(err, PerfError::Io { .. }), "{err}");
    std::fs::remove_file(&file).unwrap();
    let err = Monitor::builder()
        .multiprocess_dir(std::env::temp_dir())
        .publish_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(err, PerfError::InvalidConfig(_)), "{err}");
}

#[test]
fn windows_and_rules_read_the_merged_view() {
    let dir = fresh_dir("windows");
    let clock = ManualClock::new(Timestamp::ZERO);
    let (a, b) = (member(&dir, &clock), member(&dir, &clock));
    a.load_rules(
        r#"{"version": 1, "rules": [{"name": "slow", "metric": "latency", "stat": "p95",
            "window": "10s", "levels": [{"severity": "warning", "threshold": 100}]}]}"#,
    )
    .unwrap();
    for second in 0..20 {
        clock.advance(Duration::from_secs(1));
        for _ in 0..10 {
            a.record("latency", &[], 10.0).unwrap();
            // Only the other process is slow, and it alone makes p95 > 100.
            b.record("latency", &[], if second >= 10 { 500.0 } else { 10.0 })
                .unwrap();
        }
        b.publish().unwrap();
    }
    clock.advance(Duration::from_secs(1));
    let window = a
        .window_stats("latency", &[], Duration::from_secs(10))
        .unwrap();
    let local = a
        .local()
        .window_stats("latency", &[], Duration::from_secs(10))
        .unwrap();
    assert_eq!(local.count, 90); // the 10 s window: the 9 complete seconds and now
    assert_eq!(window.count, 2 * local.count);
    assert!(local.p95 < 11.0 && window.p95 > 400.0);
    let events = a.evaluate();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(&*events[0].rule, "slow");
    drop((a, b));
    common::remove_group_dir(&dir);
}

/// Child processes: each records `PERF_CORE_TEST_VALUES` values and exits
/// (publishing at drop). Run by the tests below through this binary.
#[test]
fn child_worker() {
    let Ok(dir) = std::env::var("PERF_CORE_TEST_CHILD_DIR") else {
        return; // not a child: nothing to do
    };
    let n: u64 = std::env::var("PERF_CORE_TEST_VALUES")
        .unwrap()
        .parse()
        .unwrap();
    let forever = std::env::var("PERF_CORE_TEST_FOREVER").is_ok();
    let monitor = Monitor::builder()
        .multiprocess_dir(dir)
        .publish_interval(Duration::from_millis(5))
        .build()
        .unwrap();
    let requests = monitor.counter("requests", &[]).unwrap();
    let latency = monitor.histogram("latency", &[]).unwrap();
    for i in 0..n {
        latency.record((i % 100) as f64).unwrap();
        requests.increment(1);
    }
    if forever {
        // Keep counting (and publishing every 5 ms) until killed.
        loop {
            requests.increment(1);
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

fn spawn_child(dir: &Path, values: u64, forever: bool) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_worker", "--nocapture", "--test-threads=1"])
        .env("PERF_CORE_TEST_CHILD_DIR", dir)
        .env("PERF_CORE_TEST_VALUES", values.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if forever {
        command.env("PERF_CORE_TEST_FOREVER", "1");
    }
    command.spawn().unwrap()
}

#[test]
fn processes_spawned_from_a_test_add_up_exactly() {
    let dir = fresh_dir("spawn");
    let reader = Monitor::builder().multiprocess_dir(&dir).build().unwrap();
    let children: Vec<_> = (1..=4)
        .map(|i| spawn_child(&dir, 1000 * i, false))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(reader.counter_total("requests"), 10_000);
    assert_eq!(reader.stats("latency", &[]).unwrap().count, 10_000);
    assert_eq!(reader.local().series().len(), 0);
    drop(reader);
    common::remove_group_dir(&dir);
}

#[test]
fn kill_9_during_publishing_loses_nothing_already_published() {
    let dir = fresh_dir("kill");
    let reader = Monitor::builder().multiprocess_dir(&dir).build().unwrap();
    let mut previous = 0;
    for round in 0..5 {
        let mut child = spawn_child(&dir, 100, true);
        let deadline = Instant::now() + Duration::from_secs(20);
        // Wait until the child has published at least once, then kill it
        // while it keeps publishing every 5 ms.
        while reader.series().iter().all(|s| s.key.name() != "requests")
            || reader.counter_total("requests") <= previous
        {
            assert!(
                Instant::now() < deadline,
                "round {round}: the child never published"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(3 * round as u64));
        child.kill().unwrap();
        child.wait().unwrap();
        let total = reader.counter_total("requests");
        assert!(
            total >= previous + 100,
            "round {round}: {total} after {previous}"
        );
        previous = total;
        reader.compact_multiprocess().unwrap();
        assert_eq!(
            reader.counter_total("requests"),
            total,
            "compaction changed the total"
        );
    }
    assert_eq!(reader.multiprocess().unwrap().skipped_files, 0);
    // No temporary file of a dead writer is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(reader);
    common::remove_group_dir(&dir);
}

#[test]
fn one_leader_evaluates_and_delivers_for_the_group() {
    let dir = fresh_dir("leader");
    let clock = ManualClock::new(Timestamp::ZERO);
    let rules = r#"{"version": 1, "rules": [{"name": "busy", "metric": "requests",
        "stat": "rate", "window": "10s", "threshold": 1}]}"#;
    let workers: Vec<Monitor> = (0..3).map(|_| member(&dir, &clock)).collect();
    let delivered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for worker in &workers {
        worker.load_rules(rules).unwrap();
        let delivered = delivered.clone();
        worker.subscribe(move |_| {
            delivered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
    for _ in 0..5 {
        clock.advance(Duration::from_secs(1));
        for worker in &workers {
            worker.counter("requests", &[]).unwrap().increment(10);
            worker.publish().unwrap();
        }
    }
    let events: Vec<usize> = workers.iter().map(|w| w.evaluate().len()).collect();
    assert_eq!(events, [1, 0, 0], "only the first to evaluate leads");
    assert!(workers[0].flush_notifications(Duration::from_secs(10)));
    assert_eq!(delivered.load(std::sync::atomic::Ordering::Relaxed), 1);
    let leaders: Vec<bool> = workers
        .iter()
        .map(|w| w.multiprocess().unwrap().leader)
        .collect();
    assert_eq!(leaders, [true, false, false]);

    // The leader exits: the next process to evaluate takes over.
    let mut workers = workers.into_iter();
    drop(workers.next());
    let (second, third) = (workers.next().unwrap(), workers.next().unwrap());
    let fired = third.alerts();
    assert_eq!(fired.len(), 1, "followers read the leader's alerts");
    assert_eq!(third.alert_history().len(), 1);
    clock.advance(Duration::from_secs(1));
    // The new leader carries the alert on: not fired a second time.
    assert!(second.evaluate().is_empty());
    assert!(second.multiprocess().unwrap().leader);
    assert_eq!(second.alerts()[0].id, fired[0].id);
    assert_eq!(second.alert_history(), third.alert_history());
    assert_eq!(delivered.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert!(third.evaluate().is_empty());
    assert!(!third.multiprocess().unwrap().leader);
    drop((second, third));
    common::remove_group_dir(&dir);
}

#[test]
fn alerts_read_and_acknowledge_the_same_from_any_process() {
    let dir = fresh_dir("acknowledge");
    let clock = ManualClock::new(Timestamp::ZERO);
    let rules = r#"{"version": 1, "rules": [{"name": "slow", "metric": "latency",
        "stat": "max", "threshold": 100}]}"#;
    let (leader, follower) = (member(&dir, &clock), member(&dir, &clock));
    for monitor in [&leader, &follower] {
        monitor.load_rules(rules).unwrap();
    }
    follower.record("latency", &[], 250.0).unwrap();
    follower.publish().unwrap();
    assert_eq!(leader.evaluate().len(), 1);
    let alerts = follower.alerts();
    assert_eq!(alerts, leader.alerts());
    assert!(!alerts[0].acknowledged);
    assert!(matches!(
        follower.acknowledge(perf_core::AlertId(alerts[0].id.0 + 1)),
        Err(PerfError::UnknownAlert { .. })
    ));
    follower.acknowledge(alerts[0].id).unwrap();
    leader.evaluate();
    assert!(leader.alerts()[0].acknowledged);
    assert!(follower.alerts()[0].acknowledged);
    drop((leader, follower));
    common::remove_group_dir(&dir);
}

#[test]
fn emergency_mode_is_one_for_the_group() {
    let dir = fresh_dir("emergency");
    let clock = ManualClock::new(Timestamp::ZERO);
    let workers: Vec<Monitor> = (0..3).map(|_| member(&dir, &clock)).collect();
    let flags: Vec<perf_core::Emergency> = workers.iter().map(|w| w.emergency().clone()).collect();
    assert!(flags.iter().all(|e| !e.is_active()));
    assert!(flags[2].activate("database failover").unwrap());
    assert!(flags.iter().all(|e| e.is_active()), "one word for all");
    assert!(!flags[0].activate("again").unwrap(), "already held by hand");
    clock.advance(Duration::from_secs(5));
    assert!(flags[1].deactivate("failover done").unwrap());
    assert!(flags.iter().all(|e| !e.is_active()));
    for flag in &flags {
        let history = flag.history();
        let reasons: Vec<&str> = history.iter().map(|t| t.reason.as_str()).collect();
        assert_eq!(reasons, ["database failover", "failover done"]);
        assert!(!flag.status().active);
    }
    // A new member joins the mode as it is.
    flags[0].activate("load test").unwrap();
    let late = member(&dir, &clock);
    assert!(late.emergency().is_active());
    assert!(late.emergency().status().manual);
    drop((workers, late));
    common::remove_group_dir(&dir);
}

#[test]
fn a_new_leader_carries_automatic_emergency_mode_on() {
    let dir = fresh_dir("emergency-takeover");
    let clock = ManualClock::new(Timestamp::ZERO);
    let config = perf_core::EmergencyConfig::default()
        .trigger(perf_core::Trigger::condition(
            perf_core::TriggerCondition::new(
                perf_core::Target::gauge("queue_depth"),
                perf_core::Op::Gt,
                100.0,
            ),
        ))
        .min_dwell(Duration::from_secs(60))
        .clear_for(Duration::from_secs(10));
    let (first, second) = (member(&dir, &clock), member(&dir, &clock));
    for monitor in [&first, &second] {
        monitor.configure_emergency(config.clone()).unwrap();
    }
    second
        .gauge("queue_depth", &[])
        .unwrap()
        .set(500.0)
        .unwrap();
    second.publish().unwrap();
    first.evaluate();
    assert!(second.emergency().is_active(), "the leader's activation");
    let dwell_until = second.emergency().status().dwell_until.unwrap();
    assert_eq!(dwell_until, Timestamp::ZERO + Duration::from_secs(60));
    drop(first);
    // Clear from now on; the new leader must still hold the dwell.
    second.gauge("queue_depth", &[]).unwrap().set(0.0).unwrap();
    clock.advance(Duration::from_secs(30));
    second.evaluate();
    assert!(second.multiprocess().unwrap().leader);
    clock.advance(Duration::from_secs(20));
    second.evaluate();
    assert!(second.emergency().is_active(), "dwell not over at 50 s");
    clock.advance(Duration::from_secs(20));
    second.evaluate();
    assert!(
        !second.emergency().is_active(),
        "dwell over and clear for 40 s"
    );
    assert_eq!(second.emergency().history().len(), 2);
    drop(second);
    common::remove_group_dir(&dir);
}

/// One step of the property below.
#[derive(Clone, Debug)]
enum Step {
    Record { member: usize, value: f64 },
    Publish { member: usize },
    Read { member: usize },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..3usize, 0.5f64..5000.0).prop_map(|(member, value)| Step::Record { member, value }),
        2 => (0..3usize).prop_map(|member| Step::Publish { member }),
        2 => (0..3usize).prop_map(|member| Step::Read { member }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// The merged view is updated incrementally (an unchanged histogram is
    /// not merged again): whatever the order of records, publishes and
    /// reads, every read equals the merge of the reader's live values and
    /// the others' last published ones, bucket for bucket.
    #[test]
    fn every_read_is_the_exact_merge(steps in proptest::collection::vec(step(), 1..60)) {
        let dir = fresh_dir(&format!("prop-{:x}", rand::random::<u32>()));
        let clock = ManualClock::new(Timestamp::ZERO);
        let members: Vec<Monitor> = (0..3).map(|_| member(&dir, &clock)).collect();
        let mut live: Vec<Vec<f64>> = vec![Vec::new(); 3];
        let mut published: Vec<Vec<f64>> = vec![Vec::new(); 3];
        for step in steps {
            match step {
                Step::Record { member, value } => {
                    members[member].record("latency", &[], value).unwrap();
                    live[member].push(value);
                }
                Step::Publish { member } => {
                    members[member].publish().unwrap();
                    published[member] = live[member].clone();
                }
                Step::Read { member } => {
                    let mut expected: Vec<f64> = live[member].clone();
                    for other in (0..3).filter(|&o| o != member) {
                        expected.extend(&published[other]);
                    }
                    let read = members[member].stats("latency", &[]);
                    if expected.is_empty() {
                        proptest::prop_assert!(read.is_err() || read.unwrap().count == 0);
                        continue;
                    }
                    let stats = read.unwrap();
                    let want = HistogramSnapshot::from_values(Precision::DEFAULT, &expected).unwrap();
                    proptest::prop_assert_eq!(stats.count, want.count());
                    proptest::prop_assert_eq!(stats.snapshot().percentile(50.0), want.percentile(50.0));
                    proptest::prop_assert_eq!(stats.snapshot().percentile(99.0), want.percentile(99.0));
                    proptest::prop_assert_eq!((stats.min, stats.max), (want.min(), want.max()));
                }
            }
        }
        drop(members);
        common::remove_group_dir(&dir);
    }
}

#[test]
fn a_process_joining_late_does_not_count_history_as_recent() {
    let dir = fresh_dir("late");
    let clock = ManualClock::new(Timestamp::ZERO);
    let early = member(&dir, &clock);
    for _ in 0..1000 {
        early.record("latency", &[], 5.0).unwrap();
    }
    early.counter("requests", &[]).unwrap().increment(1000);
    early.publish().unwrap();
    clock.advance(Duration::from_secs(60));

    // A worker restarted long after: the group's history is in its
    // cumulative view, not in its last 10 seconds.
    let late = member(&dir, &clock);
    assert_eq!(late.stats("latency", &[]).unwrap().count, 1000);
    clock.advance(Duration::from_secs(1));
    let window = Duration::from_secs(10);
    let recent = late.window_stats("latency", &[], window);
    assert!(recent.as_ref().map_or(true, |s| s.count == 0), "{recent:?}");
    assert_eq!(late.counter_rate("requests", &[], window).unwrap(), 0.0);

    for _ in 0..10 {
        early.record("latency", &[], 5.0).unwrap();
    }
    early.counter("requests", &[]).unwrap().increment(10);
    early.publish().unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(late.window_stats("latency", &[], window).unwrap().count, 10);
    assert!(late.counter_rate("requests", &[], window).unwrap() > 0.0);
    drop((early, late));
    common::remove_group_dir(&dir);
}

#[test]
fn a_read_that_cannot_list_the_directory_keeps_the_last_state() {
    let dir = fresh_dir("unlistable");
    let clock = ManualClock::new(Timestamp::ZERO);
    let (a, b) = (member(&dir, &clock), member(&dir, &clock));
    a.counter("requests", &[]).unwrap().increment(10);
    b.counter("requests", &[]).unwrap().increment(5);
    b.publish().unwrap();
    assert_eq!(a.counter_total("requests"), 15);

    // The directory disappears (moved away): reads go on with the other
    // processes' last read state, never falling back to this one's alone.
    let moved = dir.with_extension("moved");
    std::fs::rename(&dir, &moved).unwrap();
    a.counter("requests", &[]).unwrap().increment(1);
    assert_eq!(a.counter_total("requests"), 16);
    let status = a.multiprocess().unwrap();
    let error = status.last_error.unwrap();
    assert!(error.contains("last read state"), "{error}");
    std::fs::rename(&moved, &dir).unwrap();
    drop((a, b));
    common::remove_group_dir(&dir);
}
