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
#      example served by uvicorn under real HTTP load.
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
