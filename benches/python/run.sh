#!/usr/bin/env bash
# Python recording benchmark (benches/python/bench.py), from any directory:
# builds a release wheel of perf-py (cargo target dir target/h-py), installs
# it with the pinned peers into its own venv target/venv-py-bench (so the
# test venv keeps its dev build), and runs the benchmark. Arguments are
# passed to bench.py (--number, --repeat, --json); with `multiprocess` first,
# runs the multi-process scrape comparison (multiprocess.py) instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/target/venv-py-bench"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/h-py}"
[[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "$(grep '^maturin==' "$root/perf-py/requirements-dev.txt")" \
    "$(grep '^prometheus_client==' "$root/perf-py/requirements-dev.txt")" \
    "$(grep '^hdrhistogram==' "$root/perf-py/requirements-dev.txt")"
wheels="$CARGO_TARGET_DIR/wheels"
rm -rf "$wheels"
"$venv/bin/maturin" build --release --quiet -m "$root/perf-py/Cargo.toml" -o "$wheels"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
    --no-deps "$wheels"/perf_core-*.whl
cd "$root/target"
if [[ "${1:-}" == multiprocess ]]; then
    shift
    "$venv/bin/python" "$root/benches/python/multiprocess.py" "$@"
else
    "$venv/bin/python" "$root/benches/python/bench.py" "$@"
fi
