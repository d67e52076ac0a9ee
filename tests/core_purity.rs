//! The core and the wire codec do no I/O: no files, sockets, clocks,
//! threads, processes or environment, and none of the I/O crates. This
//! test reads their sources, so that a `use` slipping in fails the build's
//! tests, not a review.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::io",
    "std::time",
    "std::thread",
    "std::process",
    "std::env",
    "std::os",
    "nix::",
    "mio::",
    "socket2::",
    "serialport::",
    "libc::",
    "crate::config::load",
    "crate::daemon",
    "crate::media",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_and_wire_do_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for module in ["core", "wire"] {
        sources(&root.join(module), &mut files);
    }
    assert!(files.len() >= 6, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for bad in FORBIDDEN {
                assert!(
                    !code.contains(bad),
                    "{}:{}: the core must not use `{bad}`: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}
