//! Prometheus text exposition 0.0.4 and OpenMetrics 1.0: golden outputs of
//! a small deterministic monitor in both formats (default and configured),
//! and validation of both formats with `promtool`, including awkward names,
//! label values and help texts, colliding names and an overflow series.
//!
//! Regenerate the golden files after an intended format change with
//! `PERF_CORE_UPDATE_GOLDEN=1 cargo test -p perf-core --test exposition`.
//!
//! `promtool` (Debian package `prometheus`) checks the Prometheus format
//! with `promtool check metrics` (which parses only that format), and
//! OpenMetrics with the strict OpenMetrics parser of `promtool tsdb
//! create-blocks-from openmetrics` (which needs a timestamp on every
//! sample: the test appends one). Without
//! `promtool` on `PATH` those tests print a note and pass, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use perf_core::{
    ExpositionConfig, ExpositionFormat, ManualClock, Monitor, Timestamp, DEFAULT_SUMMARY_QUANTILES,
};

/// 2023-11-14T22:13:20Z.
const NOW: u64 = 1_700_000_000_000_000_000;

/// Histograms (one empty), a counter, a gauge and an overflow series.
fn small_monitor() -> Monitor {
    let clock = ManualClock::new(Timestamp::from_nanos(NOW));
    let monitor = Monitor::builder()
        .clock(clock)
        .max_series_per_metric(2)
        .build()
        .unwrap();
    let users = [("route", "/users"), ("method", "GET")];
    for ms in [0.4, 12.0, 15.5, 9.8, 230.0, 0.0, 12000.0] {
        monitor.record("http.server.duration", &users, ms).unwrap();
    }
    let search = [("route", "/search"), ("method", "POST")];
    for ms in [48.0, 300.0, 2.5] {
        monitor.record("http.server.duration", &search, ms).unwrap();
    }
    // A third route: folded into the overflow series.
    let admin = [("route", "/admin"), ("method", "GET")];
    monitor.record("http.server.duration", &admin, 7.0).unwrap();
    monitor
        .record("db.query", &[("table", "users")], 4.5)
        .unwrap();
    monitor.histogram("cache.lookup", &[]).unwrap();
    monitor
        .counter("jobs.done", &[("queue", "mail")])
        .unwrap()
        .increment(42);
    monitor
        .gauge("queue.depth", &[])
        .unwrap()
        .set(-2.5)
        .unwrap();
    monitor
}

/// Units, help, a summary, custom buckets and a global label.
fn small_config() -> ExpositionConfig {
    ExpositionConfig::new()
        .global_label("service", "checkout")
        .unwrap()
        .help(
            "http.server.duration",
            "Server-side latency of HTTP requests.",
        )
        .unit("http.server.duration", "milliseconds")
        .unwrap()
        .buckets("http.server.duration", &[1.0, 10.0, 100.0, 1000.0])
        .unwrap()
        .summary("db.query", &DEFAULT_SUMMARY_QUANTILES)
        .unwrap()
        .help("jobs.done", "Jobs finished, by queue.")
}

/// Names that sanitize (and collide), and label values and help texts that
/// need escaping.
fn awkward_monitor() -> Monitor {
    let monitor = Monitor::builder().build().unwrap();
    let tags = [
        ("path", "C:\\temp\\\"quoted\" file"),
        ("city", "zürich ✓ 東京"),
        ("q", "a,b=c;d{e}"),
    ];
    monitor.record("api.v2:latency", &tags, 3.0).unwrap();
    monitor.record("api_v2:latency", &tags, 4.0).unwrap(); // collides
    monitor.counter("x.total", &tags).unwrap().increment(1);
    monitor.counter("x_total", &[]).unwrap().increment(1); // collides
    monitor.gauge("q.sum", &[]).unwrap().set(1.0).unwrap();
    monitor.record("q", &[], 1e-300).unwrap(); // claims q_sum: sorts first
    monitor.gauge("Z9.big", &[]).unwrap().set(1e300).unwrap();
    monitor
}

fn awkward_config() -> ExpositionConfig {
    ExpositionConfig::new()
        .global_label("host", "web-1 \"blue\"")
        .unwrap()
        .global_label("q", "overridden by the series' tag")
        .unwrap()
        .help(
            "api.v2:latency",
            "Help with \\ backslash,\nnewline and \"quotes\".",
        )
        .unit("Z9.big", "bytes")
        .unwrap()
}

/// Compares `actual` with the golden file `name`, or rewrites it when
/// `PERF_CORE_UPDATE_GOLDEN` is set.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("PERF_CORE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(actual, expected, "{} differs", path.display());
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn prometheus_matches_its_golden_file() {
    let monitor = small_monitor();
    assert_golden("exposition-default.prom", &monitor.export_prometheus());
    let configured = monitor.export_prometheus_with(&small_config());
    assert_golden("exposition-configured.prom", &configured);
}

#[test]
fn openmetrics_matches_its_golden_file() {
    let monitor = small_monitor();
    assert_golden("exposition-default.om.txt", &monitor.export_openmetrics());
    let configured = monitor.export_openmetrics_with(&small_config());
    assert_golden("exposition-configured.om.txt", &configured);
}

#[test]
fn overflow_and_internal_series_are_exported() {
    let text = small_monitor().export_prometheus();
    assert!(text.contains(r#"http_server_duration_count{perf_overflow="true"} 1"#));
    assert!(text.contains(r#"perf_core_series_folded_total{metric="http.server.duration"} 1"#));
}

#[test]
fn exports_are_deterministic() {
    let (a, b) = (small_monitor(), small_monitor());
    assert_eq!(a.export_openmetrics(), b.export_openmetrics());
    assert_eq!(a.export_prometheus(), a.export_prometheus());
}

#[test]
fn awkward_names_collide_predictably() {
    let monitor = awkward_monitor();
    let out = monitor.exposition(ExpositionFormat::OpenMetrics, &awkward_config());
    let skipped: Vec<(&str, &str, &str)> = out
        .skipped
        .iter()
        .map(|s| (&*s.metric, &*s.exported_name, &*s.conflicts_with))
        .collect();
    assert_eq!(
        skipped,
        [
            ("api_v2:latency", "api_v2:latency", "api.v2:latency"),
            ("q.sum", "q_sum", "q"),
            ("x_total", "x", "x.total"),
        ]
    );
    let gauge = r#"# UNIT Z9_big_bytes bytes
Z9_big_bytes{host="web-1 \"blue\"",q="overridden by the series' tag"} 1e300
"#;
    assert!(out.text.contains(gauge), "{}", out.text);
    assert!(out.text.contains(r#"q="a,b=c;d{e}",le="+Inf"} 1"#));
}

#[test]
fn an_empty_monitor_gives_valid_empty_documents() {
    let monitor = Monitor::builder().build().unwrap();
    assert_eq!(monitor.export_prometheus(), "");
    assert_eq!(monitor.export_openmetrics(), "# EOF\n");
    check_with_promtool(&monitor.export_prometheus(), true);
    check_openmetrics_with_promtool(&monitor.export_openmetrics());
}

#[test]
fn promtool_accepts_the_prometheus_format() {
    let monitor = small_monitor();
    check_with_promtool(&monitor.export_prometheus(), true);
    // `milliseconds` is not a base unit: promtool's linter says so.
    check_with_promtool(&monitor.export_prometheus_with(&small_config()), false);
    let awkward = awkward_monitor();
    check_with_promtool(&awkward.export_prometheus_with(&awkward_config()), false);
}

#[test]
fn promtool_accepts_openmetrics() {
    let monitor = small_monitor();
    check_openmetrics_with_promtool(&monitor.export_openmetrics());
    check_openmetrics_with_promtool(&monitor.export_openmetrics_with(&small_config()));
    let awkward = awkward_monitor();
    check_openmetrics_with_promtool(&awkward.export_openmetrics_with(&awkward_config()));
    let summaries = ExpositionConfig::new()
        .default_summary(&DEFAULT_SUMMARY_QUANTILES)
        .unwrap();
    check_openmetrics_with_promtool(&monitor.export_openmetrics_with(&summaries));
}

/// Whether `promtool` can run (see `common::external_tool_available`).
fn promtool_available() -> bool {
    let found = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    common::external_tool_available(found, "promtool")
}

/// `promtool check metrics < text`: exit 0 (valid, lint-clean), 3 (valid,
/// lint problems) or 1 (invalid). `lint_clean` requires 0.
fn check_with_promtool(text: &str, lint_clean: bool) {
    if !promtool_available() {
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code();
    let accepted = if lint_clean {
        code == Some(0)
    } else {
        matches!(code, Some(0 | 3))
    };
    assert!(
        accepted,
        "promtool check metrics: {code:?}\n{report}\n---\n{text}"
    );
    assert!(!report.contains("error"), "{report}\n---\n{text}");
}

/// Checks OpenMetrics with the strict OpenMetrics parser of `promtool tsdb
/// create-blocks-from openmetrics`, after giving every sample a timestamp.
/// (`promtool check metrics` reads only the Prometheus format, which
/// escapes help text differently.)
fn check_openmetrics_with_promtool(text: &str) {
    if !promtool_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "perf-core-exposition-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input.om");
    std::fs::write(&input, with_timestamps(text)).unwrap();
    let out = run_backfill(&input, &dir.join("blocks"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}\n---\n{text}", stderr_of(&out));
}

/// `text` with ` 1700000000` (seconds) after every sample.
fn with_timestamps(text: &str) -> String {
    text.lines()
        .map(|line| match line.starts_with('#') {
            true => format!("{line}\n"),
            false => format!("{line} 1700000000\n"),
        })
        .collect()
}

fn run_backfill(input: &Path, output: &Path) -> std::process::Output {
    Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(input)
        .arg(output)
        .output()
        .unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
