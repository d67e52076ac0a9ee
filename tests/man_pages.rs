//! The manual pages render cleanly and document what the code does.

use std::path::{Path, PathBuf};
use std::process::Command;
use tandem::config::hacf;

fn man(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name)
}

fn source(name: &str) -> String {
    std::fs::read_to_string(man(name)).unwrap_or_else(|e| panic!("man/{name}: {e}"))
}

const PAGES: &[&str] = &[
    "tandem.8",
    "ha.cf.5",
    "haresources.5",
    "authkeys.5",
    "tandem-wire.7",
];

#[test]
fn pages_render_without_warnings() {
    let Ok(out) = Command::new("groff").arg("--version").output() else {
        let why = "groff is not installed (tests/run installs groff-base)";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED pages_render_without_warnings: {why}");
        return;
    };
    assert!(out.status.success());
    for page in PAGES {
        let out = Command::new("groff")
            .args(["-t", "-man", "-Tutf8", "-ww", "-z"])
            .arg(man(page))
            .output()
            .expect("run groff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{page}: {stderr}"
        );
    }
}

/// Whether a roff source names `word` in a macro line (`.B word`, `.BR a ,`).
fn documents(src: &str, word: &str) -> bool {
    src.lines().filter(|l| l.starts_with('.')).any(|l| {
        l.split(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .any(|w| w == word)
    })
}

#[test]
fn hacf_page_documents_every_directive() {
    let src = source("ha.cf.5");
    for d in hacf::DIRECTIVES {
        assert!(
            documents(&src, d.name),
            "ha.cf(5) does not document `{}`",
            d.name
        );
    }
}

#[test]
fn tandem_page_documents_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("help")
        .output()
        .expect("run tandem");
    let help = String::from_utf8_lossy(&out.stdout);
    let src = source("tandem.8");
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "{help}");
    for c in commands {
        let roff = c.replace('-', "\\-");
        assert!(documents(&src, &roff), "tandem(8) does not document `{c}`");
    }
}

#[test]
fn tandem_page_documents_every_option() {
    for command in [
        "check-config",
        "run",
        "demo",
        "status",
        "director",
        "export-pacemaker",
    ] {
        options_documented(command);
    }
}

fn options_documented(command: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["help", command])
        .output()
        .expect("run tandem");
    let help = String::from_utf8_lossy(&out.stdout);
    let src = source("tandem.8");
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && *w != "--help")
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
        .collect();
    assert!(!flags.is_empty(), "{help}");
    for flag in flags {
        let roff = flag.replace('-', "\\-");
        assert!(src.contains(&roff), "tandem(8) does not document `{flag}`");
    }
}
