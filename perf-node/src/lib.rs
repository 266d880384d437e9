//! # perf-node
//!
//! The Node.js binding of perf-core: a Node-API addon (napi-rs) that the
//! TypeScript facade in `ts/` wraps into the npm package `perf-core`.
//!
//! The addon is thin. It converts JavaScript values to perf-core types and
//! back, maps [`perf_core::PerfError`] to JavaScript errors in one place
//! ([`error`]), and adds what only native code can do for Node: batched
//! recording from a JavaScript buffer ([`handles`]), exports computed off the
//! main thread ([`export`]), and alert and emergency callbacks delivered
//! through unref'd thread-safe functions ([`callbacks`]). All logic lives in
//! perf-core.
//!
//! The classes here are prefixed `Native`; JavaScript users see the facade's
//! `Monitor`, `Histogram`, `Counter`, `Gauge`, `ManualClock` and `Baseline`.

#![deny(clippy::all)]

pub mod callbacks;
pub mod clock;
pub mod convert;
pub mod error;
pub mod export;
pub mod handles;
pub mod monitor;
pub mod regression;
