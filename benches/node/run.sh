#!/usr/bin/env bash
# Builds perf-node's release addon, installs the peers, and runs the
# side-by-side benchmark (bench.js). Extra arguments go to bench.js
# (--quick for a short run); with `multiprocess` first, runs the cluster
# scrape comparison (multiprocess.js) instead. Run it on a quiet machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root/perf-node" && npm ci --no-audit --no-fund && npm run build:release)
(cd "$here" && npm ci --no-audit --no-fund)
if [[ "${1:-}" == multiprocess ]]; then
    shift
    node "$here/multiprocess.js" "$@"
else
    node "$here/bench.js" "$@"
fi
