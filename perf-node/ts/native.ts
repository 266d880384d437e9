/**
 * The native addon, loaded once. `native.js` / `native.d.ts` are generated
 * by `napi build` from the Rust sources in `src/`.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import addon = require('../native.js')

export = addon
