//! The C column of docs/parity.md against include/perf_core.h: every name
//! the column gives is declared by the header (a function, a macro or a
//! `struct.field`), every cell either names something or says why C lacks
//! it, and every function the header declares — the `_free` functions and
//! the inline `_init` helpers included — is named in the column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the header declares.
struct Header {
    /// Every function, the inline `_init` helpers included.
    functions: BTreeSet<String>,
    /// Every macro.
    macros: BTreeSet<String>,
    /// Every struct with a body, and its fields.
    structs: BTreeMap<String, BTreeSet<String>>,
}

/// The identifier `line` declares before its `(` or `;` (the last word).
fn last_identifier(text: &str) -> Option<String> {
    let end = text.trim_end();
    let ident: String = end
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!ident.is_empty()).then_some(ident)
}

impl Header {
    fn parse(text: &str) -> Header {
        let mut functions = BTreeSet::new();
        let mut macros = BTreeSet::new();
        let mut structs = BTreeMap::new();
        let mut open: Option<(String, BTreeSet<String>)> = None;
        let mut in_comment = false;
        for raw in text.lines() {
            let line = raw.trim();
            // Doc comments (/** ... */, one line or several) declare nothing.
            if in_comment {
                in_comment = !line.contains("*/");
                continue;
            }
            if line.starts_with("/*") {
                in_comment = !line.contains("*/");
                continue;
            }
            if let Some(rest) = line.strip_prefix("#define ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                macros.insert(name);
                continue;
            }
            if let Some((name, fields)) = &mut open {
                if line.starts_with('}') {
                    let (name, fields) = (name.clone(), std::mem::take(fields));
                    structs.insert(name, fields);
                    open = None;
                } else if let Some(decl) = line.strip_suffix(';') {
                    fields.extend(last_identifier(decl));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("typedef struct ") {
                if let Some(name) = rest.strip_suffix(" {") {
                    open = Some((name.to_owned(), BTreeSet::new()));
                }
                continue;
            }
            // A declaration: `perf_status perf_x(...);`, `void perf_x_free(...);`,
            // `static inline void perf_x_init(...) {` (what test-c.sh's
            // coverage step reads as functions too).
            if raw.starts_with(|c: char| c.is_ascii_lowercase()) && !raw.starts_with("typedef") {
                if let Some(before) = raw.split('(').next().filter(|_| raw.contains('(')) {
                    if let Some(name) = last_identifier(before).filter(|n| n.starts_with("perf_")) {
                        functions.insert(name);
                    }
                }
            }
        }
        Header {
            functions,
            macros,
            structs,
        }
    }

    /// Whether `name` is a function, a macro or a `struct.field` of the header.
    fn declares(&self, name: &str) -> bool {
        match name.split_once('.') {
            Some((strukt, field)) => self.structs.get(strukt).is_some_and(|f| f.contains(field)),
            None => self.functions.contains(name) || self.macros.contains(name),
        }
    }
}

/// The cells of a table row, split at `|` outside backticks.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = vec![String::new()];
    let mut in_code = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                cells.last_mut().unwrap().push(c);
            }
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push(chars.next().unwrap());
            }
            '|' if !in_code => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// What a cell says: the names it lists, or that the language lacks the
/// operation (with the reason, possibly empty).
#[derive(Debug, PartialEq)]
enum Cell {
    Names(Vec<String>),
    Absent(String),
}

/// Reads a cell: `—` and a reason, or backticked names separated by ", ",
/// each with an optional hint in parentheses. Errors describe the problem.
fn parse_cell(cell: &str) -> Result<Cell, String> {
    if let Some(reason) = cell.strip_prefix('—') {
        return Ok(Cell::Absent(reason.trim().to_owned()));
    }
    if cell.is_empty() {
        return Err("the cell is empty".into());
    }
    let mut names = Vec::new();
    let mut rest = cell;
    loop {
        let Some(after) = rest.strip_prefix('`') else {
            return Err(format!("expected a backticked name at {rest:?}"));
        };
        let Some((name, after)) = after.split_once('`') else {
            return Err(format!("unterminated backticks at {rest:?}"));
        };
        names.push(name.to_owned());
        rest = after.trim_start();
        if rest.starts_with('(') {
            // A hint: skip to its closing parenthesis (hints may nest one level).
            let mut depth = 0;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                return Err(format!("unclosed hint at {rest:?}"));
            };
            rest = rest[end + 1..].trim_start();
        }
        if rest.is_empty() {
            return Ok(Cell::Names(names));
        }
        let Some(after) = rest.strip_prefix(',') else {
            return Err(format!("expected \", \" between names at {rest:?}"));
        };
        rest = after.trim_start();
    }
}

/// The C cell of every row of docs/parity.md's table, with its line number.
fn c_cells(manifest: &str) -> Vec<(usize, String)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in manifest.lines().enumerate() {
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let row = cells(line);
        if row == ["Rust", "Python", "Node.js", "C"] {
            in_table = true;
            continue;
        }
        if !in_table || row.iter().all(|c| c.chars().all(|c| c == '-' || c == ':')) {
            continue;
        }
        assert_eq!(
            row.len(),
            4,
            "docs/parity.md:{}: not 4 cells: {line}",
            i + 1
        );
        rows.push((i + 1, row[3].clone()));
    }
    rows
}

fn read(path: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_c_column_matches_the_header() {
    let header = Header::parse(&read("include/perf_core.h"));
    let manifest = read("../docs/parity.md");
    let rows = c_cells(&manifest);
    assert!(rows.len() > 50, "the table was not found in docs/parity.md");

    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for (line, cell) in &rows {
        match parse_cell(cell) {
            Err(reason) => {
                problems.push(format!("docs/parity.md:{line}: C cell {cell:?}: {reason}"))
            }
            Ok(Cell::Absent(reason)) if reason.is_empty() => problems.push(format!(
                "docs/parity.md:{line}: the C cell is `—` without a reason"
            )),
            Ok(Cell::Absent(_)) => {}
            Ok(Cell::Names(names)) => {
                for name in names {
                    if !header.declares(&name) {
                        problems.push(format!(
                            "docs/parity.md:{line}: `{name}` is no function, macro or \
                             struct.field of perf_core.h"
                        ));
                    }
                    listed.insert(name);
                }
            }
        }
    }
    for function in &header.functions {
        if !listed.contains(function) {
            problems.push(format!(
                "perf_core.h declares `{function}`, which the C column of docs/parity.md \
                 does not list"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_header_is_read_whole() {
    let header = Header::parse(&read("include/perf_core.h"));
    for function in [
        "perf_monitor_new",
        "perf_alerts_free",
        "perf_string_free",
        "perf_monitor_options_init",
        "perf_version",
    ] {
        assert!(header.functions.contains(function), "{function}");
    }
    assert!(header.macros.contains("PERF_MONITOR_OPTIONS_INIT"));
    assert!(header.declares("perf_monitor_options.clock"));
    assert!(header.declares("perf_stats.rejected"));
    assert!(!header.declares("perf_stats.no_such_field"));
    assert!(!header.declares("perf_no_such_function"));
    assert!(
        !header.functions.contains("perf_alert_callback"),
        "a typedef"
    );
}

#[test]
fn cells_are_read_as_the_manifest_writes_them() {
    assert_eq!(
        parse_cell("`a`, `b.c` (a hint (nested)), `d`"),
        Ok(Cell::Names(vec!["a".into(), "b.c".into(), "d".into()]))
    );
    assert_eq!(
        parse_cell("— C has no duration type"),
        Ok(Cell::Absent("C has no duration type".into()))
    );
    assert_eq!(parse_cell("—"), Ok(Cell::Absent(String::new())));
    assert!(parse_cell("").is_err());
    assert!(parse_cell("`a` `b`").is_err());
    assert!(parse_cell("perf_x").is_err());
    assert_eq!(cells("| `a|b` | x \\| y | c |"), ["`a|b`", "x | y", "c"]);
}
