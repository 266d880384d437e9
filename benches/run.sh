#!/usr/bin/env bash
# Runs the perf-core comparison benches side by side and prints a summary.
#
#   benches/run.sh                 # all groups, quick but stable settings
#   benches/run.sh record          # only groups/functions matching a filter
#   WARMUP=3 MEASURE=10 benches/run.sh   # longer, for publishing numbers
#
# Timing groups (criterion, benches/benches/compare.rs): record,
# record_2threads, lookup, snapshot — perf-core and each peer are functions of
# the same group; then rule evaluation (benches/benches/rules.rs: evaluate,
# no peer evaluates rules in-process), then reading the emergency flag
# (benches/benches/emergency.rs: emergency, against a bare atomic and a lock),
# then exports of 10,000 series (benches/benches/export.rs: export, against
# prometheus-client and prometheus), then multi-process mode
# (benches/benches/multiprocess.rs: multiprocess_scrape, multiprocess_record;
# the scrape against prometheus_client and prom-client is in
# benches/python/run.sh multiprocess and benches/node/run.sh multiprocess).
# Then the memory tables (benches/benches/memory.rs), then a
# summary table per group read from target/criterion. Results also land in
# target/criterion/report/index.html. Run it on an otherwise idle machine.
#
# Change-point detection against Apache Otava and signal-processing-algorithms
# has its own script (Python virtualenvs from PyPI, several minutes):
# benches/changepoint/run.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
WARMUP="${WARMUP:-1}"
MEASURE="${MEASURE:-3}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET_DIR/perf-core-benches"
mkdir -p "$OUT"

echo "== machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "== rustc: $(rustc --version)"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

echo "== timing benches (warm-up ${WARMUP}s, measurement ${MEASURE}s per function)"
cargo bench -p perf-core-benches --bench compare -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== rule evaluation (1,000 rules over 10,000 series)"
cargo bench -p perf-core-benches --bench rules -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== emergency mode: reading the flag (is_active)"
cargo bench -p perf-core-benches --bench emergency -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== exports of 10,000 series (every format, against prometheus-client and prometheus)"
cargo bench -p perf-core-benches --bench export -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== multi-process mode: merged scrape vs one process, record with the mode on and off"
cargo bench -p perf-core-benches --bench multiprocess -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== a scrape of /metrics over HTTP (1,000 series, loopback)"
cargo bench -p perf-core-benches --features http --bench http -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" "$@"

echo "== memory"
cargo bench -p perf-core-benches --bench memory | tee "$OUT/memory.md"

echo
cargo run -q --release -p perf-core-benches --bin bench-summary -- "$TARGET_DIR/criterion" \
    | tee "$OUT/summary.md"
echo
cat "$OUT/memory.md"
echo
echo "== summary saved to $OUT/summary.md and $OUT/memory.md"
