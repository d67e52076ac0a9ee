//! `tandem export-pacemaker`, proven with Pacemaker's and Corosync's own
//! tools (Debian packages pacemaker, corosync, pacemaker-cli-utils, crmsh,
//! pcs; tests/setup installs them, and no service of theirs starts).
//!
//! Offline, on every configuration of a corpus (Debian's Heartbeat example
//! files completed, the repo's examples, a realistic pair with several
//! groups, IPv6, ping nodes, STONITH, an LVS director, a script with
//! arguments, an OCF instance and a shared MAC, and a three-node cluster):
//! - `corosync -t` accepts corosync.conf with the written authkey;
//! - `crm_verify -x` accepts cib.xml;
//! - `crm_simulate` places each group on the node haresources names, and
//!   with that node failed on another;
//! - configure.crm, run by crmsh into an empty CIB, gives a CIB `crm_diff`
//!   finds equal to cib.xml;
//! - configure.pcs, run by pcs into an empty CIB, gives one `crm_diff`
//!   finds equal to cib.xml once both are in canonical form (see
//!   CANONICAL: pcs orders attributes and name-value pairs its own way,
//!   names rule expressions itself, and leaves the cluster name and the
//!   node list to the live cluster).
//!
//! Live, a real cluster of 2 nodes and of 3 (tests/common/pacemaker.rs:
//! each node in its own network, mount, UTS, IPC and PID namespaces) runs
//! the export of the configuration a tandem pair runs in the namespace
//! tests (the address and a resource.d script that answers TCP with the
//! node's name). The group starts where haresources says; the holder is
//! then ended outright (its PID namespace killed, its link deleted) and
//! the group starts on another node, where the address answers with that
//! node's name. The two-node cluster is loaded with configure.crm, the
//! three-node one with cib.xml.
//!
//! crmsh and pcs read an agent's metadata before they accept a primitive:
//! they run in a private mount namespace where an overlay adds the repo's
//! dist/ocf/tandem agents to /usr/lib/ocf/resource.d (the host's is not
//! touched). Needs root for that namespace; skips with the reason
//! otherwise, and fails under CI=true.

mod common;

use common::debian::{completed_authkeys, completed_hacf, completed_haresources, ClientDir};
use common::pacemaker::Cluster;
use common::{heartbeat_doc_dir, ip, is_root, skip, wait_for, Segment, EXE, NAMES};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TOOLS: &[&str] = &[
    "crm_verify",
    "crm_simulate",
    "crm_diff",
    "cibadmin",
    "crm",
    "pcs",
    "corosync",
];

fn cannot_run(test: &str) -> bool {
    if !is_root() {
        return skip(test, "needs root for a private mount namespace (crmsh and pcs need tandem's agents installed)");
    }
    for tool in TOOLS {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return skip(test, &format!("needs {tool} (tests/setup installs pacemaker, corosync, pacemaker-cli-utils, crmsh and pcs)"));
        }
    }
    false
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sh(script: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .output()
        .expect("sh")
}

/// Runs `args` in a private mount namespace where tandem's OCF agents
/// (dist/ocf/tandem) are under /usr/lib/ocf/resource.d.
fn with_agents(args: &[&str]) -> Output {
    let agents = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/ocf");
    let mut all = vec!["unshare", "--mount", "--propagation", "private", "sh", "-c"];
    let script = format!(
        "mount -t overlay overlay -o lowerdir={}:/usr/lib/ocf/resource.d /usr/lib/ocf/resource.d && exec \"$@\"",
        agents.display()
    );
    all.push(&script);
    all.push("sh");
    all.extend_from_slice(args);
    Command::new(all[0])
        .args(&all[1..])
        .output()
        .expect("unshare")
}

/// One configuration of the corpus.
struct Case {
    name: &'static str,
    dir: tempfile::TempDir,
    /// Each node's addresses, one per link.
    addresses: Vec<(&'static str, &'static str)>,
}

impl Case {
    fn new(name: &'static str, addresses: Vec<(&'static str, &'static str)>) -> Case {
        let dir = tempfile::Builder::new()
            .prefix(&format!("tandem-export-{name}-"))
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join("resource.d")).expect("mkdir");
        Case {
            name,
            dir,
            addresses,
        }
    }

    fn write(&self, file: &str, content: &str) {
        let path = self.dir.path().join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write");
        if file == "authkeys" {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }

    fn script(&self, name: &str) {
        self.write(
            &format!("resource.d/{name}"),
            "#!/bin/sh\necho \"$*\" >> \"$0.log\"\n[ \"$2\" != status ] || echo running\n",
        );
        let path = self.dir.path().join("resource.d").join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("export")
    }

    /// Runs the export; returns its output.
    fn export(&self) -> Output {
        let mut cmd = Command::new(EXE);
        cmd.args(["export-pacemaker", "-c"])
            .arg(self.dir.path())
            .args(["--node", self.addresses[0].0, "-o"])
            .arg(self.out());
        for (node, ips) in &self.addresses {
            cmd.arg("--address").arg(format!("{node}={ips}"));
        }
        cmd.output().expect("export-pacemaker")
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.out().join(file)).expect("export file")
    }
}

/// cib.xml with every node online and quorum, for crm_simulate.
fn with_nodes_online(cib: &str, nodes: &[&str]) -> String {
    let states: String = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "    <node_state id=\"{}\" uname=\"{n}\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>\n",
                i + 1
            )
        })
        .collect();
    cib.replace("<status/>", &format!("<status>\n{states}  </status>"))
        .replacen("<cib ", "<cib have-quorum=\"1\" ", 1)
}

/// Where `crm_simulate`'s revised status starts each group: group id →
/// the node its first primitive runs on.
fn placement(simulated: &str) -> Vec<(String, String)> {
    let revised = simulated
        .split("Revised Cluster Status:")
        .nth(1)
        .unwrap_or("");
    let lines: Vec<&str> = revised.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.trim().strip_prefix("* Resource Group: ") else {
            continue;
        };
        let group = rest.trim_end_matches(':').to_string();
        let node = lines
            .get(i + 1)
            .and_then(|n| n.split("Started ").nth(1))
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "nowhere".into());
        out.push((group, node));
    }
    out
}

/// Both CIBs in one form: attributes sorted, name-value pairs sorted by
/// name, rule expressions named by position, and what pcs leaves to the
/// live cluster (the cluster-name property, the node list) left out.
const CANONICAL: &str = r#"
import sys, xml.etree.ElementTree as ET
tree = ET.parse(sys.argv[1]); root = tree.getroot()
for parent in root.iter():
    for child in list(parent):
        if child.tag == 'node' or child.get('name') == 'cluster-name':
            parent.remove(child)
    if parent.tag in ('instance_attributes', 'meta_attributes', 'cluster_property_set'):
        pairs = sorted(parent, key=lambda e: e.get('name'))
        for e in list(parent): parent.remove(e)
        parent.extend(pairs)
    if parent.tag == 'rule':
        for i, e in enumerate(parent.findall('expression')):
            e.set('id', '%s-expression-%d' % (parent.get('id'), i))
for e in root.iter():
    attrs = sorted(e.attrib.items()); e.attrib.clear(); e.attrib.update(attrs)
root.set('epoch', '1')
tree.write(sys.argv[2])
"#;

/// Every check of the offline proof on one exported case.
fn prove(case: &Case, groups: &[(&str, &str)]) {
    let name = case.name;
    let out = case.export();
    assert!(
        out.status.success(),
        "{name}: export failed:\n{}",
        text(&out)
    );
    let dir = case.out();
    let d = |f: &str| dir.join(f).display().to_string();

    // The key: fresh, 0600.
    let mode = std::fs::metadata(dir.join("authkey"))
        .expect("authkey")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{name}: authkey mode {mode:o}");
    // Corosync accepts its configuration with that key, on the first
    // node (a network namespace of its own with that node's addresses).
    let first: Vec<&str> = case.addresses[0].1.split(',').collect();
    let corosync = sh(
        "unshare --mount --net --propagation private sh -c 'ip link set lo up && for a in $2; do ip addr add $a dev lo; done && mount --bind \"$1\" /etc/corosync && corosync -t -c /etc/corosync/corosync.conf' sh \"$1\" \"$2\"",
        &[&dir.display().to_string(), &first.join(" ")],
    );
    assert!(
        corosync.status.success(),
        "{name}: corosync -t:\n{}\n{}",
        text(&corosync),
        case.read("corosync.conf")
    );

    // Pacemaker accepts the CIB.
    let verify = Command::new("crm_verify")
        .args(["-V", "-x", &d("cib.xml")])
        .output()
        .expect("crm_verify");
    assert!(
        verify.status.success(),
        "{name}: crm_verify:\n{}\n{}",
        text(&verify),
        case.read("cib.xml")
    );

    // Placement, and failover of each group's node.
    let nodes: Vec<&str> = case.addresses.iter().map(|(n, _)| *n).collect();
    std::fs::write(
        dir.join("sim.xml"),
        with_nodes_online(&case.read("cib.xml"), &nodes),
    )
    .expect("sim");
    let placed = Command::new("crm_simulate")
        .args(["-x", &d("sim.xml"), "-S", "-O", &d("placed.xml")])
        .output()
        .expect("crm_simulate");
    let at = placement(&text(&placed));
    for (group, node) in groups {
        assert!(
            at.iter().any(|(g, n)| g == group && n == node),
            "{name}: {group} is not placed on {node}: {at:?}\n{}",
            text(&placed)
        );
        let failed = Command::new("crm_simulate")
            .args(["-x", &d("placed.xml"), "-f", node, "-S"])
            .output()
            .expect("crm_simulate -f");
        let moved = placement(&text(&failed));
        assert!(
            moved
                .iter()
                .any(|(g, n)| g == group && n != node && nodes.contains(&n.as_str())),
            "{name}: with {node} failed, {group} runs nowhere else: {moved:?}\n{}",
            text(&failed)
        );
    }

    // crmsh builds the same CIB.
    let empty = Command::new("cibadmin")
        .arg("--empty")
        .output()
        .expect("cibadmin");
    std::fs::write(dir.join("crm.xml"), &empty.stdout).expect("crm.xml");
    std::fs::write(dir.join("pcs.xml"), &empty.stdout).expect("pcs.xml");
    let crm = with_agents(&[
        "env",
        &format!("CIB_file={}", d("crm.xml")),
        "crm",
        "-f",
        &d("configure.crm"),
    ]);
    assert!(
        crm.status.success(),
        "{name}: crm -f configure.crm:\n{}",
        text(&crm)
    );
    let diff = Command::new("crm_diff")
        .args(["-u", "-o", &d("cib.xml"), "-n", &d("crm.xml")])
        .output()
        .expect("crm_diff");
    assert!(
        diff.status.success(),
        "{name}: crmsh's CIB differs from cib.xml:\n{}",
        text(&diff)
    );

    // pcs builds the same CIB, up to the canonical form.
    let pcs = with_agents(&[
        "env",
        &format!("CIB={}", d("pcs.xml")),
        "sh",
        &d("configure.pcs"),
    ]);
    assert!(
        pcs.status.success(),
        "{name}: sh configure.pcs:\n{}",
        text(&pcs)
    );
    for (from, to) in [
        ("cib.xml", "cib.canonical.xml"),
        ("pcs.xml", "pcs.canonical.xml"),
    ] {
        let c = Command::new("python3")
            .args(["-c", CANONICAL, &d(from), &d(to)])
            .output()
            .expect("python3");
        assert!(c.status.success(), "{}", text(&c));
    }
    let diff = Command::new("crm_diff")
        .args([
            "-u",
            "-o",
            &d("cib.canonical.xml"),
            "-n",
            &d("pcs.canonical.xml"),
        ])
        .output()
        .expect("crm_diff");
    assert!(
        diff.status.success(),
        "{name}: pcs's CIB differs from cib.xml:\n{}",
        text(&diff)
    );
}

const KEYS: &str = "auth 1\n1 sha256 export-test-key\n";

#[test]
fn the_export_of_every_configuration_of_the_corpus_is_accepted_placed_and_rebuilt_by_crmsh_and_pcs()
{
    let test = "the_export_of_every_configuration_of_the_corpus_is_accepted_placed_and_rebuilt_by_crmsh_and_pcs";
    if cannot_run(test) {
        return;
    }

    // Debian's example files, completed as in tests/netns_heartbeat_files.rs.
    if let Some(doc) = heartbeat_doc_dir(test) {
        let client = ClientDir::new("export-respawn", "exec sleep 1000");
        let quitter = ClientDir::new("export-respawn100", "exit 100");
        let case = Case::new(
            "debian",
            vec![("alpha", "192.0.2.1"), ("beta", "192.0.2.2")],
        );
        case.write("ha.cf", &completed_hacf(&doc, &client, &quitter));
        case.write("haresources", &completed_haresources(&doc));
        case.write("authkeys", &completed_authkeys(&doc));
        prove(&case, &[("group_ip_192.0.2.100", "alpha")]);
        let report = case.read("report.txt");
        assert!(report.contains("respawn nobody"), "{report}");
        assert!(
            report.contains("not exported (a tandem client)"),
            "{report}"
        );
    }

    // The repo's examples: a serial link (warned), bcast on eth1, ucast on
    // eth0; an init.d script (nginx: lsb) and an LVS director.
    {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(root.join(f)).expect("example");
        let case = Case::new(
            "examples",
            vec![
                ("alpha", "198.51.100.1,192.0.2.1"),
                ("beta", "198.51.100.2,192.0.2.2"),
            ],
        );
        case.write("ha.cf", &read("ha.cf.example"));
        case.write(
            "haresources",
            &read("haresources.example").replace("/etc/ha.d/director.cf", "director.cf"),
        );
        case.write("authkeys", KEYS);
        case.write("director.cf", "checkinterval=2\nvirtual=198.51.100.10:80\n\treal=192.0.2.20:80 gate\n\tchecktype=connect\n");
        prove(
            &case,
            &[
                ("group_ip_192.0.2.10", "alpha"),
                ("group_ip_198.51.100.10", "beta"),
            ],
        );
        let cib = case.read("cib.xml");
        assert!(cib.contains("class=\"lsb\" type=\"nginx\""), "{cib}");
        assert!(cib.contains("type=\"ldirectord\""), "{cib}");
        let report = case.read("report.txt");
        assert!(report.contains("serial /dev/ttyS0"), "{report}");
        assert!(
            report.contains("a serial or PPP link has no Corosync counterpart"),
            "{report}"
        );
    }

    // A realistic pair: IPv6, a script with arguments, a v1 name carried
    // by its OCF agent, an OCF instance, a shared MAC, ping nodes of both
    // families, STONITH, the failure directives, auto_failback off.
    {
        let case = Case::new(
            "realistic",
            vec![("alpha", "192.0.2.1"), ("beta", "192.0.2.2")],
        );
        case.write(
            "ha.cf",
            "keepalive 500ms\ndeadtime 2\nwarntime 1\ninitdead 10\nucast eth0 192.0.2.1\nucast eth0 192.0.2.2\nnode alpha\nnode beta\nauto_failback off\nping 192.0.2.3\nping_group uplinks 192.0.2.4 2001:db8::4\nstonith_host * external/ssh alpha beta\nmonitor_interval 5\nresource_timeout 30\nmigration_threshold 3\nfailure_timeout 120\non_stop_failure fence\n",
        );
        let key = case.dir.path().join("dns.key");
        case.write(
            "haresources",
            &format!("alpha IPaddr2::192.0.2.100/24/eth0 webapp::8080::production\nbeta IPv6addr::2001:db8::100/64/eth0 Filesystem::/dev/vdb1::/srv::ext4 OCF::Dummy::cache\nalpha MacTakeover::eth0::02:00:5e:00:53:01\nbeta DynDNS::www.tandem.test::192.0.2.100::192.0.2.53::{}::60\n", key.display()),
        );
        case.write(
            "dns.key",
            "key \"tandem.\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LWtleS1mb3ItdGhlLWV4cG9ydC10ZXN0IQ==\";\n};\n",
        );
        case.write("authkeys", KEYS);
        case.script("webapp");
        case.write(
            "conf/OCF/Dummy/cache",
            "state=/run/dummy-cache.state\nfake=cached\n",
        );
        prove(
            &case,
            &[
                ("group_ip_192.0.2.100", "alpha"),
                ("group_ip_2001_db8__100", "beta"),
                ("group_mac_eth0", "alpha"),
                ("group_dns_www.tandem.test", "beta"),
            ],
        );
        let cib = case.read("cib.xml");
        for want in [
            "type=\"IPv6addr\"",
            "name=\"args\" value=\"8080 production\"",
            "type=\"v1script\"",
            "provider=\"heartbeat\" type=\"Filesystem\"",
            "name=\"fstype\" value=\"ext4\"",
            "name=\"fake\" value=\"cached\"",
            "provider=\"tandem\" type=\"MacTakeover\"",
            "type=\"dnsupdate\"",
            "name=\"hostname\" value=\"www.tandem.test\"",
            "name=\"host_list\" value=\"192.0.2.4 2001:db8::4\"",
            "name=\"resource-stickiness\" value=\"200\"",
            "name=\"migration-threshold\" value=\"3\"",
            "name=\"failure-timeout\" value=\"120s\"",
            "on-fail=\"fence\"",
            "name=\"stonith-enabled\" value=\"false\"",
        ] {
            assert!(cib.contains(want), "no {want} in:\n{cib}");
        }
        assert!(!cib.contains("export-test-key"), "a secret in cib.xml");
        assert!(!cib.contains("c2VjcmV0"), "a TSIG secret in cib.xml");
        let err = String::from_utf8_lossy(&case.export_again_stderr()).to_string();
        assert!(err.contains("FENCING IS OFF"), "{err}");
        let report = case.read("report.txt");
        assert!(
            report.contains("stonith_host * external/ssh alpha beta"),
            "{report}"
        );
        assert!(report.contains("FENCING IS OFF"), "{report}");
    }

    // Three nodes on a multicast link: no two_node, the token explained.
    {
        let case = Case::new(
            "three",
            vec![
                ("alpha", "192.0.2.1"),
                ("beta", "192.0.2.2"),
                ("gamma", "192.0.2.3"),
            ],
        );
        case.write(
            "ha.cf",
            "keepalive 1\ndeadtime 5\nmcast eth0 239.255.0.1 694 1 0\nnode alpha beta gamma\nauto_failback on\n",
        );
        case.write(
            "haresources",
            "alpha IPaddr2::192.0.2.100/24/eth0\ngamma IPaddr2::192.0.2.102/24/eth0\n",
        );
        case.write("authkeys", KEYS);
        prove(
            &case,
            &[
                ("group_ip_192.0.2.100", "alpha"),
                ("group_ip_192.0.2.102", "gamma"),
            ],
        );
        let conf = case.read("corosync.conf");
        assert!(!conf.contains("two_node"), "{conf}");
        assert!(conf.contains("token: 5000"), "{conf}");
    }
}

impl Case {
    /// The export's stderr, written into a second, fresh directory.
    fn export_again_stderr(&self) -> Vec<u8> {
        let again = self.dir.path().join("again");
        let mut cmd = Command::new(EXE);
        cmd.args(["export-pacemaker", "-c"])
            .arg(self.dir.path())
            .args(["--node", self.addresses[0].0, "-o"])
            .arg(&again);
        for (node, ips) in &self.addresses {
            cmd.arg("--address").arg(format!("{node}={ips}"));
        }
        cmd.output().expect("export").stderr
    }
}

#[test]
fn nothing_is_written_into_a_directory_with_files_or_for_a_node_without_an_address() {
    let case = Case::new("refused", vec![("alpha", "192.0.2.1")]);
    case.write(
        "ha.cf",
        "keepalive 1\ndeadtime 5\nbcast eth0\nnode alpha\nnode no-such-node-tandem-test\n",
    );
    case.write("haresources", "alpha IPaddr2::192.0.2.100/24/eth0\n");
    case.write("authkeys", KEYS);
    // The second node has no --address and no name the resolver knows.
    let out = case.export();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "node no-such-node-tandem-test: no address; pass --address no-such-node-tandem-test=IP"
        ),
        "{}",
        text(&out)
    );
    assert!(!case.out().exists(), "something was written");
    // A directory with a file in it is never written into.
    std::fs::create_dir_all(case.out()).expect("mkdir");
    std::fs::write(case.out().join("keep"), "mine").expect("write");
    let mut cmd = Command::new(EXE);
    cmd.args(["export-pacemaker", "-c"])
        .arg(case.dir.path())
        .args(["--node", "alpha", "-o"])
        .arg(case.out())
        .args([
            "--address",
            "alpha=192.0.2.1",
            "--address",
            "no-such-node-tandem-test=192.0.2.2",
        ]);
    let out = cmd.output().expect("export");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("exists and is not an empty directory; nothing was written"),
        "{}",
        text(&out)
    );
    let left: Vec<_> = std::fs::read_dir(case.out()).expect("read").collect();
    assert_eq!(left.len(), 1);
    // A bad configuration: check-config's file:line errors, nothing written.
    case.write("haresources", "alpha no-such-script-tandem-test\n");
    let out = case.export();
    assert!(
        text(&out).contains("haresources:1: no-such-script-tandem-test: no executable"),
        "{}",
        text(&out)
    );
}

/// A resource.d script: a TCP server on port 8080 that answers with the
/// node's name (its UTS namespace's hostname), its pid under /run.
const ANSWER: &str = "#!/bin/sh\npid=/run/answer.pid\ncase \"$1\" in\nstart) setsid python3 -c 'import socket,os\ns=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind((\"\",8080));s.listen(16)\nwhile True:\n  c,_=s.accept();c.sendall(os.uname().nodename.encode()+b\"\\n\");c.close()' </dev/null >/dev/null 2>&1 &\n  echo $! > $pid ;;\nstop) [ -f $pid ] && kill $(cat $pid) 2>/dev/null; rm -f $pid ;;\nstatus) if [ -f $pid ] && kill -0 $(cat $pid) 2>/dev/null; then echo running; else echo stopped; fi ;;\nesac\nexit 0\n";

const VIP: &str = "192.0.2.100";
const CLIENT: &str = "192.0.2.250";

/// What answers on the address, from the client (the switch namespace).
fn answer(seg: &Segment) -> Option<String> {
    let ns = seg.switch();
    common::heartbeat::in_netns(&ns, || {
        use std::io::Read;
        let addr = std::net::SocketAddr::from(([192, 0, 2, 100], 8080));
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).ok()?;
        Some(buf.trim().to_string())
    })
}

fn live(nodes: usize, test: &str) {
    if cannot_run(test) || common::cannot_run(test) {
        return;
    }
    let names = &NAMES[..nodes];
    let addresses: Vec<(&'static str, &'static str)> = [
        ("alpha", "192.0.2.1"),
        ("beta", "192.0.2.2"),
        ("gamma", "192.0.2.3"),
    ][..nodes]
        .to_vec();
    // The configuration of the tandem pair in tests/netns_takeover.rs,
    // with every node listed and a script that answers with the name.
    let case = Case::new(if nodes == 2 { "live2" } else { "live3" }, addresses);
    case.write(
        "ha.cf",
        &format!(
            "keepalive 100ms\nwarntime 400ms\ndeadtime 1\ninitdead 2\nbcast eth0\nnode {}\nauto_failback on\nrealtime off\non_stop_failure block\n",
            names.join(" ")
        ),
    );
    case.write(
        "haresources",
        &format!("alpha IPaddr2::{VIP}/24/eth0 answer\n"),
    );
    case.write("authkeys", KEYS);
    case.write("resource.d/answer", ANSWER);
    std::fs::set_permissions(
        case.dir.path().join("resource.d/answer"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let out = case.export();
    assert!(out.status.success(), "{}", text(&out));

    let seg = Segment::new(if nodes == 2 { "pcmk2" } else { "pcmk3" }, nodes);
    ip(&[
        "-n",
        &seg.switch(),
        "addr",
        "add",
        &format!("{CLIENT}/24"),
        "dev",
        "br0",
    ]);
    let mut cluster = Cluster::start(&seg, nodes, &case.out(), case.dir.path());

    // Corosync's membership, then Pacemaker's election (dc-deadtime 20 s).
    let online = format!("Online: [ {} ]", names.join(" "));
    let up = wait_for(Duration::from_secs(90), || {
        let o = cluster.nodes[0].exec(&["crm_mon", "-1"]);
        let t = String::from_utf8_lossy(&o.stdout);
        t.contains(&online) && t.contains("Current DC:") && !t.contains("Current DC: NONE")
    });
    assert!(up, "the cluster did not form:\n{}", cluster.logs());

    // Loaded as an operator loads it.
    let out = case.out();
    let load = if nodes == 2 {
        cluster.nodes[0].exec(&[
            "crm",
            "-f",
            &out.join("configure.crm").display().to_string(),
        ])
    } else {
        cluster.nodes[0].exec(&[
            "cibadmin",
            "--replace",
            "--scope",
            "configuration",
            "--xml-file",
            &out.join("cib.xml").display().to_string(),
        ])
    };
    assert!(
        load.status.success(),
        "loading the export:\n{}",
        text(&load)
    );

    let placed = wait_for(Duration::from_secs(60), || {
        answer(&seg).as_deref() == Some("alpha")
    });
    assert!(
        placed,
        "the address does not answer from alpha ({:?}):\n{}\n{}",
        answer(&seg),
        text(&cluster.nodes[0].exec(&["crm_mon", "-1"])),
        cluster.logs()
    );

    // alpha ends outright: its PID namespace and its link go.
    let killed = Instant::now();
    cluster.kill(0);
    ip(&["-n", &seg.switch(), "link", "del", "p0"]);
    let mut by = None;
    let moved = wait_for(Duration::from_secs(60), || {
        by = answer(&seg).filter(|n| n != "alpha" && names.contains(&n.as_str()));
        by.is_some()
    });
    let took = killed.elapsed();
    assert!(
        moved,
        "no other node answers on the address:\n{}\n{}",
        text(&cluster.nodes[1].exec(&["crm_mon", "-1"])),
        cluster.logs()
    );
    let conf = case.read("corosync.conf");
    let token = conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap_or("?");
    eprintln!(
        "{nodes}-node Pacemaker cluster from tandem's export: alpha ended -> {VIP} answers from {} after {took:?} (token {token} ms)",
        by.unwrap_or_default()
    );
}

#[test]
fn a_two_node_cluster_runs_the_export_and_takes_over_from_a_dead_node() {
    live(
        2,
        "a_two_node_cluster_runs_the_export_and_takes_over_from_a_dead_node",
    );
}

#[test]
fn a_three_node_cluster_runs_the_export_and_takes_over_from_a_dead_node() {
    live(
        3,
        "a_three_node_cluster_runs_the_export_and_takes_over_from_a_dead_node",
    );
}

/// tandem's agents pass resource-agents' own `ocf-tester` (meta-data,
/// validate-all, start, monitor, stop, a second stop, monitor after stop):
/// v1script on a resource.d-style script, MacTakeover on a veth in a
/// network namespace of its own. (LVSSyncDaemonSwap needs IPVS, which
/// this kernel may lack; tests/vm_ipvs.rs runs the built-in it calls.)
#[test]
fn tandem_s_ocf_agents_pass_ocf_tester() {
    let test = "tandem_s_ocf_agents_pass_ocf_tester";
    if common::cannot_run(test) {
        return;
    }
    if Command::new("ocf-tester").arg("-h").output().is_err() {
        skip(
            test,
            "needs ocf-tester (resource-agents; tests/setup installs it)",
        );
        return;
    }
    let agents = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/ocf/tandem");
    let case = Case::new("agents", vec![("alpha", "192.0.2.1")]);
    // A v1 script with a state: `svc NAME start|stop|status`.
    case.write(
        "resource.d/svc",
        "#!/bin/sh\nf=\"$0.$1\"\ncase \"$2\" in\nstart) touch \"$f\" ;;\nstop) rm -f \"$f\" ;;\nstatus) if [ -f \"$f\" ]; then echo running; else echo stopped; fi ;;\nesac\nexit 0\n",
    );
    let script = case.dir.path().join("resource.d/svc");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let script = script.display().to_string();
    let v1 = Command::new("ocf-tester")
        .args([
            "-n",
            "v1",
            "-o",
            &format!("script={script}"),
            "-o",
            "args=web",
        ])
        .arg(agents.join("v1script"))
        .output()
        .expect("ocf-tester");
    assert!(v1.status.success(), "v1script:\n{}", text(&v1));

    let ns = format!("tandem-agents-{}", std::process::id());
    ip(&["netns", "add", &ns]);
    let guard = NsGuard(ns.clone());
    ip(&[
        "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &ns, "link", "set", "eth0", "up"]);
    let before = Command::new("ip")
        .args(["-n", &ns, "-br", "link", "show", "eth0"])
        .output()
        .expect("ip");
    let state = case.dir.path().join("state").display().to_string();
    let mac = Command::new("ip")
        .args(["netns", "exec", &ns, "ocf-tester", "-n", "mac"])
        .args(["-o", "nic=eth0", "-o", "mac=02:00:5e:00:53:01"])
        .args([
            "-o",
            &format!("state_dir={state}"),
            "-o",
            &format!("tandem={EXE}"),
        ])
        .arg(agents.join("MacTakeover"))
        .output()
        .expect("ocf-tester");
    assert!(mac.status.success(), "MacTakeover:\n{}", text(&mac));
    // Stopped, the interface has its own address back.
    let after = Command::new("ip")
        .args(["-n", &ns, "-br", "link", "show", "eth0"])
        .output()
        .expect("ip");
    assert_eq!(text(&before), text(&after));
    drop(guard);
}

/// Removes network namespace `ns` when dropped (also after a panic).
struct NsGuard(String);

impl Drop for NsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}
