//! The gate as CI runs it: files in, a table (and JSON) out, and the exit
//! status — checked against golden output.
//!
//! Regenerate the golden files after an intended change of the output with
//! `UPDATE_GOLDEN=1 cargo test -p perf-gate`, and review the diff.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perf_core::{Baseline, HistogramSnapshot, Precision, Timestamp};

const GATE: &str = env!("CARGO_BIN_EXE_perf-gate");

/// `n` skewed latencies (an exponential's quantiles, shifted), times `scale`.
fn latencies(n: u32, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = (f64::from(i) + 0.5) / f64::from(n);
            (10.0 - 40.0 * (1.0 - u).ln()) * scale
        })
        .collect()
}

fn run_of(version: &str, series: &[(&str, u32, f64)]) -> Baseline {
    series.iter().fold(
        Baseline::new(version, Timestamp::from_secs(1_700_000_000)),
        |b, &(route, n, scale)| {
            let snapshot =
                HistogramSnapshot::from_values(Precision::DEFAULT, &latencies(n, scale)).unwrap();
            b.with_series("http.server.duration", &[("route", route)], snapshot)
                .unwrap()
        },
    )
}

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("perf-gate-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Writes the baseline and current files of a scenario; returns their paths.
fn files(
    dir: &Path,
    base: &[(&str, u32, f64)],
    current: &[(&str, u32, f64)],
) -> (PathBuf, PathBuf) {
    let (b, c) = (dir.join("baseline.json"), dir.join("current.json"));
    run_of("v1.0.0", base).save(&b).unwrap();
    run_of("v1.1.0", current).save(&c).unwrap();
    (b, c)
}

fn gate(args: &[&Path], options: &[&str]) -> Output {
    Command::new(GATE)
        .args(args)
        .args(options)
        .output()
        .unwrap()
}

/// The `verdict` of every row of a JSON report.
fn verdicts(report: &serde_json::Value) -> Vec<&str> {
    let rows = report["rows"].as_array().unwrap();
    rows.iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Compares `actual` with the golden file `name` (or rewrites it).
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).unwrap();
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

#[test]
fn a_regression_fails_the_gate_with_exit_1() {
    let scratch = scratch("regressed");
    let dir = &scratch.0;
    let (b, c) = files(
        dir,
        &[
            ("/a", 3000, 1.0),
            ("/b", 3000, 1.0),
            ("/c", 3000, 1.0),
            ("/d", 3000, 1.0),
            ("/f", 10, 1.0),
        ],
        &[
            ("/a", 3000, 1.0),
            ("/b", 3000, 1.3),
            ("/c", 3000, 0.7),
            ("/e", 3000, 1.0),
            ("/f", 10, 1.0),
        ],
    );
    let json = dir.join("report.json");
    let out = gate(&[&b, &c], &["--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    golden("regressed.txt", &text(&out.stdout));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["regressions"], 4, "p50, p95, p99 and the mean of /b");
    let verdicts = verdicts(&report);
    assert!(verdicts.contains(&"improved") && verdicts.contains(&"insufficient_data"));
    assert_eq!(report["missing"][0], r#"http.server.duration{route="/d"}"#);
    assert_eq!(report["added"][0], r#"http.server.duration{route="/e"}"#);
}

#[test]
fn the_same_distribution_passes_with_exit_0() {
    let scratch = scratch("same");
    let dir = &scratch.0;
    let runs = [("/a", 2000, 1.0), ("/b", 5000, 1.0)];
    let (b, c) = files(dir, &runs, &runs);
    let out = gate(&[&b, &c], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    golden("passed.txt", &text(&out.stdout));
}

#[test]
fn thresholds_and_json_to_stdout() {
    let scratch = scratch("thresholds");
    let dir = &scratch.0;
    let (b, c) = files(dir, &[("/b", 3000, 1.0)], &[("/b", 3000, 1.3)]);
    // 30 % worse is within a 50 % threshold.
    let out = gate(&[&b, &c], &["--threshold", "50%", "--stats", "p95,p99"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // ... but not within a 10 % one for p99; JSON on stdout, the table on stderr.
    let out = gate(
        &[&b, &c],
        &[
            "--threshold",
            "0.5",
            "--threshold",
            "p99=0.1",
            "--stats",
            "p95,p99",
            "--json",
            "-",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdicts = verdicts(&report);
    assert_eq!(verdicts, ["unchanged", "regressed"]);
    assert!(text(&out.stderr).contains("FAIL: 1 regression(s) in 2 comparisons"));
}

#[test]
fn the_policy_comes_from_a_rules_document_and_options_override_it() {
    let scratch = scratch("rules");
    let dir = &scratch.0;
    let (b, c) = files(dir, &[("/b", 3000, 1.0)], &[("/b", 3000, 1.3)]);
    let rules = dir.join("rules.json");
    fs::write(
        &rules,
        r#"{"version": 1, "regression": {"statistics": ["p95", "p99"], "threshold": 0.5}}"#,
    )
    .unwrap();
    let rules_arg = rules.to_str().unwrap();
    // 30 % worse is within the document's 50 % threshold ...
    let out = gate(&[&b, &c], &["--rules", rules_arg, "--json", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdicts(&report), ["unchanged", "unchanged"]);
    // ... not within an option's 10 %.
    let out = gate(&[&b, &c], &["--rules", rules_arg, "--threshold", "0.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // A bad section is bad input, named.
    fs::write(&rules, r#"{"version": 1, "regression": {"alpha": 3}}"#).unwrap();
    let out = gate(&[&b, &c], &["--rules", rules_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("regression"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let scratch = scratch("bad");
    let dir = &scratch.0;
    let (b, c) = files(dir, &[("/a", 100, 1.0)], &[("/a", 100, 1.0)]);
    let truncated = dir.join("truncated.json");
    let full = fs::read_to_string(&b).unwrap();
    fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let cases: Vec<(Vec<&Path>, Vec<&str>, &str)> = vec![
        (vec![&b, &truncated], vec![], "invalid baseline"),
        (
            vec![&b, Path::new("/no/such/file.json")],
            vec![],
            "cannot read",
        ),
        (
            vec![&b, &c],
            vec!["--alpha", "2"],
            "alpha: 2 must be within (0, 1)",
        ),
        (
            vec![&b, &c],
            vec!["--stats", "max"],
            "max cannot be compared",
        ),
        (
            vec![&b, &c],
            vec!["--threshold", "p95=lots"],
            "is not a number",
        ),
        (vec![&b], vec![], "required"),
        (
            vec![&b, &c],
            vec!["--resamples", "4294967295"],
            "resamples: 4294967295 must be within [100, 100000]",
        ),
        (
            vec![&b, &c],
            vec!["--resamples", "4294967296"],
            "--resamples",
        ),
        (
            vec![&b, &c],
            vec!["--noise", "1"],
            "noise: 1 must be within [0, 1)",
        ),
        (
            vec![&b, &c],
            vec!["--threshold=-1"],
            "threshold: -1 must be finite and above 0",
        ),
        (
            vec![&b, &c],
            vec!["--threshold", "p99=1e308", "--threshold", "p95=0"],
            "thresholds.p95: 0 must be finite and above 0",
        ),
        (vec![&b, &c], vec!["--min-samples=-1"], "--min-samples"),
        (
            vec![&b, &c],
            vec!["--alpha", "1e400"],
            "alpha: inf must be within (0, 1)",
        ),
    ];
    for (args, options, message) in cases {
        let out = gate(&args, &options);
        assert_eq!(out.status.code(), Some(2), "{args:?} {options:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{stderr:?} lacks {message:?}");
    }
}
