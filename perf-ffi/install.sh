#!/usr/bin/env bash
# Builds perf-ffi and installs the C library under a prefix:
#   PREFIX/include/perf_core.h
#   PREFIX/lib/libperf_core.a                     static library
#   PREFIX/lib/libperf_core.so.0, libperf_core.so shared library (SONAME libperf_core.so.0)
#   PREFIX/lib/pkgconfig/perf_core.pc             pkg-config, shared
#   PREFIX/lib/pkgconfig/perf_core-static.pc      pkg-config, static
#   PREFIX/lib/cmake/perf_core/perf_coreConfig.cmake, perf_coreConfigVersion.cmake
#                                                 CMake package: perf_core::perf_core
#                                                 (shared), perf_core::perf_core_static
#   PREFIX/share/perf_core/valgrind.supp          suppressions for valgrind runs
#                                                 of programs using the library
#
# Usage: perf-ffi/install.sh [--release] PREFIX
# The Rust crate's library is named perf_core_ffi (perf_core is the engine
# crate's name in the workspace); this installs it under the C name.
# CARGO_TARGET_DIR is honoured.
set -euo pipefail

profile=debug
cargo_flags=()
if [[ ${1:-} == --release ]]; then
    profile=release
    cargo_flags+=(--release)
    shift
fi
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--release] PREFIX" >&2
    exit 2
fi
prefix=$1
crate=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$crate")
target=${CARGO_TARGET_DIR:-$root/target}

(cd "$root" && cargo build -p perf-ffi ${cargo_flags[@]+"${cargo_flags[@]}"})
built=$target/$profile

# The native libraries a program linking the static library needs, as
# rustc reports them for this target.
native=$(cd "$root" && cargo rustc -p perf-ffi --lib --crate-type staticlib \
    ${cargo_flags[@]+"${cargo_flags[@]}"} -- --print native-static-libs 2>&1 |
    sed -n 's/.*native-static-libs: //p' | tail -1)
if [[ -z $native ]]; then
    native="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc" # rustc's list on Linux
    echo "install.sh: rustc did not report native-static-libs; using: $native" >&2
fi
version=$(cd "$root" && cargo pkgid -p perf-ffi | sed 's/.*[#@]//')

# The same list as a CMake list of libraries: -lm -> m.
cmake_native=$(for flag in $native; do printf '%s;' "${flag#-l}"; done)
cmake_native=${cmake_native%;}

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/perf_core" "$prefix/share/perf_core"
prefix=$(cd "$prefix" && pwd)
install -m 644 "$crate/include/perf_core.h" "$prefix/include/perf_core.h"
install -m 644 "$built/libperf_core_ffi.a" "$prefix/lib/libperf_core.a"
install -m 755 "$built/libperf_core_ffi.so" "$prefix/lib/libperf_core.so.0"
ln -sf libperf_core.so.0 "$prefix/lib/libperf_core.so"
install -m 644 "$crate/tests/c/valgrind.supp" "$prefix/share/perf_core/valgrind.supp"
for pc in perf_core perf_core-static; do
    sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@NATIVE_LIBS@|$native|" \
        "$crate/$pc.pc.in" >"$prefix/lib/pkgconfig/$pc.pc"
done
for config in perf_coreConfig perf_coreConfigVersion; do
    sed -e "s|@VERSION@|$version|" -e "s|@NATIVE_LIBS@|$cmake_native|" \
        "$crate/cmake/$config.cmake.in" >"$prefix/lib/cmake/perf_core/$config.cmake"
done
echo "installed perf_core $version ($profile) under $prefix"
