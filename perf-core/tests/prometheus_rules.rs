//! Prometheus alerting rules generated from rules documents
//! (`RulesConfig::to_prometheus_rules`): a golden file of a small document
//! (`tests/rules/fleet-rules.json` → `tests/golden/prometheus-rules.yml`;
//! regenerate with `PERF_CORE_UPDATE_GOLDEN=1`), `promtool check rules` on
//! the generated YAML, and `promtool test rules` feeding synthetic series
//! through the generated alerts, which must go pending and fire with the
//! expected labels and values.
//!
//! `promtool` comes with Debian's `prometheus` package. Without it on
//! `PATH` the promtool tests print a note and pass, unless
//! `PERF_CORE_REQUIRE_EXTERNAL=1` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use perf_core::{PrometheusAlert, PrometheusRules, PrometheusRulesOptions, RulesConfig};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fleet_document() -> RulesConfig {
    let path = manifest_dir().join("tests/rules/fleet-rules.json");
    RulesConfig::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn generate(config: &RulesConfig) -> PrometheusRules {
    config
        .to_prometheus_rules(&PrometheusRulesOptions::new())
        .unwrap()
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "perf-core-prometheus-rules-{test}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_fleet_document_matches_its_golden_file() {
    let yaml = generate(&fleet_document()).to_yaml();
    let path = manifest_dir().join("tests/golden/prometheus-rules.yml");
    if std::env::var_os("PERF_CORE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &yaml).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(yaml, expected, "{} differs", path.display());
}

/// The same document for a Prometheus that keeps native histograms:
/// histogram targets read `x` with `histogram_quantile`,
/// `histogram_count` and `histogram_sum`; counters and gauges are as in
/// the classic file.
#[test]
fn the_native_form_matches_its_golden_file() {
    let options = PrometheusRulesOptions::new().native_histograms(true);
    let rules = fleet_document().to_prometheus_rules(&options).unwrap();
    let yaml = rules.to_yaml();
    let path = manifest_dir().join("tests/golden/prometheus-rules-native.yml");
    if std::env::var_os("PERF_CORE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &yaml).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(yaml, expected, "{} differs", path.display());
    for alert in rules.alerts() {
        let classic_series = ["_bucket", "_count", "_sum"].iter().any(|suffix| {
            ["{", "["]
                .iter()
                .any(|next| alert.expr.contains(&format!("{suffix}{next}")))
        });
        assert!(
            !classic_series,
            "{} reads classic series: {}",
            alert.alert, alert.expr
        );
    }
    let classic = generate(&fleet_document());
    let same: Vec<&str> = rules
        .alerts()
        .zip(classic.alerts())
        .filter(|(n, c)| n.expr == c.expr)
        .map(|(n, _)| n.alert.as_str())
        .collect();
    assert_eq!(
        same,
        ["http_error_rate", "jobs_stalled", "disk_free", "disk_free"]
    );
}

#[test]
fn untranslatable_rules_are_listed_not_translated() {
    let rules = generate(&fleet_document());
    let skipped: Vec<&str> = rules.skipped.iter().map(|s| s.rule.as_str()).collect();
    assert_eq!(
        skipped,
        [
            "slowest-request",
            "latency-step",
            "emergency trigger http-error-rate"
        ]
    );
    let alerts: Vec<&str> = rules.alerts().map(|a| a.alert.as_str()).collect();
    assert!(!alerts.contains(&"slowest_request") && !alerts.contains(&"latency_step"));
    // One alert per level: http-latency has two, disk-free two.
    assert_eq!(alerts.iter().filter(|a| **a == "http_latency").count(), 2);
    assert_eq!(
        rules
            .groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["perf-core", "perf-core-emergency"]
    );
    let notes: Vec<&str> = rules.notes.iter().map(|n| n.rule.as_str()).collect();
    assert_eq!(notes, ["http-latency"]); // its clear threshold
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

/// Runs `promtool args…` in `dir`; panics with its output unless it exits 0.
fn promtool(dir: &Path, args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_checks_the_generated_rules() {
    if !promtool_available() {
        return;
    }
    let scratch = Scratch::new("check");
    let fleet = scratch.write("fleet.yml", &generate(&fleet_document()).to_yaml());
    let example = manifest_dir().join("../examples/rules/default-rules.json");
    let example = RulesConfig::from_json(&std::fs::read_to_string(example).unwrap()).unwrap();
    let options = PrometheusRulesOptions::new()
        .group("checkout \"api\"")
        .by("route")
        .unwrap()
        .matcher("job", "check\\out \"1\"")
        .unwrap()
        .unit("http.server.duration", "milliseconds")
        .unwrap();
    let example = scratch.write(
        "example.yml",
        &example.to_prometheus_rules(&options).unwrap().to_yaml(),
    );
    let awkward = RulesConfig::from_json(
        r#"{"version": 1, "rules": [
        {"name": "weird {{ name }} \"q\" \\ ü", "description": "{{ $labels.x }} and \"quotes\"\\",
         "metric": "api.v2:latency", "stat": "p99.99", "threshold": 1e-9,
         "tags": {"path": "C:\\dir \"x\" {{y}}"}, "exclude_tags": {"k": "a\\\"b"}}
    ]}"#,
    )
    .unwrap();
    let awkward = scratch.write("awkward.yml", &generate(&awkward).to_yaml());
    let native = fleet_document()
        .to_prometheus_rules(&PrometheusRulesOptions::new().native_histograms(true))
        .unwrap();
    let native = scratch.write("native.yml", &native.to_yaml());
    for file in [fleet, example, awkward, native] {
        promtool(&scratch.0, &["check", "rules", file.to_str().unwrap()]);
    }
}

/// The description of `alert` once Prometheus has expanded `{{ $value }}`.
fn description(alert: &PrometheusAlert, value: &str) -> String {
    alert.annotations["description"].replace("{{ $value }}", value)
}

fn alert<'a>(rules: &'a PrometheusRules, name: &str, severity: &str) -> &'a PrometheusAlert {
    rules
        .alerts()
        .find(|a| a.alert == name && a.labels["severity"] == severity)
        .unwrap()
}

/// A YAML double-quoted string (JSON's escapes).
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// One expected alert of a promtool unit test.
fn expected(alert: &PrometheusAlert, labels: &[(&str, &str)], value: &str) -> String {
    let mut all: Vec<(String, String)> = alert
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    all.extend(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let labels: Vec<String> = all
        .iter()
        .map(|(k, v)| format!("{}: {}", q(k), q(v)))
        .collect();
    format!(
        "          - exp_labels: {{{}}}\n            exp_annotations: {{\"summary\": {}, \"description\": {}}}\n",
        labels.join(", "),
        q(&alert.annotations["summary"]),
        q(&description(alert, value)),
    )
}

#[test]
fn promtool_fires_the_generated_alerts_on_synthetic_series() {
    if !promtool_available() {
        return;
    }
    // A route whose tag value needs escaping; the histogram's values all lie
    // in (100, 250], so its p50 interpolates to 175 and fires `> 150` after
    // `for`. Two instances' counters sum to an error ratio of 0.25. One
    // instance's gauge is below 10.
    let route = r#"/a "b" \c"#;
    let config = RulesConfig::from_json(
        r#"{"version": 1, "rules": [
        {"name": "checkout-p50", "metric": "http.server.duration", "stat": "p50",
         "threshold": 150, "for": "1m", "tags": {"route": "/a \"b\" \\c"}},
        {"name": "errors", "metric": "http.server.errors", "stat": "ratio",
         "denominator": "http.server.requests", "threshold": 0.1, "severity": "critical",
         "min_samples": 10},
        {"name": "disk", "metric": "disk.free_gb", "stat": "value", "op": "<", "threshold": 10}
    ]}"#,
    )
    .unwrap();
    let rules = generate(&config);
    let scratch = Scratch::new("unit");
    scratch.write("rules.yml", &rules.to_yaml());

    let escaped_route = route.replace('\\', "\\\\").replace('"', "\\\"");
    let bucket = |le: &str, values: &str| {
        format!(
            "      - series: {}\n        values: {}\n",
            q(&format!(
                "http_server_duration_bucket{{route=\"{escaped_route}\",le=\"{le}\"}}"
            )),
            q(values)
        )
    };
    let series = |selector: &str, values: &str| {
        format!(
            "      - series: {}\n        values: {}\n",
            q(selector),
            q(values)
        )
    };
    let mut input = String::new();
    input += &bucket("100", "0x40");
    input += &bucket("250", "0+10x40");
    input += &bucket("+Inf", "0+10x40");
    // Another route, which the rule's matcher leaves out.
    input += &series(
        r#"http_server_duration_bucket{route="/other",le="+Inf"}"#,
        "0+10x40",
    );
    for instance in ["a", "b"] {
        input += &series(
            &format!(r#"http_server_errors_total{{instance="{instance}"}}"#),
            "0+1x40",
        );
        input += &series(
            &format!(r#"http_server_requests_total{{instance="{instance}"}}"#),
            "0+4x40",
        );
    }
    input += &series(r#"disk_free_gb{instance="a"}"#, "3x40");
    input += &series(r#"disk_free_gb{instance="b"}"#, "50x40");

    let p50 = alert(&rules, "checkout_p50", "warning");
    let errors = alert(&rules, "errors", "critical");
    let disk = alert(&rules, "disk", "warning");
    let case = |time: &str, name: &str, alerts: &[String]| {
        let alerts = if alerts.is_empty() {
            "        exp_alerts: []\n".to_owned()
        } else {
            format!("        exp_alerts:\n{}", alerts.concat())
        };
        format!("      - eval_time: {time}\n        alertname: {name}\n{alerts}")
    };
    let tests = [
        // Pending for its `for` of 1m: not firing yet.
        case("30s", "checkout_p50", &[]),
        case(
            "3m",
            "checkout_p50",
            &[expected(p50, &[("route", route)], "175")],
        ),
        // 8 requests per scrape: at 15 s only 8 in the window, below
        // min_samples 10; at 1m enough.
        case("15s", "errors", &[]),
        case("1m", "errors", &[expected(errors, &[], "0.25")]),
        case("1m", "disk", &[expected(disk, &[("instance", "a")], "3")]),
    ];
    let test_file = format!(
        "rule_files: [rules.yml]\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n{input}    alert_rule_test:\n{}",
        tests.concat()
    );
    scratch.write("test.yml", &test_file);
    promtool(&scratch.0, &["test", "rules", "test.yml"]);
}
