//! The layer table of the library, held against the code.
//!
//! Every path that names a module of the crate is read from the sources:
//! `use` items (grouped, nested, renamed, `pub use`), inline paths
//! (`crate::x::f()`), `super::` that climbs out of a top-level module, and
//! `tandem::` in `main.rs`. Each must point down the table or along one of
//! its listed arrows. The core and the wire codec also do no I/O: no files,
//! sockets, processes, threads, environment or clocks, and none of the
//! crates that do them.
//!
//! The table is copied here on purpose: a change to the layering is a change
//! to this file, made in the open.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module, and the modules it may use. Bottom to top:
/// row 1 `time`, `wire`, `config`; row 2 `core`; row 3 `sim`; row 4 the
/// shell's parts; row 5 the two daemons; row 6 the CLI and the demo.
const TABLE: &[(&str, &[&str])] = &[
    // row 1
    ("time", &[]),
    ("wire", &["time"]),
    ("config", &["time", "wire"]),
    // row 2
    ("core", &["time", "wire", "config"]),
    // row 3
    ("sim", &["time", "wire", "config", "core"]),
    // row 4: rows 1-2, and the runner may call the built-in takeovers.
    ("media", &["time", "wire", "config", "core"]),
    ("takeover", &["time", "wire", "config", "core"]),
    ("resources", &["time", "wire", "config", "core", "takeover"]),
    ("host", &["time", "wire", "config", "core"]),
    ("export", &["time", "wire", "config", "core"]),
    // row 5: rows 1-4, not each other.
    ("daemon", ROW5),
    ("director", ROW5),
    // row 6: everything.
    ("demo", ALL),
    ("main", ALL),
];

const ROW5: &[&str] = &[
    "time",
    "wire",
    "config",
    "core",
    "sim",
    "media",
    "takeover",
    "resources",
    "host",
    "export",
];

const ALL: &[&str] = &[
    "time",
    "wire",
    "config",
    "core",
    "sim",
    "media",
    "takeover",
    "resources",
    "host",
    "export",
    "daemon",
    "director",
    "demo",
];

/// Modules that must do no I/O.
const PURE: &[&str] = &["time", "wire", "core"];

/// What a pure module may not name: the first segments of a path.
const PURE_FORBIDDEN_CRATES: &[&str] = &["nix", "mio", "socket2", "serialport", "libc"];
/// ... the parts of std that reach outside the process's memory.
const PURE_FORBIDDEN_STD: &[&str] = &["fs", "net", "process", "thread", "io", "env", "os"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// Tokens of Rust source with comments, strings and character literals
/// removed: what is left is what the compiler resolves.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(&c, i + 1);
        } else if (ch == 'r' || ch == 'b')
            && !prev_is_ident(&c, i)
            && raw_string_start(&c, i).is_some()
        {
            let (hashes, body) = raw_string_start(&c, i).unwrap_or((0, i + 1));
            if hashes == usize::MAX {
                i = skip_string(&c, body);
            } else {
                i = skip_raw(&c, body, hashes);
            }
        } else if ch == '\'' {
            // A char literal ('a', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push(Tok::Punct(ch));
            }
            i += 1;
        }
    }
    out
}

fn prev_is_ident(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// At `r"`, `r#"`, `br"`, `b"`: the number of hashes (usize::MAX for a
/// plain byte string) and where the body starts.
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c[j] == 'b' {
        j += 1;
        if c.get(j) == Some(&'"') {
            return Some((usize::MAX, j + 1));
        }
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

fn skip_string(c: &[char], mut i: usize) -> usize {
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn skip_raw(c: &[char], mut i: usize, hashes: usize) -> usize {
    while i < c.len() {
        if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// Every path the tokens name, each as its segments, with the module
/// (`mod x { … }` nesting inside the file) it is written in.
fn paths(toks: &[Tok]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    // Inline modules: (name, brace depth at which it closes).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                }
            }
            Tok::Ident(kw) if kw == "use" => {
                let here: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
                let (trees, end) = use_tree(toks, i + 1, Vec::new());
                for p in trees {
                    out.push((here.clone(), p));
                }
                i = end;
                continue;
            }
            // An inline path starts here unless it continues one.
            Tok::Ident(first)
                if toks.get(i + 1) == Some(&Tok::Path) && (i == 0 || toks[i - 1] != Tok::Path) =>
            {
                let mut segs = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::Path) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(s)) => segs.push(s.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                let here: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
                out.push((here, segs));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Expands the use tree starting at `i` into full paths; returns them and
/// the index after the tree.
fn use_tree(toks: &[Tok], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut segs = prefix;
    let mut out = Vec::new();
    if toks.get(i) == Some(&Tok::Path) {
        i += 1; // `use ::std::…`
    }
    loop {
        match toks.get(i) {
            Some(Tok::Ident(s)) if s == "as" => {
                i += 2; // the new name binds nothing we follow
            }
            Some(Tok::Ident(s)) => {
                segs.push(s.clone());
                i += 1;
            }
            Some(Tok::Punct('*')) => i += 1,
            Some(Tok::Path) => i += 1,
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match toks.get(i) {
                        Some(Tok::Punct('}')) => {
                            i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => i += 1,
                        None => break,
                        _ => {
                            let (inner, next) = use_tree(toks, i, segs.clone());
                            out.extend(inner);
                            i = next;
                        }
                    }
                }
                return (out, i);
            }
            _ => {
                if !segs.is_empty() {
                    out.push(segs);
                }
                return (out, i);
            }
        }
    }
}

/// The top-level crate module a path names, seen from `module` (the
/// file's module path plus its inline modules), or None when it names
/// something else (std, another crate, an item of the same module).
fn target(module: &[String], path: &[String], in_main: bool) -> Option<String> {
    let first = path.first()?;
    match first.as_str() {
        "crate" if in_main => None,
        "crate" => path.get(1).cloned(),
        "tandem" if in_main => path.get(1).cloned(),
        "super" => {
            let mut here = module.to_vec();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                here.pop();
                k += 1;
            }
            match here.first() {
                Some(top) => Some(top.clone()),
                None => path.get(k).cloned(),
            }
        }
        _ => None,
    }
}

/// The checker: one line for each path that breaks the table, given each
/// file's path under `src/` and its text.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        let mut module: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|s| s == "mod") {
            module.pop();
        }
        let Some(top) = module.first().cloned() else {
            continue;
        };
        if top == "lib" {
            continue;
        }
        let in_main = top == "main";
        let Some((_, allowed)) = TABLE.iter().find(|(m, _)| *m == top) else {
            out.push(format!(
                "{}: module `{top}` is not in the layer table",
                rel.display()
            ));
            continue;
        };
        let toks = tokens(text);
        let pure = PURE.contains(&top.as_str());
        for (inline, path) in paths(&toks) {
            let mut from = module.clone();
            from.extend(inline);
            let shown = path.join("::");
            if let Some(to) = target(&from, &path, in_main) {
                let known = TABLE.iter().any(|(m, _)| *m == to);
                if known && to != top && !allowed.contains(&to.as_str()) {
                    out.push(format!(
                        "{}: `{top}` may not use `{to}` (`{shown}`)",
                        rel.display()
                    ));
                }
            }
            if pure {
                let first = path.first().map(String::as_str).unwrap_or("");
                let second = path.get(1).map(String::as_str).unwrap_or("");
                if PURE_FORBIDDEN_CRATES.contains(&first)
                    || (first == "std" && PURE_FORBIDDEN_STD.contains(&second))
                    || (first == "std" && second == "time" && path.len() == 2)
                    || (path.len() >= 2
                        && path[path.len() - 2] == "Instant"
                        && path[path.len() - 1] == "now")
                    || path.iter().any(|s| s == "SystemTime")
                {
                    out.push(format!(
                        "{}: `{top}` does no I/O, yet names `{shown}`",
                        rel.display()
                    ));
                }
            }
        }
        if pure {
            for t in &toks {
                if *t == Tok::Ident("SystemTime".into()) {
                    out.push(format!(
                        "{}: `{top}` does no I/O, yet names `SystemTime`",
                        rel.display()
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn sources(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            let rel = path.strip_prefix(root).expect("under src").to_path_buf();
            out.push((rel, text));
        }
    }
}

#[test]
fn the_code_holds_to_the_layer_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    assert!(files.len() > 50, "found only {} sources", files.len());
    // Every top-level module of the library is in the table, and back.
    let tops: BTreeSet<String> = files
        .iter()
        .filter_map(|(p, _)| p.iter().next())
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .filter(|s| s != "lib")
        .collect();
    let table: BTreeSet<String> = TABLE.iter().map(|(m, _)| m.to_string()).collect();
    assert_eq!(
        tops, table,
        "src/ and the layer table name different modules"
    );
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "{} import(s) break the layer table:\n{}",
        found.len(),
        found.join("\n")
    );
}

fn planted(path: &str, text: &str) -> Vec<String> {
    violations(&[(PathBuf::from(path), text.to_string())])
}

#[test]
fn the_checker_catches_each_form_of_import() {
    // One violation of each form; each must be reported.
    let cases: &[(&str, &str, &str)] = &[
        ("plain use", "core/x.rs", "use crate::daemon::Thing;"),
        (
            "grouped use",
            "core/x.rs",
            "use crate::{config, daemon::Thing};",
        ),
        (
            "nested use",
            "wire/x.rs",
            "use crate::{time::{Instant, Time}, config::{hacf::{Other}}};",
        ),
        ("renamed use", "config/x.rs", "use crate::director as d;"),
        ("pub use", "core/mod.rs", "pub use crate::sim::run;"),
        (
            "inline path",
            "resources/x.rs",
            "fn f() { crate::director::go(); }",
        ),
        (
            "super out of a module",
            "wire/a/b.rs",
            "use super::super::super::core::Node;",
        ),
        (
            "super out of an inline module",
            "core/x.rs",
            "mod tests { fn f() { super::super::super::media::open(); } }",
        ),
        (
            "sideways in row 4",
            "resources/x.rs",
            "use crate::host::log;",
        ),
        (
            "daemon to director",
            "daemon/x.rs",
            "use crate::director::Farm;",
        ),
        (
            "director to daemon",
            "director/x.rs",
            "fn f() { crate::daemon::run() }",
        ),
        ("std::fs in the core", "core/x.rs", "use std::{fmt, fs};"),
        (
            "std::io in the wire",
            "wire/x.rs",
            "fn f() { let _ = std::io::stdout(); }",
        ),
        (
            "Instant::now",
            "core/x.rs",
            "fn f() { let _ = std::time::Instant::now(); }",
        ),
        ("SystemTime", "time.rs", "use std::time::SystemTime;"),
        ("an I/O crate", "wire/x.rs", "use nix::sys::socket;"),
        ("a module not in the table", "extra/x.rs", "fn f() {}"),
    ];
    for (form, path, text) in cases {
        let found = planted(path, text);
        assert!(
            !found.is_empty(),
            "the checker missed {form}: {path}: {text}"
        );
    }
    // main.rs is its own crate: `tandem::` is how it names the library.
    let named = |text: &str| -> Vec<Option<String>> {
        let toks = tokens(text);
        paths(&toks)
            .into_iter()
            .map(|(_, p)| target(&["main".to_string()], &p, true))
            .collect()
    };
    assert_eq!(
        named("use tandem::{daemon, director::Farm as F};\nfn f() { tandem::demo::run(); crate::x(); }"),
        vec![
            Some("daemon".to_string()),
            Some("director".to_string()),
            Some("demo".to_string()),
            None
        ]
    );
    let main = violations(&[(
        PathBuf::from("main.rs"),
        "use tandem::{daemon, director};\nfn f() { tandem::demo::run(); }".to_string(),
    )]);
    assert!(main.is_empty(), "main may use everything: {main:?}");
    let up = planted(
        "sim/x.rs",
        "fn f() { tandem_like(); crate::daemon::run(); }",
    );
    assert_eq!(up.len(), 1, "{up:?}");
}

#[test]
fn the_checker_is_not_fooled_by_comments_strings_or_allowed_paths() {
    let quiet: &[(&str, &str)] = &[
        (
            "core/x.rs",
            "// use crate::daemon::Thing;\n/// [`crate::sim`]\nfn f() {}",
        ),
        (
            "core/x.rs",
            "/* crate::daemon::x /* nested */ std::fs */ fn f() {}",
        ),
        (
            "core/x.rs",
            "const S: &str = \"crate::daemon::x std::fs::read\";",
        ),
        (
            "core/x.rs",
            "const S: &str = r#\"use crate::daemon; \"quoted\" \"#;",
        ),
        (
            "core/x.rs",
            "fn f<'a>(x: &'a str) -> char { let _ = '\"'; 'x' }",
        ),
        (
            "core/x.rs",
            "use crate::{config::hacf, time::Instant, wire};",
        ),
        (
            "core/node.rs",
            "use super::groups::Groups; use super::super::wire::Frame;",
        ),
        (
            "core/x.rs",
            "mod tests { use super::*; use super::super::Engine; }",
        ),
        (
            "core/x.rs",
            "use std::{collections::BTreeMap, fmt, time::Duration};",
        ),
        (
            "daemon/x.rs",
            "use std::fs; use crate::{host::log, takeover::addr};",
        ),
        (
            "director/x.rs",
            "use crate::{host::control, resources, takeover::dns};",
        ),
    ];
    for (path, text) in quiet {
        let found = planted(path, text);
        assert!(found.is_empty(), "{path}: {text}: {found:?}");
    }
}
