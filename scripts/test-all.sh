#!/usr/bin/env bash
# Runs every test of every language in the workspace, installing what it needs.
# CI runs exactly this script (.ci/run); so does a developer on a fresh clone.
#
# Steps: Rust formatting and lints, every Rust test (unit, integration,
# property and doc tests), one pass of every benchmark as a smoke test, and
# the demo. Bindings (Python, Node, C) add their steps here as they land.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
failures=()

# step NAME COMMAND...: runs one step, counting it as passed or failed.
step() {
    local name=$1
    shift
    printf '\n=== %s: %s\n' "$name" "$*"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '=== %s FAILED\n' "$name"
    fi
}

# The toolchain's own components; a rustup toolchain may lack them.
ensure_rust_components() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || return 1
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy || return 1
}

# The demo must run to completion and print its tables.
run_demo() {
    local out
    out=$(cargo run --quiet --release -p perf-examples --bin demo) || return 1
    printf '%s\n' "$out" | tail -n 12
    grep -q "Last 60 s" <<<"$out"
}

step toolchain ensure_rust_components
step format cargo fmt --all -- --check
step lint cargo clippy --workspace --all-targets -- -D warnings
step rust-tests cargo test --workspace
step bench-smoke cargo bench -p perf-core-benches -- --test
step demo run_demo

echo
if ((failed > 0)); then
    echo "failed steps: ${failures[*]}"
fi
echo "test-all: ${passed} passed, ${failed} failed"
((failed == 0))
