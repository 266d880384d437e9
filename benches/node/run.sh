#!/usr/bin/env bash
# Builds perf-node's release addon, installs the peers, and runs the
# side-by-side benchmark (bench.js). Extra arguments go to bench.js
# (--quick for a short run). Run it on a quiet machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root/perf-node" && npm ci --no-audit --no-fund && npm run build:release)
(cd "$here" && npm ci --no-audit --no-fund)
node "$here/bench.js" "$@"
