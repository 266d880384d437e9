//! Interop with an independent HdrHistogram implementation: Python's
//! `hdrhistogram` package (PyPI) decodes perf-core's V2 strings and
//! perf-core imports the package's. The Python is the one named by
//! `PERF_CORE_INTEROP_PYTHON` (`scripts/test-all.sh` makes a venv with the
//! package); without it the tests print a note and pass, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use perf_core::Monitor;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hdr_interop.py");
/// perf-core's relative error at the default precision plus HdrHistogram's
/// at 3 significant digits, and one integer (1 µs) of rounding.
const RELATIVE: f64 = 0.0039 + 0.001;
const ABSOLUTE_MICROS: f64 = 1.0;

fn python() -> Option<PathBuf> {
    let found = std::env::var_os("PERF_CORE_INTEROP_PYTHON").map(PathBuf::from);
    let ok = found.as_ref().is_some_and(|p| p.exists());
    common::external_tool_available(ok, "PERF_CORE_INTEROP_PYTHON (a Python with hdrhistogram)")
        .then(|| found.unwrap())
}

/// Runs the script in `mode` with `input` on stdin and parses its JSON.
fn run(python: &PathBuf, mode: &str, input: &str) -> Value {
    let mut child = Command::new(python)
        .args([SCRIPT, mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hdr_interop.py {mode} failed");
    serde_json::from_slice(&out.stdout).expect("JSON from hdr_interop.py")
}

fn assert_within(perf_core_ms: f64, hdrh_micros: f64, what: &str) {
    let ours = perf_core_ms * 1000.0;
    let bound = ours * RELATIVE + ABSOLUTE_MICROS;
    assert!(
        (ours - hdrh_micros).abs() <= bound,
        "{what}: perf-core {ours} µs, hdrh {hdrh_micros} µs"
    );
}

#[test]
fn python_hdrhistogram_decodes_perf_core_exports() {
    let Some(python) = python() else { return };
    let monitor = Monitor::builder().build().unwrap();
    let h = monitor
        .histogram("http.duration", &[("route", "/")])
        .unwrap();
    for i in 0..25_000u32 {
        // 0.2 ms .. ~2 s, long-tailed.
        let u = f64::from(i % 1_000) / 1_000.0;
        h.record(0.2 * 10f64.powf(4.0 * u.powi(3)) + f64::from(i % 7) * 0.01)
            .unwrap();
    }
    let encoded = monitor
        .export_hdr("http.duration", &[("route", "/")])
        .unwrap();
    let decoded = run(&python, "decode", &encoded);
    let stats = h.stats();
    assert_eq!(decoded["count"].as_u64(), Some(stats.count));
    for (q, v) in decoded["percentiles"].as_object().unwrap() {
        let q: f64 = q.parse().unwrap();
        assert_within(
            stats.percentile(q).unwrap(),
            v.as_f64().unwrap(),
            &format!("p{q}"),
        );
    }
    assert_within(stats.min, decoded["min"].as_f64().unwrap(), "min");
    assert_within(stats.max, decoded["max"].as_f64().unwrap(), "max");
}

#[test]
fn python_hdrhistogram_exports_merge_into_perf_core() {
    let Some(python) = python() else { return };
    let produced = run(&python, "encode", "");
    let encoded = produced["encoded"].as_str().unwrap();
    let monitor = Monitor::builder().build().unwrap();
    // Two hosts' snapshots of the same data: counts add exactly.
    monitor.import_hdr("rpc.duration", &[], encoded).unwrap();
    monitor.import_hdr("rpc.duration", &[], encoded).unwrap();
    let stats = monitor.stats("rpc.duration", &[]).unwrap();
    assert_eq!(Some(stats.count), produced["count"].as_u64().map(|c| 2 * c));
    for (q, v) in produced["percentiles"].as_object().unwrap() {
        let q: f64 = q.parse().unwrap();
        assert_within(
            stats.percentile(q).unwrap(),
            v.as_f64().unwrap(),
            &format!("p{q}"),
        );
    }
}
