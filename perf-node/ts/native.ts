/**
 * The native addon, loaded once. `native.js` / `native.d.ts` are generated
 * by `napi build` from the Rust sources in `src/`.
 *
 * perf-core is a native Node.js addon: runtimes that cannot load one (the
 * Edge runtime of Next.js and Vercel, other V8-isolate runtimes) get one
 * clear error here, before the generated loader runs and reports a missing
 * binary as an npm bug.
 */
import type * as Addon from '../native'

/** The error for a runtime that cannot load the addon. */
function unsupportedRuntime(runtime: string): Error & { code: string } {
  const err = new Error(
    `perf-core cannot run in the ${runtime}: it is a native Node.js addon, which only the Node.js runtime loads. ` +
      "In Next.js, run the route on the Node.js runtime: add `export const runtime = 'nodejs'` to the route, " +
      'page or layout file (and drop `runtime = \'edge\'`), or import perf-core only from Node.js code ' +
      "(in instrumentation.ts, behind `if (process.env.NEXT_RUNTIME === 'nodejs')`).",
  ) as Error & { code: string }
  err.code = 'ERR_PERF_UNSUPPORTED_RUNTIME'
  return err
}

/** The name of the runtime if it is one that cannot load native addons. */
function edgeRuntime(): string | undefined {
  const g = globalThis as { EdgeRuntime?: unknown; process?: { env?: Record<string, string | undefined> } }
  if (g.EdgeRuntime !== undefined) return 'Edge runtime'
  if (g.process?.env?.NEXT_RUNTIME === 'edge') return 'Edge runtime'
  return undefined
}

function load(): typeof Addon {
  const runtime = edgeRuntime()
  if (runtime !== undefined) throw unsupportedRuntime(runtime)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../native.js') as typeof Addon
}

const addon = load()

export = addon
