//! What dist/ ships works where it is installed: systemd accepts the unit
//! (with ExecStart pointed at the binary just built, and the manual pages
//! it names found), and what must outlive a restart is in its
//! StateDirectory, not in the RuntimeDirectory systemd empties.

use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_tandem");

fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/tandem.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn systemd_accepts_the_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        let why = "systemd-analyze is not installed (tests/run installs systemd)";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED systemd_accepts_the_unit: {why}");
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("tandem-unit-")
        .tempdir()
        .expect("tempdir");
    let text = unit().replace("ExecStart=/usr/sbin/tandem", &format!("ExecStart={EXE}"));
    assert!(text.contains(&format!("ExecStart={EXE} run")), "{text}");
    let file = tmp.path().join("tandem.service");
    std::fs::write(&file, text).expect("unit");
    // The pages named in Documentation=, where man(1) finds them.
    let manpath = tmp.path().join("man");
    for page in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("man")).expect("man/")
    {
        let page = page.expect("man/ entry").path();
        let Some(section) = page.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        let dir = manpath.join(format!("man{section}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(&page, dir.join(page.file_name().expect("name"))).expect("copy page");
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&file)
        .env("MANPATH", &manpath)
        .output()
        .expect("systemd-analyze");
    let said = String::from_utf8_lossy(&out.stderr);
    // Only lines about this unit count: verify also loads what the host
    // has installed, and may warn about those.
    let ours: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("tandem.service"))
        .collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify: {said}"
    );
}

#[test]
fn what_outlives_a_restart_is_in_the_state_directory() {
    let text = unit();
    assert!(text.contains("\nStateDirectory=tandem\n"), "{text}");
    // The daemon's default state directory is the one systemd keeps.
    let paths = tandem::daemon::state::Paths::new(None);
    assert_eq!(paths.state, Path::new("/var/lib/tandem"));
}
