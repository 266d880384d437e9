//! `perf-gate prometheus-rules`: a rules document in, Prometheus alerting
//! rules out (the same YAML as `RulesConfig::to_prometheus_rules`), the
//! skipped rules on standard error, and exit 2 on bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perf_core::{PrometheusRulesOptions, RulesConfig};

const GATE: &str = env!("CARGO_BIN_EXE_perf-gate");

/// The rules document of perf-core's golden test.
fn fleet_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../perf-core/tests/rules/fleet-rules.json")
}

fn gate(args: &[&str]) -> Output {
    Command::new(GATE).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn writes_the_rules_of_a_document_and_lists_what_it_skipped() {
    let path = fleet_rules();
    let out = gate(&["prometheus-rules", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = RulesConfig::from_json(&fs::read_to_string(&path).unwrap()).unwrap();
    let expected = config
        .to_prometheus_rules(&PrometheusRulesOptions::new())
        .unwrap();
    assert_eq!(text(&out.stdout), expected.to_yaml());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("perf-gate: skipped slowest-request: max is exact"),
        "{stderr}"
    );
    assert!(
        stderr.contains("perf-gate: note http-latency: clear thresholds"),
        "{stderr}"
    );
}

#[test]
fn native_histograms_selects_the_native_form() {
    let path = fleet_rules();
    let out = gate(&[
        "prometheus-rules",
        path.to_str().unwrap(),
        "--native-histograms",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = RulesConfig::from_json(&fs::read_to_string(&path).unwrap()).unwrap();
    let options = PrometheusRulesOptions::new().native_histograms(true);
    let expected = config.to_prometheus_rules(&options).unwrap();
    assert_eq!(text(&out.stdout), expected.to_yaml());
    assert!(text(&out.stdout).contains("histogram_count(sum by (route) (increase("));
}

#[test]
fn options_name_the_group_scope_and_file() {
    let dir = std::env::temp_dir().join(format!("perf-gate-prom-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("alerts.yml");
    let path = fleet_rules();
    let out = gate(&[
        "prometheus-rules",
        path.to_str().unwrap(),
        "--group",
        "checkout",
        "--by",
        "instance",
        "--matcher",
        "job=checkout",
        "--unit",
        "queue.wait=seconds",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let yaml = fs::read_to_string(&file).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    assert!(yaml.contains("  - name: \"checkout\"\n"), "{yaml}");
    assert!(
        yaml.contains("  - name: \"checkout-emergency\"\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains(
            r#"(sum by (instance) (rate(queue_wait_seconds_sum{job=\"checkout\"}[1m])) / "#
        ),
        "{yaml}"
    );
}

#[test]
fn bad_input_exits_2() {
    let path = fleet_rules();
    let path = path.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["prometheus-rules", "/no/such/rules.json"], "No such file"),
        (
            &["prometheus-rules", path, "--matcher", "job"],
            "is not KEY=VALUE",
        ),
        (&["prometheus-rules", path, "--by", "le-x"], "perf-gate:"),
        (&["prometheus-rules"], "required"),
    ];
    for (args, message) in cases {
        let out = gate(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let help = gate(&["--help"]);
    assert!(text(&help.stdout).contains("perf-gate prometheus-rules RULES.json"));
}
