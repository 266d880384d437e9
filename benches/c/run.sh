#!/usr/bin/env bash
# Builds the release C library and benches/c/bench_record.c with -O2
# against the static and the shared library, and runs both once (run it on
# a quiet machine). Arguments go to the program (calls per round, default
# 20 000 000).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
prefix=$target/c-prefix-release
"$root/perf-ffi/install.sh" --release "$prefix" >&2
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
gcc -std=c11 -Wall -Wextra -Werror -O2 -pthread "$root/benches/c/bench_record.c" \
    -o "$target/bench_record_static" $(pkg-config --cflags --libs perf_core-static)
gcc -std=c11 -Wall -Wextra -Werror -O2 -pthread "$root/benches/c/bench_record.c" \
    -o "$target/bench_record_shared" $(pkg-config --cflags --libs perf_core) \
    -Wl,-rpath,"$(pkg-config --variable=libdir perf_core)"
echo "$(uname -srm), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "--- static library"
"$target/bench_record_static" "$@"
echo "--- shared library"
"$target/bench_record_shared" "$@"
