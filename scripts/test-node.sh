#!/usr/bin/env bash
# Tests of the Node.js binding (perf-node, npm package `perf-core`) and its
# examples, from a fresh clone or again (installs are reused when the lock
# files have not changed). Works from any directory; exits non-zero on the
# first failure.
#
#   1. perf-node: npm ci, build the addon (debug) and the TypeScript facade,
#      node --test tests/; the generated native.d.ts is the committed one,
#      and the shipped types compile under tsc --strict (no skipLibCheck)
#   2. examples/node/http-server: npm ci, integration test under autocannon load
#   3. examples/node/nextjs-app: npm ci, next build + next start + checks
#
# Set PERF_NODE_SKIP_NEXT=1 to skip step 3. Cargo builds into
# $CARGO_TARGET_DIR (default: the workspace's target/), so a preceding
# `cargo build --workspace` is reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export NEXT_TELEMETRY_DISABLED=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

# npm_ci DIR: `npm ci` in DIR unless node_modules matches package-lock.json.
npm_ci() {
    local dir=$1 stamp="$1/node_modules/.perf-core-lock"
    if [[ -f "$stamp" ]] && cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "test-node: $dir: node_modules up to date"
    else
        (cd "$dir" && npm ci)
        cp "$dir/package-lock.json" "$stamp"
    fi
}

started=$SECONDS
echo "=== test-node: perf-node (build + node --test)"
npm_ci "$root/perf-node"
(cd "$root/perf-node" && npm run build && node --test tests/)

# The shipped types: the generated native.d.ts must be the committed one
# (rebuild and commit it after changing the addon's API), and everything
# a TypeScript user imports must compile under --strict without
# skipLibCheck.
echo "=== test-node: shipped types (native.d.ts up to date, tsc --strict)"
if ! git -C "$root" diff --quiet -- perf-node/native.d.ts 2>/dev/null; then
    echo "test-node: perf-node/native.d.ts differs from what the build generates:"
    git -C "$root" diff --stat -- perf-node/native.d.ts
    exit 1
fi
(cd "$root/perf-node" && node_modules/.bin/tsc --noEmit --strict --skipLibCheck false \
    --types node lib/index.d.ts native.d.ts)

echo "=== test-node: examples/node/http-server (integration under load)"
npm_ci "$root/examples/node/http-server"
(cd "$root/examples/node/http-server" && node --test test/)

if [[ "${PERF_NODE_SKIP_NEXT:-0}" != 1 ]]; then
    echo "=== test-node: examples/node/nextjs-app (next build + next start)"
    app="$root/examples/node/nextjs-app"
    npm_ci "$app"
    # perf-core is copied into node_modules (install-links): refresh the copy
    # with the addon just built.
    rm -rf "$app/node_modules/perf-core"
    (cd "$app" && npm install --no-save --ignore-scripts)
    (cd "$app" && node --test test/)
fi
echo "=== test-node: all passed ($((SECONDS - started)) s)"
