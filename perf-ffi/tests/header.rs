//! The committed header, include/perf_core.h, must be exactly what cbindgen
//! generates from the sources now. `PERF_FFI_BLESS=1` rewrites it instead
//! of failing.

use std::path::Path;

/// The compile-time version macros, from the crate's version (which
/// `perf_version()` and `perf_version_number()` report at run time).
fn version_macros() -> String {
    format!(
        "\n/* The version of perf-core this header belongs to; perf_version() and\n \
         * perf_version_number() give the library's at run time. */\n\
         #define PERF_CORE_VERSION_MAJOR {major}\n\
         #define PERF_CORE_VERSION_MINOR {minor}\n\
         #define PERF_CORE_VERSION_PATCH {patch}\n\
         #define PERF_CORE_VERSION \"{version}\"\n\
         /* major * 10000 + minor * 100 + patch, for #if comparisons. */\n\
         #define PERF_CORE_VERSION_NUMBER \\\n  \
         (PERF_CORE_VERSION_MAJOR * 10000 + PERF_CORE_VERSION_MINOR * 100 + PERF_CORE_VERSION_PATCH)\n",
        major = env!("CARGO_PKG_VERSION_MAJOR"),
        minor = env!("CARGO_PKG_VERSION_MINOR"),
        patch = env!("CARGO_PKG_VERSION_PATCH"),
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[test]
fn the_committed_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");
    let path = dir.join("include/perf_core.h");
    if std::env::var_os("PERF_FFI_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("include/perf_core.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/perf_core.h is stale: regenerate it with \
         `PERF_FFI_BLESS=1 cargo test -p perf-ffi --test header` and commit it"
    );
}
