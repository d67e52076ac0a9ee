//! The VM rig (tests/vm/rig.sh) from tests: whether it can run here, one
//! initramfs build per test binary, and a guest run's console.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The rig's directory when it can run here, after building its
/// initramfs with this build's tandem; `Err(why)` when it cannot.
pub fn prepare() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vm = root.join("tests/vm");
    let rig = root.join("target/vm-rig");
    let have = |p: &str| Path::new(p).exists();
    for (p, package) in [
        ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
        ("/usr/sbin/pppd", "ppp"),
        ("/bin/busybox", "busybox-static"),
        ("/usr/sbin/ipvsadm", "ipvsadm"),
    ] {
        if !have(p) {
            return Err(format!(
                "needs {package} (tests/vm/rig.sh deps, as root; tests/setup does it)"
            ));
        }
    }
    let kernel = std::fs::read_dir(&rig)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
        })
        .unwrap_or(false);
    if !kernel {
        return Err("no kernel package in target/vm-rig (tests/vm/rig.sh deps)".into());
    }
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = Command::new("bash")
            .arg(vm.join("rig.sh"))
            .arg("build")
            .arg(env!("CARGO_BIN_EXE_tandem"))
            .output()
            .map_err(|e| format!("rig.sh build: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "rig.sh build: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    // A rig that can run but does not build is a failure, not a skip.
    if let Err(e) = built {
        panic!("{e}");
    }
    Ok(vm)
}

/// [`prepare`], or `None` after saying why `test` is skipped.
pub fn prepare_or_skip(test: &str) -> Option<PathBuf> {
    match prepare() {
        Ok(vm) => Some(vm),
        Err(why) => {
            super::skip(test, &why);
            None
        }
    }
}

/// Runs `rig.sh ARGS` in tests/vm with `RIG_FILES`; the console (both
/// guests' for a pair) and the rig's verdict. Panics with both when the
/// rig says a guest failed.
pub fn run(vm: &Path, args: &[&str], files: &str) -> String {
    let out = Command::new("bash")
        .current_dir(vm)
        .env("RIG_FILES", files)
        .env("TIMEOUT", "400")
        .arg("rig.sh")
        .args(args)
        .output()
        .expect("run rig.sh");
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    let verdict = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{console}\n{verdict}");
    console
}

/// One service as `ipvsadm -Ln` shows it: "TCP 192.0.2.10:80 rr
/// persistent 300" and its real servers "ADDR:PORT Forward Weight".
pub type View = BTreeMap<String, Vec<String>>;

pub fn ipvsadm_view(block: &str) -> View {
    let mut view = View::new();
    let mut current = None;
    for l in block.lines() {
        let words: Vec<&str> = l.split_whitespace().collect();
        match words.as_slice() {
            ["TCP" | "UDP" | "SCTP" | "FWM", addr, sched, rest @ ..] => {
                let mut key = format!("{} {addr} {sched}", words[0]);
                if let ["persistent", n, ..] = rest {
                    key.push_str(&format!(" persistent {n}"));
                }
                current = Some(key.clone());
                view.insert(key, Vec::new());
            }
            ["->", addr, forward, weight, ..] if *addr != "RemoteAddress:Port" => {
                if let Some(k) = &current {
                    view.get_mut(k)
                        .unwrap()
                        .push(format!("{addr} {forward} {weight}"));
                }
            }
            _ => {}
        }
    }
    for reals in view.values_mut() {
        reals.sort();
    }
    view
}

pub fn tandem_view(json: &serde_json::Value) -> View {
    let mut view = View::new();
    for v in json["virtuals"].as_array().unwrap() {
        if v["programmed"] != true {
            continue;
        }
        let mut key = format!(
            "{} {}",
            v["service"].as_str().unwrap(),
            v["scheduler"].as_str().unwrap()
        );
        if let Some(p) = v["persistent"].as_u64() {
            key.push_str(&format!(" persistent {p}"));
        }
        let mut reals: Vec<String> = v["reals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["programmed_weight"].is_null())
            .map(|r| {
                let forward = match r["forward"].as_str().unwrap() {
                    "masq" => "Masq",
                    "gate" => "Route",
                    _ => "Tunnel",
                };
                let a = r["address"].as_str().unwrap();
                let a = if a.contains(':') {
                    format!("[{a}]")
                } else {
                    a.to_string()
                };
                format!("{a}:{} {forward} {}", r["port"], r["programmed_weight"])
            })
            .collect();
        reals.sort();
        view.insert(key, reals);
    }
    view
}
