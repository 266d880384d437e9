#!/usr/bin/env bash
# Instructions per call of the C hot paths (benches/c/hot_paths.c) under
# callgrind, which counts instructions whatever else the machine runs.
# Usage: benches/c/count.sh REPO_DIR LABEL — builds REPO_DIR's release
# static library (another checkout: compare two commits) and prints the
# inclusive count per call of each loop.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
repo=$1; label=$2
out=${TMPDIR:-/tmp}/perf-core-hot-paths
mkdir -p "$out"
export CARGO_TARGET_DIR=$repo/target
prefix=$repo/target/c-prefix-release
"$repo/perf-ffi/install.sh" --release "$prefix" >/dev/null 2>&1
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
gcc -std=c11 -O2 -pthread "$root/benches/c/hot_paths.c" -o "$out/hot_paths-$label" $(pkg-config --cflags --libs perf_core-static)
valgrind --tool=callgrind --callgrind-out-file="$out/cg-$label.out" "$out/hot_paths-$label" >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out/cg-$label.out" 2>/dev/null | grep -E "perf_(histogram_record|counter_increment|gauge_set|record) " |
    awk -v l="$label" '{gsub(",","",$1); printf "%s %s %.1f Ir/call\n", l, $4, $1/200000}'
