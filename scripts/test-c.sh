#!/usr/bin/env bash
# Tests of the C API (perf-ffi), from any directory, on a fresh clone too:
#
#   tools      gcc, g++, make, pkg-config, valgrind and cmake (apt-get if
#              missing; as root without sudo, else through sudo)
#   rust       perf-ffi's Rust tests: the error mapping, the panic boundary,
#              conversions, and tests/header.rs, which fails if the committed
#              include/perf_core.h is not what cbindgen generates now
#   install    perf-ffi/install.sh into $TARGET/c-prefix (debug build):
#              libperf_core.{a,so}, the header, two pkg-config files, the
#              CMake package
#   pkg-config `pkg-config --static --libs perf_core` lists what
#              perf_core-static.pc does, and a C program links statically
#              with it; valgrind.supp is installed
#   cmake      perf-ffi/tests/cmake, a consumer project, configured with
#              find_package(perf_core) against the prefix, built with both
#              imported targets (shared, static) and run
#   header     the header alone compiles as C11 (-pedantic) and as C++11
#   coverage   every function the header declares is called by a C test
#   static / shared   tests/c/*.c built with gcc -std=c11 -Wall -Wextra
#              -Werror against the static and the shared library (through
#              pkg-config), then run
#   valgrind-static / valgrind-shared   the same under valgrind
#              --error-exitcode=1 --leak-check=full
#   example    examples/c built with its Makefile and run; its output checked
#   bench      benches/c builds and runs a few iterations (a smoke test;
#              numbers come from benches/c/run.sh on a release build)
#
# Each step is counted; the script ends with "test-c: N passed, M failed"
# and a non-zero status if any step failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
target=${CARGO_TARGET_DIR:-$root/target}
prefix=$target/c-prefix
build=$target/c-tests
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=(-std=c11 -Wall -Wextra -Werror -g -O1 -pthread)
valgrind=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
    --suppressions="$prefix/share/perf_core/valgrind.supp" -q)

passed=0
failed=0
failures=()

# step NAME COMMAND...: runs one step, counting it as passed or failed.
step() {
    local name=$1
    shift
    local started=$SECONDS
    printf '\n=== c/%s\n' "$name"
    if "$@"; then
        passed=$((passed + 1))
        printf '=== c/%s: ok (%d s)\n' "$name" $((SECONDS - started))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '=== c/%s: FAILED (%d s)\n' "$name" $((SECONDS - started))
    fi
}

# The C toolchain and valgrind, from Debian if any is missing.
ensure_tools() {
    local missing=() tool
    for tool in gcc g++ make pkg-config valgrind cmake; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if ((${#missing[@]} > 0)); then
        echo "installing ${missing[*]}"
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
                gcc g++ make pkg-config valgrind cmake libc6-dev >/dev/null || return 1
    fi
    gcc --version | head -1 && valgrind --version && cmake --version | head -1
}

check_header() {
    local header=$prefix/include/perf_core.h
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$header" &&
        g++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -x c++ "$header" &&
        printf '#include "perf_core.h"\nint main(void) { return perf_version() == 0; }\n' |
        g++ -std=c++11 -Wall -Wextra -Werror -I"$prefix/include" -x c++ - -x none \
            -o "$build/cxx_smoke" "$(pkg-config --variable=libdir perf_core-static)/libperf_core.a" \
            -lpthread -ldl -lm &&
        "$build/cxx_smoke"
}

# Every function the header declares is called somewhere in tests/c.
check_coverage() {
    local functions missing=0 f
    functions=$(grep -oE '^[a-z].*\bperf_[a-z0-9_]+\(' perf-ffi/include/perf_core.h |
        grep -oE 'perf_[a-z0-9_]+\($' | tr -d '(' | sort -u)
    for f in $functions; do
        if ! grep -qE "\\b$f\\(" perf-ffi/tests/c/*.c; then
            echo "not called by any C test: $f"
            missing=$((missing + 1))
        fi
    done
    echo "$(wc -w <<<"$functions") functions declared, $missing not tested"
    ((missing == 0))
}

# The installed pkg-config files: `pkg-config --static perf_core` lists the
# native libraries the static library needs (Libs.private), as
# perf_core-static.pc does; the valgrind suppressions are installed.
check_pkg_config() {
    local private static
    private=$(pkg-config --static --libs perf_core) || return 1
    static=$(pkg-config --libs perf_core-static) || return 1
    for lib in $static; do
        [[ $lib == *.a ]] && continue
        grep -qw -- "$lib" <<<"$private" || {
            echo "pkg-config --static perf_core lacks $lib: $private"
            return 1
        }
    done
    [[ -s $prefix/share/perf_core/valgrind.supp ]] || {
        echo "valgrind.supp is not installed"
        return 1
    }
    # The flag alone links the shared library when both are installed, so
    # name the archive, as docs/c.md says, and take the rest from --static.
    local archive flags
    archive="$(pkg-config --variable=libdir perf_core)/libperf_core.a"
    read -ra flags <<<"$(pkg-config --static --cflags --libs perf_core | sed 's/-lperf_core\b//')"
    printf '%s\n' '#include "perf_core.h"' \
        'int main(void) { perf_monitor *m = NULL; int ok = perf_monitor_new(&m) == PERF_OK;' \
        '    perf_monitor_free(m); return !ok; }' >"$build/pkg_config_static.c"
    gcc -std=c11 -Wall -Wextra -Werror "$build/pkg_config_static.c" -o "$build/pkg_config_static" \
        "$archive" "${flags[@]}" &&
        "$build/pkg_config_static" &&
        loads_no_libperf_core "$build/pkg_config_static"
}

# Whether PROGRAM does not load libperf_core.so (ldd's output is read whole:
# `ldd | grep -q` fails under pipefail when grep stops reading early).
loads_no_libperf_core() {
    local loaded
    loaded=$(ldd "$1") || return 1
    if grep -q libperf_core <<<"$loaded"; then
        echo "$1 loads libperf_core.so"
        return 1
    fi
}

# A CMake project using the installed package builds and runs, with each
# imported target (the shared one must really load libperf_core.so.0).
check_cmake() {
    local dir=$build/cmake-consumer
    rm -rf "$dir"
    cmake -S perf-ffi/tests/cmake -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null &&
        cmake --build "$dir" >/dev/null &&
        "$dir/consumer_shared" && "$dir/consumer_static" &&
        loads_no_libperf_core "$dir/consumer_static" || return 1
    local loaded
    loaded=$(ldd "$dir/consumer_shared") || return 1
    grep -q "libperf_core\.so\.0 => $prefix" <<<"$loaded" || {
        echo "consumer_shared does not load $prefix/lib/libperf_core.so.0"
        return 1
    }
}

# build_tests KIND: builds tests/c/test_*.c against the KIND library.
build_tests() {
    local kind=$1 src name libs
    if [[ $kind == static ]]; then
        read -ra libs <<<"$(pkg-config --cflags --libs perf_core-static)"
    else
        read -ra libs <<<"$(pkg-config --cflags --libs perf_core)"
        libs+=(-Wl,-rpath,"$(pkg-config --variable=libdir perf_core)" -lm)
    fi
    for src in perf-ffi/tests/c/test_*.c; do
        name=$(basename "$src" .c)
        gcc "${cflags[@]}" "$src" -o "$build/${name}_$kind" "${libs[@]}" || return 1
    done
    if [[ $kind == shared ]]; then
        # The shared build really loads the shared library.
        local loaded
        loaded=$(ldd "$build/test_api_shared") || return 1
        grep -q 'libperf_core\.so\.0 => '"$prefix" <<<"$loaded" || {
            echo "test_api_shared does not load $prefix/lib/libperf_core.so.0"
            return 1
        }
    fi
}

# run_tests KIND [RUNNER...]: runs the KIND build of every test, under
# RUNNER if given; the threads test records fewer values under valgrind.
# test_multiprocess forks a pre-forking server's children, which stay under
# valgrind; its leak check is off: in a forked child, what the parent's
# threads allocated (their thread-locals) is unreachable by nature, not a
# leak. Memory errors are still checked in the parent and the children.
run_tests() {
    local kind=$1
    shift
    local records=200000
    (($# > 0)) && records=20000
    build_tests "$kind" &&
        "$@" "$build/test_api_$kind" &&
        "$@" "$build/test_threads_$kind" "$records" &&
        "$@" $( (($# > 0)) && echo --leak-check=no) "$build/test_multiprocess_$kind"
}

run_example() {
    local out pattern
    make -s -C examples/c BUILD="$build/example" >/dev/null || return 1
    out=$("$build/example/service") || return 1
    printf '%s\n' "$out"
    for pattern in '^ALERT fired warning slow-requests on http\.server\.duration\{route="/api/search"\}' \
        '^/api/search +requests=20000 ' '^/api/users +requests=20000 ' \
        '^http_server_duration_count\{route="/api/search"\} 20000$' \
        '^http_server_requests_total\{route="/api/users"\} 20000$'; do
        grep -qE -- "$pattern" <<<"$out" || {
            echo "the example's output lacks /$pattern/"
            return 1
        }
    done
}

run_bench_smoke() {
    gcc -std=c11 -Wall -Wextra -Werror -O2 -pthread benches/c/bench_record.c -o "$build/bench_record" \
        $(pkg-config --cflags --libs perf_core-static) &&
        "$build/bench_record" 10000
}

mkdir -p "$build"
step tools ensure_tools
step rust cargo test -p perf-ffi
step install perf-ffi/install.sh "$prefix"
step pkg-config check_pkg_config
step cmake check_cmake
step header check_header
step coverage check_coverage
step static run_tests static
step shared run_tests shared
step valgrind-static run_tests static "${valgrind[@]}"
step valgrind-shared run_tests shared "${valgrind[@]}"
step example run_example
step bench run_bench_smoke

echo
if ((failed > 0)); then
    echo "test-c: FAILED steps: ${failures[*]}"
fi
echo "test-c: ${passed} passed, ${failed} failed"
((failed == 0))
