//! `perf-gate`: the CI gate. Compares a run's histograms against a
//! baseline (both perf-core baseline files) and exits 0 when nothing
//! regressed, 1 when something did, 2 on bad input.
//!
//! ```text
//! perf-gate baseline.json current.json                 # table on stdout
//! perf-gate baseline.json current.json --json report.json
//! perf-gate baseline.json current.json --threshold 0.1 --threshold p99=0.3 --alpha 0.01
//! perf-gate prometheus-rules rules.json --group checkout --by route --out alerts.yml
//! perf-gate prometheus-rules rules.json --native-histograms   # for native-histogram scrapes
//! ```
//!
//! See `docs/regression.md` for the method and how to wire it into CI, and
//! `docs/fleet.md` for the Prometheus alerting rules of `prometheus-rules`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use perf_core::{
    compare, Baseline, PerfError, Policy, PrometheusRulesOptions, RegressionReport, RulesConfig,
    Statistic, DEFAULT_PROMETHEUS_RULES_GROUP,
};

/// Exit status: nothing regressed.
const PASS: u8 = 0;
/// Exit status: at least one statistic of one series regressed.
const REGRESSION: u8 = 1;
/// Exit status: unreadable or invalid files, or invalid options.
const BAD_INPUT: u8 = 2;

/// Compares a run against a perf-core baseline, per series and statistic,
/// with bootstrap confidence intervals and Benjamini–Hochberg correction.
///
/// Exit status: 0 no regression, 1 regression, 2 bad input.
#[derive(Parser, Debug)]
#[command(
    name = "perf-gate",
    version,
    after_help = "Also: perf-gate prometheus-rules RULES.json [--group NAME] [--out FILE] \
                  writes Prometheus alerting rules from a rules document \
                  (perf-gate prometheus-rules --help)."
)]
struct Args {
    /// The baseline file (written by `Baseline::save`).
    baseline: PathBuf,
    /// The current run's file (same format).
    current: PathBuf,
    /// Also write the report as JSON to this file (`-`: standard output,
    /// and the table goes to standard error).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Start from the `regression` section of this rules document (the
    /// JSON schema every perf-core language loads); the options below
    /// override its settings.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// A relative threshold: `0.2` for every statistic, or `p99=0.3` for
    /// one. Repeatable. Default 0.2.
    #[arg(long, value_name = "[STAT=]RATIO")]
    threshold: Vec<String>,
    /// The statistics to compare, comma-separated. Default p50,p95,p99,mean.
    #[arg(long, value_delimiter = ',', value_name = "STATS")]
    stats: Vec<String>,
    /// The significance level. Default 0.05.
    #[arg(long)]
    alpha: Option<f64>,
    /// Fewer values on either side is insufficient data. Default 30.
    #[arg(long)]
    min_samples: Option<u64>,
    /// Relative changes within this band count as no change. Default 0.01.
    #[arg(long)]
    noise: Option<f64>,
    /// Bootstrap resamples. Default 500.
    #[arg(long)]
    resamples: Option<u32>,
    /// Bootstrap seed. Default 0.
    #[arg(long)]
    seed: Option<u64>,
}

/// `perf-gate prometheus-rules`: writes Prometheus alerting rules (YAML)
/// from a perf-core rules document, for fleet-wide alerts. Rules without
/// a faithful PromQL translation are left out and listed on standard
/// error, as are settings Prometheus does not follow.
///
/// Exit status: 0 written, 2 bad input.
#[derive(Parser, Debug)]
#[command(name = "perf-gate prometheus-rules", version)]
struct RulesArgs {
    /// The rules document (the JSON schema every perf-core language loads).
    rules: PathBuf,
    /// The rule group's name (emergency triggers go to NAME-emergency).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_PROMETHEUS_RULES_GROUP)]
    group: String,
    /// Write the YAML to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Keep this label when summing across instances (`sum by (le, LABEL)`),
    /// for one alert per value of it. Repeatable.
    #[arg(long, value_name = "LABEL")]
    by: Vec<String>,
    /// Add `KEY="VALUE"` to every selector (e.g. `job=checkout`). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    matcher: Vec<String>,
    /// The unit the exposition appends to METRIC's name (as
    /// `ExpositionConfig::unit`). Repeatable.
    #[arg(long, value_name = "METRIC=UNIT")]
    unit: Vec<String>,
    /// Read histograms as native histograms (`histogram_quantile` over
    /// `rate(x[W])`, `histogram_count`, `histogram_sum`), for a Prometheus
    /// started with `--enable-feature=native-histograms`.
    #[arg(long)]
    native_histograms: bool,
}

/// The first argument that selects the `prometheus-rules` command.
const PROMETHEUS_RULES: &str = "prometheus-rules";

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    if argv.nth(1).is_some_and(|first| first == PROMETHEUS_RULES) {
        let name = std::ffi::OsString::from("perf-gate prometheus-rules");
        return prometheus_rules_main(std::iter::once(name).chain(argv));
    }
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error(&e),
    };
    match run(&args) {
        Ok(report) if report.passed() => ExitCode::from(PASS),
        Ok(_) => ExitCode::from(REGRESSION),
        Err(e) => {
            eprintln!("perf-gate: {e}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// Prints a usage error (or the help) and returns its exit status.
fn usage_error(e: &clap::Error) -> ExitCode {
    let _ = e.print();
    let ok = matches!(
        e.kind(),
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
    );
    ExitCode::from(if ok { PASS } else { BAD_INPUT })
}

/// `perf-gate prometheus-rules …` (`argv` starts with the command's name).
fn prometheus_rules_main(argv: impl Iterator<Item = std::ffi::OsString>) -> ExitCode {
    let args = match RulesArgs::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) => return usage_error(&e),
    };
    match prometheus_rules(&args) {
        Ok(()) => ExitCode::from(PASS),
        Err(e) => {
            eprintln!("perf-gate: {e}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// Translates the rules document and writes the YAML; the skipped rules
/// and the notes go to standard error.
fn prometheus_rules(args: &RulesArgs) -> Result<(), PerfError> {
    let json = std::fs::read_to_string(&args.rules).map_err(|err| PerfError::Io {
        path: args.rules.display().to_string(),
        reason: err.to_string(),
    })?;
    let mut options = PrometheusRulesOptions::new()
        .group(&args.group)
        .native_histograms(args.native_histograms);
    for label in &args.by {
        options = options.by(label)?;
    }
    for spec in &args.matcher {
        let (key, value) = pair(spec, "--matcher", "KEY=VALUE")?;
        options = options.matcher(key, value)?;
    }
    for spec in &args.unit {
        let (metric, unit) = pair(spec, "--unit", "METRIC=UNIT")?;
        options = options.unit(metric, unit)?;
    }
    let rules = RulesConfig::from_json(&json)?.to_prometheus_rules(&options)?;
    for skipped in &rules.skipped {
        eprintln!("perf-gate: skipped {skipped}");
    }
    for note in &rules.notes {
        eprintln!("perf-gate: note {note}");
    }
    let yaml = rules.to_yaml();
    match &args.out {
        Some(path) => std::fs::write(path, yaml).map_err(|e| PerfError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
        None => {
            print!("{yaml}");
            Ok(())
        }
    }
}

/// `a=b` split at the first `=`.
fn pair<'a>(spec: &'a str, option: &str, form: &str) -> Result<(&'a str, &'a str), PerfError> {
    spec.split_once('=')
        .ok_or_else(|| PerfError::InvalidConfig(format!("{option}: {spec:?} is not {form}")))
}

/// Loads both files, compares them and prints the report.
fn run(args: &Args) -> Result<RegressionReport, PerfError> {
    let policy = policy(args)?;
    let baseline = Baseline::load(&args.baseline)?;
    let current = Baseline::load(&args.current)?;
    let report = compare(&baseline, &current, &policy)?;
    match &args.json {
        Some(path) if path.as_os_str() == "-" => {
            eprint!("{report}");
            println!("{}", report.to_json());
        }
        Some(path) => {
            print!("{report}");
            std::fs::write(path, report.to_json()).map_err(|e| PerfError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        None => print!("{report}"),
    }
    Ok(report)
}

/// The `regression` section of the rules document at `path` (the default
/// policy if it has none).
fn rules_policy(path: &Path) -> Result<Policy, PerfError> {
    let json = std::fs::read_to_string(path).map_err(|err| PerfError::Io {
        path: path.display().to_string(),
        reason: err.to_string(),
    })?;
    Ok(RulesConfig::from_json(&json)?
        .regression()?
        .unwrap_or_default())
}

/// The policy the options describe.
fn policy(args: &Args) -> Result<Policy, PerfError> {
    let mut policy = match &args.rules {
        Some(path) => rules_policy(path)?,
        None => Policy::default(),
    };
    if !args.stats.is_empty() {
        let stats = args
            .stats
            .iter()
            .map(|s| statistic(s))
            .collect::<Result<Vec<_>, _>>()?;
        policy = policy.statistics(&stats);
    }
    for spec in &args.threshold {
        policy = match spec.split_once('=') {
            Some((stat, ratio)) => policy.threshold(statistic(stat)?, number(ratio)?),
            None => policy.default_threshold(number(spec)?),
        };
    }
    if let Some(alpha) = args.alpha {
        policy = policy.alpha(alpha);
    }
    if let Some(noise) = args.noise {
        policy = policy.noise(noise);
    }
    if let Some(n) = args.min_samples {
        policy = policy.min_samples(n);
    }
    if let Some(n) = args.resamples {
        policy = policy.resamples(n);
    }
    if let Some(seed) = args.seed {
        policy = policy.seed(seed);
    }
    policy.validate()?;
    Ok(policy)
}

fn statistic(text: &str) -> Result<Statistic, PerfError> {
    text.trim()
        .parse()
        .map_err(|reason| PerfError::InvalidComparison(format!("--stats/--threshold: {reason}")))
}

fn number(text: &str) -> Result<f64, PerfError> {
    let text = text.trim();
    let (digits, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 0.01),
        None => (text, 1.0),
    };
    digits
        .parse::<f64>()
        .map(|v| v * scale)
        .map_err(|_| PerfError::InvalidComparison(format!("--threshold: {text:?} is not a number")))
}
