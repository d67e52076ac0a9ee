//! The daemons on one test bed each: tandem, Heartbeat 3.0.6, keepalived,
//! and Pacemaker + Corosync running tandem's export of the same pair, each
//! a pair (alpha, beta) holding the VIP 192.0.2.100 on a bridged segment,
//! with a client in a third namespace.

use crate::common::heartbeat::HeartbeatNode;
use crate::common::vip::{self, Helpers, CLIENT, VIP};
use crate::common::{self, Segment, NAMES};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One daemon's timings at one level (common or fastest).
#[derive(Clone, Copy)]
pub struct Timing {
    pub keepalive: &'static str,
    pub warntime: &'static str,
    pub deadtime: &'static str,
    pub initdead: &'static str,
    /// keepalived's advert_int (seconds) and VRRP version.
    pub advert: &'static str,
    pub vrrp: u8,
    /// Corosync's token (ms) for Pacemaker.
    pub token: u32,
    /// Quiet time after a node (re)joins before the next measurement.
    pub settle: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Tandem,
    Heartbeat,
    Keepalived,
    Pacemaker,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Tandem,
        Kind::Heartbeat,
        Kind::Keepalived,
        Kind::Pacemaker,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Tandem => "tandem",
            Kind::Heartbeat => "Heartbeat 3.0.6",
            Kind::Keepalived => "keepalived",
            Kind::Pacemaker => "Pacemaker 2.1 + Corosync 3.1",
        }
    }

    /// Why this daemon cannot run here, if it cannot.
    pub fn missing(self) -> Option<String> {
        let need: &[&str] = match self {
            Kind::Tandem => return None,
            Kind::Heartbeat => &[common::heartbeat::HEARTBEAT],
            Kind::Keepalived => &["/usr/sbin/keepalived"],
            Kind::Pacemaker => &["/usr/sbin/pacemakerd", "/usr/sbin/corosync"],
        };
        need.iter()
            .find(|n| !Path::new(n).exists())
            .map(|n| format!("{n} is not installed (bench/run installs it)"))
    }
}

/// The namespaces, the servers that answer with their node's name, and
/// the client's capture of gratuitous ARPs for the VIP.
pub struct Bed {
    pub seg: Segment,
    pub dir: tempfile::TempDir,
    pub macs: [String; 2],
    /// The service is found by name (`www.tandem.test`) through this
    /// caching resolver in the client namespace, from the authoritative
    /// server at 192.0.2.3, instead of at the VIP.
    pub dns: Option<&'static str>,
    pub helpers: Helpers,
}

impl Bed {
    pub fn new(tag: &str, links: usize) -> Bed {
        let seg = Segment::new(tag, 3);
        if links > 1 {
            seg.second_link(2);
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("tandem-peers-{tag}-"))
            .tempdir()
            .expect("tempdir");
        let garps = dir.path().join("garps").display().to_string();
        let helpers = Helpers(vec![
            vip::in_ns(&seg, 0, &["python3", "-c", vip::SERVER, "alpha"]),
            vip::in_ns(&seg, 1, &["python3", "-c", vip::SERVER, "beta"]),
            vip::in_ns(&seg, CLIENT, &["python3", "-c", vip::CAPTURE, &garps]),
        ]);
        let macs = [vip::mac(&seg, 0), vip::mac(&seg, 1)];
        Bed {
            seg,
            dir,
            macs,
            dns: None,
            helpers,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The nodes holding the VIP now (or named by the DNS record).
    pub fn owners(&self) -> Vec<usize> {
        if self.dns.is_some() {
            let out = Command::new("ip")
                .args(["netns", "exec", &self.seg.ns(CLIENT), "dig", "@192.0.2.3"])
                .args(["www.tandem.test", "A", "+short", "+time=1", "+tries=1"])
                .output();
            let text = out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
            return (0..2)
                .filter(|i| text.as_deref().ok() == Some(&format!("192.0.2.{}", i + 1)))
                .collect();
        }
        (0..2).filter(|&i| vip::has_vip(&self.seg, i)).collect()
    }

    /// Whether the client reaches node `i`'s service now.
    pub fn answers(&self, i: usize) -> bool {
        match self.dns {
            Some(_) => self.owners() == [i],
            None => vip::connect(&self.seg).as_deref() == Some(NAMES[i]),
        }
    }

    /// The client's prober: reach the node named `name` at the VIP, or
    /// by name through the resolver; writes the time to `file`.
    pub fn prober(&self, file: &Path, name: &str) -> Child {
        let file = file.display().to_string();
        let mut args = vec!["python3", "-c", vip::REACH, &file, name];
        args.extend(self.dns);
        vip::in_ns(&self.seg, CLIENT, &args)
    }

    /// The node dies: its interfaces go down (the daemon is killed first).
    pub fn down(&self, i: usize) {
        common::ip(&["-n", &self.seg.ns(i), "link", "set", "eth0", "down"]);
    }

    /// A dead node comes back: without the address its killed daemon
    /// left on the interface, which nobody would release.
    pub fn revive(&self, i: usize) {
        let ns = self.seg.ns(i);
        // A MAC takeover's shared address goes too.
        common::ip(&["-n", &ns, "link", "set", "eth0", "address", &self.macs[i]]);
        let _ = Command::new("ip")
            .args(["-n", &self.seg.ns(i), "addr", "del", &format!("{VIP}/24")])
            .args(["dev", "eth0"])
            .output();
        common::ip(&["-n", &self.seg.ns(i), "link", "set", "eth0", "up"]);
    }
}

/// A daemon running a pair on a bed.
pub trait Contender {
    fn kind(&self) -> Kind;
    fn bed(&self) -> &Bed;
    fn start(&mut self, i: usize);
    /// kill -9 of every process of node `i`'s daemon.
    fn kill(&mut self, i: usize);
    /// The operator's stop; returns once the daemon is gone.
    fn stop(&mut self, i: usize);
    /// Node `i` runs and hears the other.
    fn ready(&self, i: usize) -> bool;
    /// Node `i`'s daemon processes.
    fn processes(&self, i: usize) -> Vec<u32>;
    /// Node `i`'s log so far.
    fn log(&self, i: usize) -> String;
}

pub fn contender(kind: Kind, tag: &str, t: &Timing, links: usize) -> Box<dyn Contender> {
    let bed = Bed::new(tag, links);
    match kind {
        Kind::Tandem => Box::new(Tandem::new(bed, t, links, [HARESOURCES, HARESOURCES])),
        Kind::Heartbeat => Box::new(Heartbeat::new(bed, t, links)),
        Kind::Keepalived => Box::new(Keepalived::new(bed, t)),
        Kind::Pacemaker => Box::new(Pacemaker::new(bed, t)),
    }
}

/// The same authkeys for tandem and Heartbeat: what a pair moving from
/// one to the other has.
const AUTHKEYS: &str = "auth 1\n1 sha1 benchmark-key\n";
const HARESOURCES: &str = "alpha IPaddr2::192.0.2.100/24/eth0\n";

/// ha.cf for tandem and Heartbeat alike: broadcast on each link, no
/// failback (a restarted node stays standby, so runs alternate).
fn hacf(t: &Timing, links: usize) -> String {
    let media: String = (0..links).map(|l| format!("bcast eth{l}\n")).collect();
    format!(
        "keepalive {}\nwarntime {}\ndeadtime {}\ninitdead {}\nudpport 694\n{media}auto_failback off\nnode alpha\nnode beta\n",
        t.keepalive, t.warntime, t.deadtime, t.initdead
    )
}

/// Every descendant of `pid`, and `pid`.
fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let p = all[i];
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            all.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        i += 1;
    }
    all
}

fn signal(pids: &[u32], sig: i32) {
    for &pid in pids {
        // SAFETY: kill(2) with a pid this benchmark started.
        unsafe { libc::kill(pid as i32, sig) };
    }
}

pub struct Tandem {
    bed: Bed,
}

impl Tandem {
    /// A tandem pair on `bed` whose nodes have these haresources.
    pub fn new(bed: Bed, t: &Timing, links: usize, haresources: [&str; 2]) -> Tandem {
        use std::os::unix::fs::PermissionsExt;
        for (name, haresources) in NAMES[..2].iter().zip(haresources) {
            let cfg = bed.path(name);
            std::fs::create_dir_all(cfg.join("state")).expect("mkdir");
            // tandem's own line (Heartbeat would refuse it): a stop that
            // keeps failing blocks the group; a benchmark never reboots
            // the machine it measures on.
            let text = format!("{}on_stop_failure block\n", hacf(t, links));
            std::fs::write(cfg.join("ha.cf"), text).expect("ha.cf");
            std::fs::write(cfg.join("haresources"), haresources).expect("haresources");
            let keys = cfg.join("authkeys");
            std::fs::write(&keys, AUTHKEYS).expect("authkeys");
            std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        Tandem { bed }
    }
}

impl Contender for Tandem {
    fn kind(&self) -> Kind {
        Kind::Tandem
    }
    fn bed(&self) -> &Bed {
        &self.bed
    }
    fn start(&mut self, i: usize) {
        let dir = self.bed.dir.path().to_path_buf();
        self.bed.seg.start(i, &dir);
    }
    fn kill(&mut self, i: usize) {
        self.bed.seg.kill(i);
    }
    fn stop(&mut self, i: usize) {
        self.bed.seg.stop(i);
    }
    fn ready(&self, i: usize) -> bool {
        common::status(self.bed.dir.path(), i)
            .is_some_and(|s| tandem::demo::peer_liveness(&s, NAMES[1 - i]) == Some("up"))
    }
    fn processes(&self, i: usize) -> Vec<u32> {
        self.bed.seg.pid(i).map(tree).unwrap_or_default()
    }
    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.bed.path(&format!("{}.log", NAMES[i]))).unwrap_or_default()
    }
}

pub struct Heartbeat {
    bed: Bed,
    nodes: [Option<HeartbeatNode>; 2],
    hacf: String,
}

impl Heartbeat {
    fn new(bed: Bed, t: &Timing, links: usize) -> Heartbeat {
        Heartbeat {
            bed,
            nodes: [None, None],
            hacf: hacf(t, links),
        }
    }
}

impl Contender for Heartbeat {
    fn kind(&self) -> Kind {
        Kind::Heartbeat
    }
    fn bed(&self) -> &Bed {
        &self.bed
    }
    fn start(&mut self, i: usize) {
        let ns = self.bed.seg.ns(i);
        self.nodes[i] = Some(HeartbeatNode::start(
            &ns,
            NAMES[i],
            &self.hacf,
            AUTHKEYS,
            HARESOURCES,
        ));
    }
    fn kill(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            signal(&node.processes(), libc::SIGKILL);
        }
    }
    fn stop(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.stop();
        }
    }
    fn ready(&self, i: usize) -> bool {
        self.nodes[i].as_ref().is_some_and(|n| {
            n.cl_status(&["nodestatus", NAMES[1 - i]]) == "active"
                && n.cl_status(&["rscstatus"]) != "transition"
        })
    }
    fn processes(&self, i: usize) -> Vec<u32> {
        self.nodes[i]
            .as_ref()
            .map(|n| n.processes())
            .unwrap_or_default()
    }
    fn log(&self, i: usize) -> String {
        self.nodes[i].as_ref().map(|n| n.log()).unwrap_or_default()
    }
}

pub struct Keepalived {
    bed: Bed,
    children: [Option<Child>; 2],
}

impl Keepalived {
    fn new(bed: Bed, t: &Timing) -> Keepalived {
        for (i, name) in NAMES[..2].iter().enumerate() {
            // Unicast peers: VRRP's own multicast group is not an address
            // the tests may use, and a pair with a cable needs none.
            let conf = format!(
                "global_defs {{\n  router_id {name}\n  vrrp_version {version}\n}}\n\
                 vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
                 priority 100\n  advert_int {advert}\n  nopreempt\n  unicast_src_ip 192.0.2.{me}\n  \
                 unicast_peer {{\n    192.0.2.{peer}\n  }}\n  virtual_ipaddress {{\n    {VIP}/24 dev eth0\n  }}\n}}\n",
                version = t.vrrp,
                advert = t.advert,
                me = i + 1,
                peer = 2 - i,
            );
            std::fs::write(bed.path(&format!("{name}.conf")), conf).expect("conf");
        }
        Keepalived {
            bed,
            children: [None, None],
        }
    }

    fn log_path(&self, i: usize) -> PathBuf {
        self.bed.path(&format!("{}.log", NAMES[i]))
    }
}

impl Contender for Keepalived {
    fn kind(&self) -> Kind {
        Kind::Keepalived
    }
    fn bed(&self) -> &Bed {
        &self.bed
    }
    fn start(&mut self, i: usize) {
        let pid = self.bed.path(&format!("{}.pid", NAMES[i]));
        let vrrp = self.bed.path(&format!("{}.vrrp.pid", NAMES[i]));
        let _ = std::fs::remove_file(&pid);
        let _ = std::fs::remove_file(&vrrp);
        let log = std::fs::File::create(self.log_path(i)).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.bed.seg.ns(i), "keepalived"])
            .args([
                "--dont-fork",
                "--log-console",
                "--no-syslog",
                "--log-detail",
            ])
            .args(["--vrrp", "--use-file"])
            .arg(self.bed.path(&format!("{}.conf", NAMES[i])))
            .arg("--pid")
            .arg(&pid)
            .arg("--vrrp_pid")
            .arg(&vrrp)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start keepalived");
        self.children[i] = Some(child);
    }
    fn kill(&mut self, i: usize) {
        signal(&self.processes(i), libc::SIGKILL);
        if let Some(mut c) = self.children[i].take() {
            let _ = c.wait();
        }
    }
    fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            signal(&[c.id()], libc::SIGTERM);
            let _ = c.wait();
        }
    }
    fn ready(&self, i: usize) -> bool {
        self.children[i].is_some()
            && std::fs::read_to_string(self.log_path(i)).is_ok_and(|l| {
                l.contains("Entering BACKUP STATE") || l.contains("Entering MASTER STATE")
            })
    }
    fn processes(&self, i: usize) -> Vec<u32> {
        self.children[i]
            .as_ref()
            .map(|c| tree(c.id()))
            .unwrap_or_default()
    }
    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        for i in 0..2 {
            self.kill(i);
        }
    }
}

/// Pacemaker + Corosync on the same bed, from tandem's export of the same
/// ha.cf and haresources (`tandem export-pacemaker`), each node in its
/// own namespaces (tests/common/pacemaker.rs). Two changes to the export
/// for the benchmark: the token under test, and `wait_for_all: 0` so that
/// alpha starts alone, as every pair here does.
pub struct Pacemaker {
    bed: Bed,
    export: PathBuf,
    nodes: [Option<common::pacemaker::Node>; 2],
    /// The CIB was loaded (once, when the first node elected itself).
    loaded: bool,
}

impl Pacemaker {
    fn new(bed: Bed, t: &Timing) -> Pacemaker {
        use std::os::unix::fs::PermissionsExt;
        let cfg = bed.path("ha.d");
        std::fs::create_dir_all(&cfg).expect("mkdir");
        std::fs::write(cfg.join("ha.cf"), hacf(t, 1)).expect("ha.cf");
        std::fs::write(cfg.join("haresources"), HARESOURCES).expect("haresources");
        std::fs::write(cfg.join("authkeys"), AUTHKEYS).expect("authkeys");
        std::fs::set_permissions(cfg.join("authkeys"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let export = bed.path("export");
        let opts = tandem::export::Options {
            dir: cfg,
            node: Some("alpha".into()),
            out: export.clone(),
            addresses: vec!["alpha=192.0.2.1".into(), "beta=192.0.2.2".into()],
        };
        tandem::export::export(&opts).expect("tandem export-pacemaker");
        let conf = std::fs::read_to_string(export.join("corosync.conf")).expect("corosync.conf");
        let conf: String = conf
            .lines()
            .map(|l| match l.trim() {
                line if line.starts_with("token:") => format!("    token: {}\n", t.token),
                "two_node: 1" => format!("{l}\n    wait_for_all: 0\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(export.join("corosync.conf"), conf).expect("corosync.conf");
        Pacemaker {
            bed,
            export,
            nodes: [None, None],
            loaded: false,
        }
    }

    fn node(&self, i: usize) -> Option<&common::pacemaker::Node> {
        self.nodes[i].as_ref()
    }

    fn crm_mon(&self, i: usize) -> String {
        self.node(i)
            .map(|n| String::from_utf8_lossy(&n.exec(&["crm_mon", "-1"]).stdout).to_string())
            .unwrap_or_default()
    }
}

impl Contender for Pacemaker {
    fn kind(&self) -> Kind {
        Kind::Pacemaker
    }
    fn bed(&self) -> &Bed {
        &self.bed
    }
    fn start(&mut self, i: usize) {
        let node =
            common::pacemaker::Node::start(&self.bed.seg, i, &self.export, self.bed.dir.path());
        self.nodes[i] = Some(node);
        if self.loaded {
            return;
        }
        // The first node: once it elected itself (dc-deadtime), the CIB.
        let elected = common::wait_for(Duration::from_secs(90), || {
            let t = self.crm_mon(i);
            t.contains("Current DC:") && !t.contains("Current DC: NONE")
        });
        let cib = self.export.join("cib.xml").display().to_string();
        if let (true, Some(n)) = (elected, self.node(i)) {
            let out = n.exec(&[
                "cibadmin",
                "--replace",
                "--scope",
                "configuration",
                "--xml-file",
                &cib,
            ]);
            self.loaded = out.status.success();
        }
    }
    fn kill(&mut self, i: usize) {
        if let Some(mut n) = self.nodes[i].take() {
            n.kill();
        }
    }
    fn stop(&mut self, i: usize) {
        if let Some(mut n) = self.nodes[i].take() {
            n.stop();
        }
    }
    fn ready(&self, i: usize) -> bool {
        let t = self.crm_mon(i);
        t.contains("Online: [ alpha beta ]")
            && t.contains("Started ")
            && !t.contains("Starting")
            && !t.contains("Stopping")
    }
    fn processes(&self, i: usize) -> Vec<u32> {
        // Pacemaker's and Corosync's, not the namespace's init shell.
        self.node(i)
            .map(|n| tree(n.pid()))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| {
                let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
                !matches!(comm.trim(), "unshare" | "sh" | "")
            })
            .collect()
    }
    fn log(&self, i: usize) -> String {
        self.node(i).map(|n| n.logs()).unwrap_or_default()
    }
}
