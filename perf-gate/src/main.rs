//! `perf-gate`: the CI gate. Compares a run's histograms against a
//! baseline (both perf-core baseline files) and exits 0 when nothing
//! regressed, 1 when something did, 2 on bad input.
//!
//! ```text
//! perf-gate baseline.json current.json                 # table on stdout
//! perf-gate baseline.json current.json --json report.json
//! perf-gate baseline.json current.json --threshold 0.1 --threshold p99=0.3 --alpha 0.01
//! ```
//!
//! See `docs/regression.md` for the method and how to wire it into CI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use perf_core::{compare, Baseline, PerfError, Policy, RegressionReport, RulesConfig, Statistic};

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
#[command(name = "perf-gate", version)]
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

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            let ok = matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            );
            return ExitCode::from(if ok { PASS } else { BAD_INPUT });
        }
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
