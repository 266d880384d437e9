//! JSON and CSV exports: golden outputs of a small deterministic monitor,
//! both documents read back and checked against `Monitor::stats` for every
//! series, and awkward tag values (commas, quotes, semicolons, backslashes,
//! unicode) surviving the round trip.
//!
//! Regenerate the golden files after an intended format change with
//! `PERF_CORE_UPDATE_GOLDEN=1 cargo test -p perf-core --test export_data`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use perf_core::{
    JsonExportOptions, ManualClock, MetricKind, Monitor, PerfError, Stats, Timestamp,
    EXPORT_FORMAT, EXPORT_FORMAT_VERSION,
};
use serde_json::Value;

/// 2023-11-14T22:13:20.123456789Z.
const NOW: u64 = 1_700_000_000_123_456_789;

/// Awkward tag values every format must carry through.
const AWKWARD: [&str; 4] = ["/search?q=a,b", "say \"hi\"", "a;b=c\\d", "zürich ✓ 東京"];

/// Histograms (one empty, one with a rejected value), a counter and a
/// gauge, with awkward tag values, at a fixed time.
fn small_monitor() -> Monitor {
    let clock = ManualClock::new(Timestamp::from_nanos(NOW));
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    let users = [("route", "/users"), ("method", "GET")];
    for ms in [12.0, 15.5, 9.8, 230.0, 0.0] {
        monitor.record("http.server.duration", &users, ms).unwrap();
    }
    assert!(monitor
        .record("http.server.duration", &users, f64::NAN)
        .is_err());
    let search = [("route", AWKWARD[0]), ("method", "POST")];
    for ms in [48.0, 300.0, 0.125] {
        monitor.record("http.server.duration", &search, ms).unwrap();
    }
    monitor
        .record("db.query", &[("sql", AWKWARD[1])], 4.5)
        .unwrap();
    monitor.histogram("cache.lookup", &[]).unwrap();
    let jobs = monitor.counter("jobs.done", &[("queue", AWKWARD[2]), ("city", AWKWARD[3])]);
    jobs.unwrap().increment(42);
    monitor
        .gauge("queue.depth", &[])
        .unwrap()
        .set(-2.5)
        .unwrap();
    monitor
}

/// Compares `actual` with the golden file `name`, or rewrites it when
/// `PERF_CORE_UPDATE_GOLDEN` is set.
fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("PERF_CORE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(actual, expected, "{} differs", path.display());
}

/// The stats of a histogram series named by owned tags.
fn stats_of(monitor: &Monitor, name: &str, tags: &BTreeMap<String, String>) -> Stats {
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    monitor.stats(name, &tags).unwrap()
}

/// A histogram's exported statistics, in export order, as `f64` (NaN for
/// "no value").
fn expected_stats(s: &Stats) -> [(&'static str, f64); 13] {
    [
        ("count", s.count as f64),
        ("sum", s.sum),
        ("min", s.min),
        ("max", s.max),
        ("mean", s.mean),
        ("stddev", s.stddev),
        ("p50", s.p50),
        ("p75", s.p75),
        ("p90", s.p90),
        ("p95", s.p95),
        ("p99", s.p99),
        ("p999", s.p999),
        ("rejected", s.rejected as f64),
    ]
}

/// Bitwise equality, NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// The value a counter or gauge series holds.
fn plain_value(monitor: &Monitor, name: &str, tags: &BTreeMap<String, String>) -> f64 {
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match monitor.counter(name, &tags) {
        Ok(counter) => counter.value() as f64,
        Err(PerfError::KindMismatch { .. }) => monitor.gauge(name, &tags).unwrap().value(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn json_matches_its_golden_file() {
    let monitor = small_monitor();
    assert_golden("export-small.json", &monitor.export_json());
    let with = JsonExportOptions::new().histograms(true);
    assert_golden(
        "export-small-histograms.json",
        &monitor.export_json_with(&with),
    );
}

#[test]
fn csv_matches_its_golden_file() {
    assert_golden("export-small.csv", &small_monitor().export_csv());
}

#[test]
fn json_reads_back_as_the_monitors_statistics() {
    let monitor = small_monitor();
    let doc: Value = serde_json::from_str(&monitor.export_json()).unwrap();
    assert_eq!(doc["format"], EXPORT_FORMAT);
    assert_eq!(doc["format_version"], EXPORT_FORMAT_VERSION);
    assert_eq!(doc["timestamp_unix_nanos"], NOW);
    let series = doc["series"].as_array().unwrap();
    let listed: Vec<_> = monitor.series();
    assert_eq!(series.len(), listed.len());
    for (s, info) in series.iter().zip(&listed) {
        let name = s["name"].as_str().unwrap();
        let tags: BTreeMap<String, String> = serde_json::from_value(s["tags"].clone()).unwrap();
        assert_eq!(name, info.key.name());
        assert!(tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .eq(info.key.tags()));
        assert_eq!(s["kind"], info.kind.to_string());
        check_json_series(&monitor, s, name, &tags, info.kind);
    }
}

/// One entry of `series` against the monitor: every statistic and nothing
/// else.
fn check_json_series(
    monitor: &Monitor,
    s: &Value,
    name: &str,
    tags: &BTreeMap<String, String>,
    kind: MetricKind,
) {
    let fields = s.as_object().unwrap().len() - 3; // name, tags, kind
    if kind != MetricKind::Histogram {
        assert_eq!(fields, 1, "{s}");
        assert_eq!(
            s["value"].as_f64().unwrap(),
            plain_value(monitor, name, tags)
        );
        return;
    }
    let stats = expected_stats(&stats_of(monitor, name, tags));
    assert_eq!(fields, stats.len(), "{s}");
    for (stat, expected) in stats {
        let got = s[stat].as_f64().unwrap_or(f64::NAN);
        assert!(s[stat].is_null() == expected.is_nan(), "{name} {stat}");
        assert!(same(got, expected), "{name} {stat}: {got} != {expected}");
    }
}

#[test]
fn json_histograms_read_back_as_the_monitors_snapshots() {
    let monitor = small_monitor();
    let with = JsonExportOptions::new().histograms(true);
    let doc: Value = serde_json::from_str(&monitor.export_json_with(&with)).unwrap();
    for s in doc["series"].as_array().unwrap() {
        let tags: BTreeMap<String, String> = serde_json::from_value(s["tags"].clone()).unwrap();
        if s["kind"] != "histogram" {
            assert!(s.get("histogram").is_none());
            continue;
        }
        let stats = stats_of(&monitor, s["name"].as_str().unwrap(), &tags);
        let h = &s["histogram"];
        let snapshot = stats.snapshot();
        assert_eq!(h["precision_bits"], snapshot.precision().bits());
        assert_eq!(h["zero_count"], snapshot.zero_count());
        let buckets: Vec<(u32, u64)> = serde_json::from_value(h["buckets"].clone()).unwrap();
        let total: u64 = buckets.iter().map(|b| b.1).sum();
        assert_eq!(total + snapshot.zero_count(), stats.count);
        let counts: Vec<u64> = snapshot.buckets().map(|(_, _, n)| n).collect();
        assert_eq!(buckets.iter().map(|b| b.1).collect::<Vec<_>>(), counts);
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0));
    }
}

/// Splits CSV text into rows of fields, honouring RFC 4180 quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => field.push(chars.next().unwrap()),
            (_, '"') => quoted = !quoted,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty() && !quoted,
        "no final newline"
    );
    rows
}

/// The tags of a `tags` field: split on unescaped `;`, then at the first
/// `=`, `\x` read as `x`.
fn parse_tags(field: &str) -> BTreeMap<String, String> {
    let mut pairs = Vec::new();
    let (mut current, mut chars) = (String::new(), field.chars());
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\u{0}'); // marks an escaped char (never in tags)
                current.push(chars.next().unwrap());
            }
            ';' => pairs.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !field.is_empty() {
        pairs.push(current);
    }
    let unescape = |s: &str| s.replace('\u{0}', "");
    pairs
        .iter()
        .map(|p| p.split_once('=').unwrap())
        .map(|(k, v)| (unescape(k), unescape(v)))
        .collect()
}

#[test]
fn csv_reads_back_as_the_monitors_statistics() {
    let monitor = small_monitor();
    let rows = parse_csv(&monitor.export_csv());
    assert_eq!(rows[0], ["timestamp", "metric", "tags", "stat", "value"]);
    let mut seen = Vec::new();
    for row in &rows[1..] {
        assert_eq!(row.len(), 5, "{row:?}");
        assert_eq!(row[0], "2023-11-14T22:13:20.123Z");
        let tags = parse_tags(&row[2]);
        if seen.last() != Some(&(row[1].clone(), tags.clone())) {
            seen.push((row[1].clone(), tags.clone()));
        }
        let got = if row[4].is_empty() {
            f64::NAN
        } else {
            row[4].parse().unwrap()
        };
        let expected = expected_value(&monitor, &row[1], &tags, &row[3]);
        assert!(same(got, expected), "{row:?}: expected {expected}");
    }
    let listed: Vec<(String, BTreeMap<String, String>)> = monitor
        .series()
        .iter()
        .map(|s| (s.key.name().to_owned(), owned(s.key.tags())))
        .collect();
    assert_eq!(seen, listed, "one block of rows per series, in order");
    assert_eq!(rows.len(), 1 + 4 * 13 + 2);
}

/// The monitor's value of `stat` of the series `name{tags}`.
fn expected_value(
    monitor: &Monitor,
    name: &str,
    tags: &BTreeMap<String, String>,
    stat: &str,
) -> f64 {
    if stat == "value" {
        return plain_value(monitor, name, tags);
    }
    let stats = expected_stats(&stats_of(monitor, name, tags));
    stats
        .iter()
        .find(|(s, _)| *s == stat)
        .expect("a known stat")
        .1
}

fn owned<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    tags.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[test]
fn awkward_tag_values_survive_both_formats() {
    let monitor = small_monitor();
    let json = monitor.export_json();
    let csv = monitor.export_csv();
    let doc: Value = serde_json::from_str(&json).unwrap();
    let mut json_values = Vec::new();
    for s in doc["series"].as_array().unwrap() {
        for v in s["tags"].as_object().unwrap().values() {
            json_values.push(v.as_str().unwrap().to_owned());
        }
    }
    let csv_values: Vec<String> = parse_csv(&csv)[1..]
        .iter()
        .flat_map(|row| parse_tags(&row[2]).into_values())
        .collect();
    for awkward in AWKWARD {
        assert!(
            json_values.iter().any(|v| v == awkward),
            "{awkward} in JSON"
        );
        assert!(csv_values.iter().any(|v| v == awkward), "{awkward} in CSV");
    }
    // Line breaks cannot reach either format: tag values refuse them.
    assert!(monitor.counter("c", &[("k", "a\nb")]).is_err());
}

#[test]
fn an_empty_monitor_exports_empty_documents() {
    let clock = ManualClock::new(Timestamp::ZERO);
    let monitor = Monitor::builder().clock(clock).build().unwrap();
    let doc: Value = serde_json::from_str(&monitor.export_json()).unwrap();
    assert_eq!(doc["series"], serde_json::json!([]));
    assert_eq!(doc["timestamp_unix_nanos"], 0);
    assert_eq!(monitor.export_csv(), "timestamp,metric,tags,stat,value\n");
}

#[test]
fn exports_follow_the_clock() {
    let clock = ManualClock::new(Timestamp::from_secs(951_782_400));
    let monitor = Monitor::builder().clock(clock.clone()).build().unwrap();
    monitor.gauge("g", &[]).unwrap().set(1.0).unwrap();
    clock.advance(std::time::Duration::from_millis(86_400_000 + 1_500));
    assert!(monitor
        .export_csv()
        .contains("\n2000-03-01T00:00:01.500Z,g,,value,1\n"));
    let doc: Value = serde_json::from_str(&monitor.export_json()).unwrap();
    assert_eq!(doc["timestamp_unix_nanos"], 951_868_801_500_000_000u64);
}
