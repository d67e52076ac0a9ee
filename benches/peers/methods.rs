//! Takeover methods compared on tandem, as operators are told they rank:
//! MAC takeover (the address and the MAC move: clients' ARP caches stay
//! right, the switch learns the port from the first frame), IP takeover
//! with gratuitous ARP, and a dynamic DNS update (RFC 2136, TSIG) to a
//! real BIND 9 that the client resolves through a caching BIND 9, with a
//! record TTL of 1 s and DynDNS's default (60 s). Each from kill -9 of the
//! owner to the client's first TCP connect answered by the survivor.

use crate::common::vip::VIP;
use crate::common::{self, NAMES};
use crate::contender::{Bed, Contender, Tandem, Timing};
use crate::{bring_up, failover_once, Mode, Stats};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Clone, Copy)]
pub enum Method {
    Mac,
    Dns { ttl: Option<u32> },
}

impl Method {
    pub fn name(self) -> String {
        match self {
            Method::Mac => "MAC takeover (MacTakeover + IPaddr2)".into(),
            Method::Dns { ttl: Some(t) } => format!("dynamic DNS, TTL {t} s (DynDNS)"),
            Method::Dns { ttl: None } => "dynamic DNS, default TTL 60 s (DynDNS)".into(),
        }
    }
}

/// A locally administered address for the pair to share.
const SHARED_MAC: &str = "02:00:00:00:01:64";

/// Measures `runs` kill -9 takeovers of a tandem pair using `method`.
pub fn measure(method: Method, t: &Timing, runs: usize) -> Result<Stats, String> {
    if let Method::Dns { .. } = method {
        if !Path::new("/usr/sbin/named").exists() {
            return Err("/usr/sbin/named is not installed (bench/run installs bind9)".into());
        }
    }
    let mut bed = Bed::new("pm", 1);
    let groups: [String; 2] = match method {
        Method::Mac => {
            let g = format!("alpha MacTakeover::eth0::{SHARED_MAC} IPaddr2::{VIP}/24/eth0\n");
            [g.clone(), g]
        }
        Method::Dns { ttl } => {
            let key = dns(&mut bed)?;
            let ttl = ttl.map(|t| format!("::{t}")).unwrap_or_default();
            [0, 1].map(|i| {
                format!(
                    "alpha DynDNS::www.tandem.test::192.0.2.{}::192.0.2.3:53::{}{ttl}\n",
                    i + 1,
                    key.display()
                )
            })
        }
    };
    let mut c = Tandem::new(bed, t, 1, [&groups[0], &groups[1]]);
    bring_up(&mut c, t)?;
    let mut reach = Stats::default();
    for run in 0..runs {
        let (_, r) = failover_once(&mut c, t, Mode::Kill, run).map_err(|e| {
            if std::env::var_os("TANDEM_BENCH_LOGS").is_some() {
                for (i, name) in NAMES[..2].iter().enumerate() {
                    println!("--- {name} ---\n{}", c.log(i));
                }
            }
            format!("run {run}: {e}")
        })?;
        reach.0.push(r);
    }
    Ok(reach)
}

/// Two BIND 9 servers in the client namespace: the authoritative one for
/// tandem.test on 192.0.2.3 (updates signed with a fresh key), and a
/// caching resolver on 127.0.0.1 that forwards the zone to it. Returns
/// the key file for DynDNS.
fn dns(bed: &mut Bed) -> Result<std::path::PathBuf, String> {
    let d = bed.dir.path().to_path_buf();
    let mut secret = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut secret));
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let key = d.join("key.conf");
    let write = |name: &str, text: String| {
        std::fs::write(d.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write(
        "key.conf",
        format!("key \"ddns-key\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{secret}\";\n}};\n"),
    )?;
    for role in ["auth", "cache"] {
        std::fs::create_dir_all(d.join(role)).map_err(|e| format!("{role}: {e}"))?;
    }
    let dir = d.display();
    write(
        "auth.conf",
        format!(
            "include \"{dir}/key.conf\";\ncontrols {{ }};\n\
             options {{ directory \"{dir}/auth\"; pid-file none; listen-on port 53 {{ 192.0.2.3; }};\n\
             listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; }};\n\
             zone \"tandem.test\" {{ type primary; file \"{dir}/tandem.test.zone\"; \
             allow-update {{ key \"ddns-key\"; }}; }};\n"
        ),
    )?;
    // Nobody's address until the first owner registers its own.
    write(
        "tandem.test.zone",
        "$TTL 60\n@ IN SOA ns.tandem.test. admin.tandem.test. ( 1 60 60 600 60 )\n\
         @ IN NS ns.tandem.test.\nns IN A 192.0.2.3\nwww IN A 192.0.2.99\n"
            .to_string(),
    )?;
    write(
        "cache.conf",
        format!(
            "controls {{ }};\n\
             options {{ directory \"{dir}/cache\"; pid-file none; listen-on port 53 {{ 127.0.0.1; }};\n\
             listen-on-v6 {{ none; }}; recursion yes; allow-query {{ any; }}; dnssec-validation no; }};\n\
             zone \"tandem.test\" {{ type forward; forward only; forwarders {{ 192.0.2.3; }}; }};\n"
        ),
    )?;
    for role in ["auth", "cache"] {
        let log =
            std::fs::File::create(d.join(format!("{role}.log"))).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &bed.seg.ns(2),
                "/usr/sbin/named",
                "-g",
                "-u",
                "root",
                "-c",
            ])
            .arg(d.join(format!("{role}.conf")))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("named: {e}"))?;
        bed.helpers.0.push(child);
    }
    // The resolver is asked for another name: it must not cache the
    // service's record before the first owner registers.
    let up = common::wait_for(Duration::from_secs(20), || {
        [
            ("192.0.2.3", "www", "192.0.2.99"),
            ("127.0.0.1", "ns", "192.0.2.3"),
        ]
        .iter()
        .all(|(server, name, want)| {
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &bed.seg.ns(2),
                    "dig",
                    &format!("@{server}"),
                ])
                .args([
                    &format!("{name}.tandem.test"),
                    "A",
                    "+short",
                    "+time=1",
                    "+tries=1",
                ])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == *want)
        })
    });
    if !up {
        let logs = std::fs::read_to_string(d.join("auth.log")).unwrap_or_default()
            + &std::fs::read_to_string(d.join("cache.log")).unwrap_or_default();
        return Err(format!("named did not come up:\n{logs}"));
    }
    bed.dns = Some("127.0.0.1");
    Ok(key)
}
