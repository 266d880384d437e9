#!/usr/bin/env bash
# Side-by-side change-point detection: perf-core against Apache Otava and
# MongoDB's signal-processing-algorithms (e-divisive), on the same series.
#
#   benches/changepoint/run.sh                   # everything, 100 seeds
#   SEEDS=10 benches/changepoint/run.sh          # quick smoke run
#   TOOLS="perf-core spa" benches/changepoint/run.sh
#   OTAVA_SETTINGS=default benches/changepoint/run.sh   # skip Otava's slow
#                                                # --orig-edivisive rows
#
# Series (generate.py, deterministic by seed): 200 points of N(100, 5) with a
# +15 % (3 sigma) step at index 120, without a step, and with a +5 % step at
# 120; SEEDS of each. Every tool reads the same JSON file. The table
# (report.py) gives, per tool and setting, how often the 3-sigma step is
# found within +-5 and exactly, how often the +5 % step is detected at all and
# within +-5,
# how often a no-step series gets any detection, and the time per series.
#
# Needs network access to PyPI on the first run: it creates two virtualenvs
# (separate, the tools pin incompatible numpy versions) under
# $CARGO_TARGET_DIR/changepoint-venvs (default target/, gitignored) and
# reuses them afterwards. signal-processing-algorithms requires Python 3.11
# (PYTHON=python3.11 to pick one). Not part of CI: slow (several minutes, most
# of it Otava's --orig-edivisive mode) and needs the network.
#
# Output: $CARGO_TARGET_DIR/changepoint/{series.json,results-*.json,report.md}.
# Run on an otherwise idle machine: times are wall-clock, one call per series.
set -euo pipefail

cd "$(dirname "$0")/../.."
HERE=benches/changepoint
PYTHON="${PYTHON:-python3}"
SEEDS="${SEEDS:-100}"
TOOLS="${TOOLS:-perf-core otava spa}"
OTAVA_SETTINGS="${OTAVA_SETTINGS:-all}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
VENVS="$TARGET_DIR/changepoint-venvs"
OUT="$TARGET_DIR/changepoint"

# Pinned: the versions this benchmark was written and checked against.
OTAVA_PIN="apache-otava==0.8.0"
SPA_PIN="signal-processing-algorithms==2.1.6"

want() { [[ " $TOOLS " == *" $1 "* ]]; }

# venv DIR PIN: creates DIR with PIN installed, unless it already has it.
venv() {
    local dir="$1" pin="$2"
    if [[ -x "$dir/bin/python" && "$(cat "$dir/.pinned" 2>/dev/null)" == "$pin" ]]; then
        return
    fi
    echo "== creating $dir ($pin)"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$pin"
    echo "$pin" > "$dir/.pinned"
}

echo "== machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "== python: $("$PYTHON" --version 2>&1), rustc: $(rustc --version)"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

mkdir -p "$VENVS" "$OUT"
want otava && venv "$VENVS/otava" "$OTAVA_PIN"
if want spa; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        echo "signal-processing-algorithms 2.1.6 needs Python 3.11 (Requires-Python >=3.11,<3.12);" \
             "set PYTHON=python3.11" >&2
        exit 1
    fi
    venv "$VENVS/spa" "$SPA_PIN"
fi

echo "== series ($SEEDS seeds per kind)"
"$PYTHON" "$HERE/generate.py" "$OUT/series.json" --seeds "$SEEDS"
rm -f "$OUT"/results-*.json

if want perf-core; then
    echo "== perf-core (release build)"
    nice -n 10 cargo build --quiet --release -p perf-core-benches --bin changepoint-compare
    "$TARGET_DIR/release/changepoint-compare" "$OUT/series.json" "$OUT"
fi
if want otava; then
    echo "== Apache Otava"
    if [[ "$OTAVA_SETTINGS" == all ]]; then
        "$VENVS/otava/bin/python" "$HERE/run_otava.py" "$OUT/series.json" "$OUT"
    else
        for s in $OTAVA_SETTINGS; do
            "$VENVS/otava/bin/python" "$HERE/run_otava.py" "$OUT/series.json" "$OUT" --only "$s"
        done
    fi
fi
if want spa; then
    echo "== signal-processing-algorithms (e-divisive)"
    "$VENVS/spa/bin/python" "$HERE/run_spa.py" "$OUT/series.json" "$OUT"
fi

echo
"$PYTHON" "$HERE/report.py" "$OUT/series.json" "$OUT" | tee "$OUT/report.md"
