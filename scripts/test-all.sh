#!/usr/bin/env bash
# Runs every test of every language in the workspace, installing what it
# needs first. CI runs exactly this script (.ci/run); so does a developer on a
# fresh clone: ./scripts/test-all.sh (from any directory).
#
# Steps: the toolchain check, promtool and Prometheus (installed from Debian
# if missing), a Python venv with the `hdrhistogram` package,
# Rust formatting and lints (all features), every Rust test
# (unit, integration, property and doc tests, README included), the HTTP
# exporter's tests (feature `http`), the API docs, one pass of
# every criterion benchmark as a smoke test (with the smoke runs of the fleet
# accuracy and remote-write programs), and one run of the demo. Each
# step is counted; a failed step does not stop the later ones, and the script
# ends with "test-all: N passed, M failed" and a non-zero status on failure.
# Then the bindings, each through its own script: C (scripts/test-c.sh),
# Node.js (scripts/test-node.sh: npm ci, node --test, the HTTP and Next.js
# examples), Python (scripts/test-python.sh: a venv, maturin develop,
# stubtest, mypy, pytest with the FastAPI example under uvicorn).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

passed=0
failed=0
failures=()

# step NAME COMMAND...: runs one step under a header, counting it as passed
# or failed (errexit does not apply inside it: the `if` catches the status).
step() {
    local name=$1
    shift
    local started=$SECONDS
    printf '\n=== %s: %s\n' "$name" "$*"
    if "$@"; then
        passed=$((passed + 1))
        printf '=== %s: ok (%d s)\n' "$name" $((SECONDS - started))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '=== %s: FAILED (%d s)\n' "$name" $((SECONDS - started))
    fi
}

# The rustfmt and clippy components if the toolchain lacks them (the
# machine's one Rust toolchain comes from rustup; nothing else is fetched).
ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
        # shellcheck source=/dev/null
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust"; return 1; }
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || return 1
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy || return 1
    cargo --version && rustc --version
}

# Debian's `prometheus` package: promtool, which the exposition tests use to
# validate perf-core's Prometheus and OpenMetrics output, and the Prometheus
# server that the scrape integration test starts on loopback.
ensure_prometheus() {
    if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
            return 1
    fi
    promtool --version | head -1 && prometheus --version | head -1
}

# A Python venv with the `hdrhistogram` package (PyPI), the independent
# implementation the HdrHistogram interop test exchanges V2 strings with.
ensure_interop_python() {
    local venv=target/venv-interop
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install -q --disable-pip-version-check -r perf-core/tests/requirements-interop.txt || return 1
    export PERF_CORE_INTEROP_PYTHON="$PWD/$venv/bin/python"
}

# The optional features' tests and doc examples: the HTTP server (feature
# `http`: its unit tests and content negotiation, the attack tests, a
# scrape by a real Prometheus server, and a fleet p95 from native
# histograms through two of them), remote write (feature `remote-write`:
# loopback receivers that accept, fail, hang, close and come back, and a
# real Prometheus restarted mid-run; built with `http` so one build serves
# both) and the `metrics` facade adapter (feature `metrics`;
# the global recorder has its own test binary).
feature_tests() {
    cargo test -p perf-core --features http,remote-write --lib -- export::http monitor::http export::remote_write &&
        cargo test -p perf-core --features http,remote-write --test http_exporter --test http_attacks --test prometheus_server --test native_histogram_prometheus --test remote_write --test remote_write_prometheus &&
        cargo test -p perf-core --features http,remote-write --doc -- http MetricsServer serve_metrics ServerLimits remote_write RemoteWrite prompb &&
        cargo test -p perf-core --features metrics --test metrics_adapter --test metrics_global &&
        cargo test -p perf-core --features metrics --doc -- metrics_recorder
}

# One pass of every criterion bench (`-- --test`), if the benches crate has
# bench targets; otherwise just check that it builds. Then the smoke runs of
# issue 18's programs (docs/benchmarks.md, "Beyond one host"), run from that
# build (`cargo bench` builds the package's binaries too; a `cargo run
# --release` would compile the workspace again with other features): a
# fleet p95 from native histograms through a real Prometheus within 1 % of
# the exact one (about 20 s), and remote write of 1,000 series to a
# loopback receiver (under a second).
bench_smoke() {
    local bin="${CARGO_TARGET_DIR:-target}/release"
    if compgen -G 'benches/benches/*.rs' >/dev/null; then
        cargo bench -p perf-core-benches --features http,remote-write -- --test
    else
        cargo bench -p perf-core-benches --features http,remote-write --no-run
    fi &&
        "$bin/fleet-accuracy" --smoke &&
        "$bin/remote-write-throughput" --smoke
}

# The demo must run to completion, raise and resolve its alert on the slow
# spell, switch emergency mode on and off (shedding requests meanwhile), and
# print its tables, the budget report and a Prometheus exposition excerpt.
run_demo() {
    local out pattern
    out=$(cargo run --release -p perf-examples --bin demo </dev/null) || return 1
    printf '%s\n' "$out"
    for pattern in '^Traffic over the last' ' FIRED ' ' RESOLVED ' '^Budget api-latency' \
        '^api-latency .*route="/api/search".* p95 .* poor' \
        ' ACTIVATED +by triggers ' ' DEACTIVATED +by triggers ' '^Requests shed while on: [1-9]' \
        '^  http_server_duration_bucket\{method="GET",route="/api/search",le="\+Inf"\} [1-9]'; do
        grep -qE -- "$pattern" <<<"$out" || {
            echo "the demo's output lacks /$pattern/"
            return 1
        }
    done
}

step toolchain ensure_rust
step prometheus ensure_prometheus
step interop-python ensure_interop_python
# Tests that need promtool, Prometheus or the interop Python fail without them.
export PERF_CORE_REQUIRE_EXTERNAL=1
step format cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets --all-features -- -D warnings
step rust-tests cargo test --workspace
step features feature_tests
step rust-docs env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
step bench-smoke bench_smoke
# The bindings, each with its own script (which installs what it needs).
step c bash scripts/test-c.sh
step node bash scripts/test-node.sh
step python bash scripts/test-python.sh
step demo run_demo

echo
if ((failed > 0)); then
    echo "test-all: FAILED steps: ${failures[*]}"
fi
echo "test-all: ${passed} passed, ${failed} failed"
((failed == 0))
