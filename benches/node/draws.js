'use strict'
// Deterministic log-normal draws for the Node benches: mulberry32 for the
// uniforms, Box-Muller for the normal, so every run sees the same values.

/** A function drawing log-normal values of median `median` and shape `sigma`, from `seed`. */
function lognormal(seed, median, sigma) {
  let a = seed >>> 0
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => {
    const z = Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform())
    return Math.exp(Math.log(median) + sigma * z)
  }
}

module.exports = { lognormal }
