//! A real Pacemaker + Corosync cluster on this machine: each node in its
//! own network, mount, UTS, IPC and PID namespaces (its network one from a
//! `Segment`), with private /etc/corosync, /var/lib/corosync,
//! /var/lib/pacemaker, /var/log, /run and /dev/shm (libqb's IPC files
//! would collide between nodes otherwise), its hostname its node name,
//! and tandem's OCF agents added under /usr/lib/ocf/resource.d by an
//! overlay. Nothing of the host's is changed; everything goes with the
//! namespaces.

use super::{Segment, NAMES};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// PID 1 of a node: its directories, the overlay, then corosync and
/// pacemakerd in the foreground of the namespace.
const INIT: &str = r#"
set -e
name=$1; private=$2; agents=$3
hostname "$name"
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/crm /run/resource-agents /run/lock
chown hacluster:haclient /run/crm
for d in etc/corosync var/lib/corosync var/lib/pacemaker var/log; do
    mount --bind "$private/$d" "/$d"
done
mkdir -p /var/log/pacemaker /var/log/cluster /var/log/crmsh /var/log/corosync
chown hacluster:haclient /var/log/pacemaker
mount -t overlay overlay -o "lowerdir=$agents:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d
export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none
corosync -f > /var/log/corosync/stdout 2>&1 &
i=0
until corosync-cfgtool -s > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || exit 1
    sleep 0.1
done
pacemakerd > /var/log/pacemaker/stdout 2>&1 &
wait
"#;

/// One node's namespaces and its private directories.
pub struct Node {
    pub name: &'static str,
    /// `ip netns exec … unshare …`: its exit ends the node.
    child: Child,
    private: PathBuf,
    /// Its namespaces are gone (and its PIDs may be another's).
    ended: bool,
}

fn copy_dir(from: &str, to: &Path) {
    let out = Command::new("cp")
        .args(["-a", from])
        .arg(to)
        .output()
        .expect("cp");
    assert!(
        out.status.success(),
        "cp -a {from}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Node {
    /// Starts node `i` of `seg` with the export's corosync.conf and
    /// authkey. Its private directories are made under `dir` the first
    /// time and kept: started again, the node has its CIB.
    pub fn start(seg: &Segment, i: usize, export: &Path, dir: &Path) -> Node {
        let name = NAMES[i];
        let agents = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/ocf");
        let private = dir.join(format!("{name}-root"));
        if !private.exists() {
            for d in ["etc", "var/lib", "var/log"] {
                std::fs::create_dir_all(private.join(d)).expect("mkdir");
            }
            copy_dir("/etc/corosync", &private.join("etc"));
            copy_dir("/var/lib/corosync", &private.join("var/lib"));
            copy_dir("/var/lib/pacemaker", &private.join("var/lib"));
            std::fs::copy(
                export.join("corosync.conf"),
                private.join("etc/corosync/corosync.conf"),
            )
            .expect("corosync.conf");
            std::fs::copy(export.join("authkey"), private.join("etc/corosync/authkey"))
                .expect("authkey");
        }
        let child = Command::new("setsid")
            .args([
                "ip",
                "netns",
                "exec",
                &seg.ns(i),
                "unshare",
                "--mount",
                "--uts",
                "--ipc",
            ])
            .args([
                "--pid",
                "--fork",
                "--mount-proc",
                "--propagation",
                "private",
            ])
            .args(["sh", "-c", INIT, "init", name])
            .arg(&private)
            .arg(&agents)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a Pacemaker node");
        Node {
            name,
            child,
            private,
            ended: false,
        }
    }

    /// The host PID of `unshare`, whose descendants are the node.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The host PID of the node's PID 1 (what nsenter enters).
    pub fn init_pid(&self) -> Option<u32> {
        if self.ended {
            return None;
        }
        let pid = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }

    /// Runs `args` inside the node.
    pub fn exec(&self, args: &[&str]) -> Output {
        let Some(pid) = self.init_pid() else {
            return Command::new("false").output().expect("false");
        };
        Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "-u", "-n", "-i", "-p"])
            .args(args)
            .output()
            .expect("nsenter")
    }

    /// Ends the node outright: its PID namespace goes, every process in
    /// it killed.
    pub fn kill(&mut self) {
        if let Some(pid) = self.init_pid() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = self.child.wait();
        self.ended = true;
    }

    /// The operator's stop: pacemakerd shuts down (its resources stop or
    /// move), then corosync; returns once the node is gone.
    pub fn stop(&mut self) {
        let _ = self.exec(&[
            "sh",
            "-c",
            "kill -TERM $(pidof pacemakerd); while pidof pacemakerd >/dev/null; do sleep 0.1; done; kill -TERM $(pidof corosync)",
        ]);
        let _ = self.child.wait();
        self.ended = true;
    }

    /// Pacemaker's and Corosync's logs, for a failure's message.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in [
            "var/log/pacemaker/pacemaker.log",
            "var/log/corosync/stdout",
            "var/log/pacemaker/stdout",
        ] {
            let text = std::fs::read_to_string(self.private.join(f)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            s.push_str(&format!("--- {} {f} ---\n", self.name));
            for l in tail.into_iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A cluster of a `Segment`'s first nodes, each running corosync and
/// pacemakerd from the export in `export` (corosync.conf, authkey).
pub struct Cluster {
    pub nodes: Vec<Node>,
}

impl Cluster {
    pub fn start(seg: &Segment, nodes: usize, export: &Path, dir: &Path) -> Cluster {
        Cluster {
            nodes: (0..nodes)
                .map(|i| Node::start(seg, i, export, dir))
                .collect(),
        }
    }

    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    pub fn logs(&self) -> String {
        self.nodes.iter().map(Node::logs).collect()
    }
}
