//! The Rust column of the parity manifest (`docs/parity.md`) against the
//! core's public operations: every `pub fn` of the operation types and
//! every crate-root free function is listed, and every listed name exists.
//!
//! The operations are read from the sources: `pub fn` items at the first
//! indentation level of an inherent `impl Type {` block, and `pub fn` items
//! at the top level of a module. This follows the crate's layout (one
//! `impl` per concept, rustfmt-formatted), which `cargo fmt --check` keeps.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The types whose public functions are operations a binding may bind.
const OPERATION_TYPES: &[&str] = &[
    "Monitor",
    "MonitorBuilder",
    "Histogram",
    "HistogramTimer",
    "Counter",
    "Gauge",
    "Emergency",
    "Baseline",
    "ManualClock",
    "MetricsServer",
    "ChangePointDetector",
];

/// One row of the manifest: the four cells.
struct Row {
    cells: Vec<String>,
}

fn manifest() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/parity.md");
    let text = fs::read_to_string(&path).expect("docs/parity.md exists");
    let mut lines = text.lines().filter(|line| line.starts_with('|'));
    let header = lines.next().expect("a table");
    assert_eq!(header, "| Rust | Python | Node.js | C |");
    lines
        .skip(1)
        .map(|line| Row {
            cells: line
                .trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect(),
        })
        .collect()
}

/// The backticked names of a cell, hints in parentheses removed; `None`
/// for a `—` cell.
fn names(cell: &str) -> Option<Vec<String>> {
    if cell.starts_with('—') {
        return None;
    }
    let names = cell
        .split(", ")
        .map(|name| {
            let name = name.trim().trim_matches('`');
            name.split('(').next().unwrap_or(name).to_owned()
        })
        .collect();
    Some(names)
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `Type::function` for every public function of an inherent impl, and
/// `function` for every public free function, in the crate's sources.
fn public_functions() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = BTreeSet::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("a readable source");
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("impl ") {
                current = inherent_impl(rest);
            } else if line.starts_with("impl<") || line == "}" {
                current = None;
            } else if let Some(name) = fn_name(line, "    ") {
                if let Some(ty) = &current {
                    found.insert(format!("{ty}::{name}"));
                }
            } else if let Some(name) = fn_name(line, "") {
                found.insert(name);
            }
        }
    }
    found
}

/// The type of `impl Type {` (not `impl Trait for Type {`).
fn inherent_impl(rest: &str) -> Option<String> {
    let head = rest.strip_suffix(" {")?;
    if head.contains(" for ") {
        return None;
    }
    Some(head.split('<').next()?.to_owned())
}

/// The name of a function declared on `line` after `indent` (`pub fn` or
/// `pub const fn`).
fn fn_name(line: &str, indent: &str) -> Option<String> {
    let rest = line.strip_prefix(indent)?;
    let rest = rest.strip_prefix("const ").unwrap_or(rest);
    let rest = rest
        .strip_prefix("pub fn ")
        .or_else(|| rest.strip_prefix("pub const fn "))?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(rest[..end].to_owned())
}

/// Crate-root functions (re-exported from their modules).
fn is_free_function(name: &str) -> bool {
    !name.contains("::")
}

#[test]
fn every_row_has_four_cells_and_every_dash_a_reason() {
    for row in manifest() {
        assert_eq!(row.cells.len(), 4, "{:?}", row.cells);
        for cell in &row.cells {
            assert!(!cell.is_empty(), "an empty cell in {:?}", row.cells);
            if let Some(reason) = cell.strip_prefix('—') {
                assert!(
                    reason.trim().len() > 3,
                    "a — without a reason in {:?}",
                    row.cells
                );
            }
        }
    }
}

#[test]
fn every_rust_name_exists() {
    let functions = public_functions();
    for row in manifest() {
        for name in names(&row.cells[0]).unwrap_or_default() {
            assert!(
                functions.contains(&name),
                "docs/parity.md names `{name}`, which perf-core does not have"
            );
        }
    }
}

#[test]
fn every_operation_is_in_the_manifest() {
    let listed: BTreeSet<String> = manifest()
        .iter()
        .flat_map(|row| names(&row.cells[0]).unwrap_or_default())
        .collect();
    let missing: Vec<String> = public_functions()
        .into_iter()
        .filter(|name| {
            let ty = name.split("::").next().unwrap_or("");
            is_free_function(name) || OPERATION_TYPES.contains(&ty)
        })
        .filter(|name| !listed.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "public operations missing from docs/parity.md (bind them in every language, or list them with a reason): {missing:?}"
    );
}
