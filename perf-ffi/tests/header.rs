//! The committed header, include/perf_core.h, must be exactly what cbindgen
//! generates from the sources now. `PERF_FFI_BLESS=1` rewrites it instead
//! of failing.

use std::path::Path;

#[test]
fn the_committed_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
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
