#!/usr/bin/env bash
# Tests of the Python binding (perf-py), from any directory:
#   1. creates (or reuses) the venv target/venv-py and installs the pinned
#      tools of perf-py/requirements-dev.txt (pip skips what is installed);
#   2. builds the native module into the venv (maturin develop, dev
#      profile, cargo target dir target/h-py);
#   3. checks the .pyi stubs against the module (mypy.stubtest) and type
#      checks the package, the example and the tests (mypy --strict);
#   4. runs pytest: every API, error paths, callbacks, threads, the
#      examples (quickstart, Flask and Django recipes), and the FastAPI
#      example served by uvicorn under real HTTP load;
#   5. installs the package as a user would, `pip install ./perf-py` into a
#      new venv (target/venv-py-pip), and uses it.
# Exits non-zero on the first failure. PYTHON selects the interpreter
# (>= 3.10; default python3); PERF_PY_VENV and CARGO_TARGET_DIR move the
# venv and the build (defaults target/venv-py and target/h-py); arguments
# are passed to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PERF_PY_VENV:-$root/target/venv-py}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/h-py}"

python -m pip install --quiet --disable-pip-version-check -r "$root/perf-py/requirements-dev.txt"

echo "--- build (maturin develop)"
(cd "$root/perf-py" && maturin develop --quiet)

echo "--- stubtest and mypy"
(cd "$root/target" && python -m mypy.stubtest perf_core)
python -m mypy --config-file "$root/perf-py/pyproject.toml" --cache-dir "$root/target/mypy-py" \
    "$root/perf-py/python/perf_core" "$root/examples/python" "$root/perf-py/tests"

echo "--- pytest"
python -m pytest -q "$root/perf-py/tests" "$@"

# What a user runs: `pip install ./perf-py` into a new venv (maturin is the
# PEP 517 backend, fetched from PyPI by pip; the dev profile reuses the
# build above), then the installed package is imported and used.
echo "--- pip install ./perf-py (a new venv)"
user_venv="$root/target/venv-py-pip"
rm -rf "$user_venv"
"$python" -m venv "$user_venv"
(cd "$root" && MATURIN_PEP517_ARGS="--profile dev" "$user_venv/bin/pip" install --quiet \
    --disable-pip-version-check ./perf-py)
(cd "$root/target" && "$user_venv/bin/python" - <<'PY'
import pathlib
import perf_core

package = pathlib.Path(perf_core.__file__).parent
assert (package / "py.typed").exists() and (package / "_native.pyi").exists(), package
monitor = perf_core.Monitor()
with monitor.timer("http.server.duration", route="/users"):
    pass
monitor.record("http.server.duration", 12.5, route="/users")
assert monitor.stats("http.server.duration", route="/users").count == 2
assert "http_server_duration_count" in monitor.export_prometheus()
print("pip-installed perf_core works:", package)
PY
)
