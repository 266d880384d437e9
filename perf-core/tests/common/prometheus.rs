//! A Debian `prometheus` server on loopback for the integration tests:
//! started against some targets, asked through its query API, killed (and
//! its data removed) on drop. Included with `#[path]` by the tests that
//! need it, and by the fleet accuracy program of the benches
//! (`benches/src/bin/fleet_accuracy.rs`).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a query waits for a result.
pub const WAIT: Duration = Duration::from_secs(60);

/// A Prometheus server scraping its targets every second.
pub struct Prometheus {
    child: Child,
    pub url: String,
    dir: PathBuf,
    /// The command line, to start it again on the same port and data.
    args: Vec<String>,
}

impl Prometheus {
    /// Starts `prometheus` scraping `targets` (`host:port`) every second,
    /// with `flags` added to its command line.
    pub fn start(targets: &[String], flags: &[&str]) -> Prometheus {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Tests and benches have a target temporary directory; a program
        // (benches/src/bin/fleet_accuracy.rs) uses the system's.
        let tmp = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from);
        let dir = tmp.join(format!("prometheus-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: perf-core\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let mut args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".to_owned(),
        ];
        args.extend(flags.iter().map(|f| f.to_string()));
        Prometheus {
            child: spawn(&args),
            url: format!("http://127.0.0.1:{port}"),
            dir,
            args,
        }
    }

    /// Stops the server (SIGTERM, as a service manager would), keeping its
    /// data for [`Self::restart`].
    pub fn stop(&mut self) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }

    /// Starts the stopped server again, same port and data directory.
    pub fn restart(&mut self) {
        self.child = spawn(&self.args);
    }

    /// Waits (up to [`WAIT`]) until the query API answers.
    pub fn wait_ready(&self) {
        self.query_until("vector(1)", |v| v == 1.0);
    }

    /// The value of an instant query with exactly one result, once
    /// Prometheus has one that satisfies `ready` (polling up to [`WAIT`]).
    pub fn query_until(&self, query: &str, ready: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = self.query(query).filter(|&v| ready(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no result for {query} within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The value of an instant query now, if it has one result.
    pub fn query(&self, query: &str) -> Option<f64> {
        self.query_at(query, None)
    }

    /// The value of an instant query evaluated at `time` (Unix seconds;
    /// now when `None`), if it has one result.
    pub fn query_at(&self, query: &str, time: Option<f64>) -> Option<f64> {
        let mut request = ureq::get(&format!("{}/api/v1/query", self.url)).query("query", query);
        if let Some(time) = time {
            request = request.query("time", format!("{time:.3}"));
        }
        let text = request.call().ok()?.body_mut().read_to_string().ok()?;
        let body: Value = serde_json::from_str(&text).ok()?;
        let result = body["data"]["result"].as_array()?;
        assert!(result.len() <= 1, "{query}: {result:?}");
        result.first()?["value"][1].as_str()?.parse().ok()
    }
}

fn spawn(args: &[String]) -> Child {
    Command::new("prometheus")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start prometheus")
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `prometheus` runs; without it, a note (and a failure only when
/// `PERF_CORE_REQUIRE_EXTERNAL=1`) via `common::external_tool_available`.
pub fn prometheus_available() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    crate::common::external_tool_available(found, "prometheus")
}
