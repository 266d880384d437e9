//! Gives the shared library the SONAME C programs link against:
//! `libperf_core.so.0` (the Rust library is named `perf_core_ffi`, because
//! `perf_core` is the engine crate's name in this workspace; install.sh
//! installs the file as `libperf_core.so.0` with a `libperf_core.so` link).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libperf_core.so.0");
    }
}
