//! The `tandem` command: a thin CLI over the library.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tandem::config::{self, explain::Report, Files, Host, LoadOptions};

#[derive(Parser)]
#[command(
    name = "tandem",
    version,
    about = "A Heartbeat-style failover daemon",
    long_about = "tandem keeps a service up on a pair (or a few) of nodes: authenticated \
keepalives over serial, PPP and UDP links, and takeover of IP addresses, MAC addresses, \
DNS records and LVS directors. It reads Heartbeat's /etc/ha.d as it is.",
    after_help = "See tandem(8), ha.cf(5), haresources(5) and authkeys(5)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a configuration directory, explain it, and report every problem
    #[command(name = "check-config")]
    CheckConfig(CheckConfig),
    /// Run the daemon (in the foreground unless -d)
    Run(Run),
    /// Show what the running daemon knows: nodes, links, groups, drops
    Status(Status),
    /// Give resource groups away to the other node (hb_standby)
    Standby(Control),
    /// Pull resource groups to this node (hb_takeover)
    Takeover(Control),
    /// Re-read ha.cf, haresources and authkeys (kept only if valid)
    Reload(Daemon),
    /// Accept a node's generation that went backwards (its state was lost)
    #[command(name = "accept-generation")]
    AcceptGeneration(AcceptGeneration),
    /// Forget this node's failures of a group (all groups without one) and
    /// release a group blocked by a failed stop, once it is really stopped
    Cleanup(Cleanup),
    /// Ask the running daemon for a graceful shutdown (hands groups over)
    Stop(Daemon),
    /// Heartbeat's cl_status answers: hbstatus, listnodes, nodestatus NODE,
    /// listhblinks NODE, hblinkstatus NODE LINK, rscstatus
    #[command(name = "cl-status")]
    ClStatus(ClStatus),
    /// A real two-node pair on this machine: serial over a pty pair plus
    /// UDP on loopback, showing a takeover
    Demo(DemoArgs),
    /// Carry out a built-in resource or a takeover action by hand (what
    /// the shipped resource.d scripts call)
    #[command(subcommand)]
    Action(Action),
    /// Run the deterministic cluster simulator over many seeds
    Sim(Sim),
    /// Run an LVS director from an ldirectord.cf: health checks and the
    /// kernel's IPVS table (or talk to a running one: status, reload, stop)
    Director(DirectorCmd),
    /// Write the configuration as a Pacemaker + Corosync cluster's:
    /// corosync.conf, authkey, cib.xml, crmsh and pcs scripts, a report
    #[command(name = "export-pacemaker")]
    ExportPacemaker(ExportPacemaker),
}

#[derive(Args)]
struct ExportPacemaker {
    #[command(flatten)]
    at: Site,
    /// Write the files into DIR (it must not exist, or be empty)
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: PathBuf,
    /// NODE's address on each Corosync link, in ha.cf's link order
    /// (repeat for each node; default: the node name resolved, one link)
    #[arg(long = "address", value_name = "NODE=IP[,IP...]")]
    addresses: Vec<String>,
}

fn export_pacemaker(args: ExportPacemaker) -> anyhow::Result<ExitCode> {
    use tandem::export::{self, ExportError};
    let opts = export::Options {
        dir: args.at.dir,
        node: args.at.node,
        out: args.out.clone(),
        addresses: args.addresses,
    };
    match export::export(&opts) {
        Ok(warnings) => {
            for w in &warnings {
                eprintln!("tandem: warning: {w}");
            }
            println!(
                "wrote corosync.conf, authkey, cib.xml, configure.crm, configure.pcs and report.txt into {}",
                args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ExportError::Config(lines)) => {
            for l in &lines {
                eprintln!("tandem: {l}");
            }
            eprintln!("tandem: nothing exported: the configuration has errors");
            Ok(ExitCode::FAILURE)
        }
        Err(ExportError::Plan(errors)) => {
            for e in &errors {
                eprintln!("tandem: {e}");
            }
            eprintln!("tandem: nothing exported");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Args)]
struct DirectorCmd {
    #[command(subcommand)]
    action: Option<DirectorAction>,
    /// The director's configuration, in ldirectord.cf syntax
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "/etc/ha.d/ldirectord.cf",
        global = true
    )]
    config: PathBuf,
    /// The control socket (default /run/tandem/director.NAME.sock, NAME
    /// the configuration file's name)
    #[arg(long, value_name = "PATH", global = true)]
    socket: Option<PathBuf>,
    /// Run the health checks without programming IPVS (for a kernel
    /// without IPVS, or to try checks); every status says so
    #[arg(long = "checks-only")]
    checks_only: bool,
    /// Detach from the terminal (daemon(3)); logs go where `logfile` says,
    /// else to syslog's daemon facility
    #[arg(short = 'd', long)]
    daemonize: bool,
}

#[derive(Subcommand)]
enum DirectorAction {
    /// Virtual services, real servers, weights, check states, last errors
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Re-read the configuration (kept only if valid)
    Reload,
    /// Stop the director (with cleanstop, its virtual services go)
    Stop,
}

/// `ldirectord::FILE`, `LVSDirector::FILE`, `LVSSyncDaemonSwap::…`:
/// start, stop or status (Heartbeat's v1 words: running / stopped).
fn director_resource(
    r: &tandem::config::haresources::Resource,
    action: &str,
) -> anyhow::Result<ExitCode> {
    use tandem::config::haresources::ResourceKind;
    use tandem::director::resource;
    let dir = std::path::Path::new("/etc/ha.d");
    let done = match (&r.kind, r.kind.director_file(dir)) {
        (ResourceKind::SyncDaemonSwap(swap), _) => resource::sync(swap, action),
        (_, Some(config)) => resource::director(&config, action),
        _ => anyhow::bail!("{}: not a director resource", r.token),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", r.token))?;
    Ok(print_report(done))
}

/// Prints a resource action's report as Heartbeat's v1 scripts do; a
/// stopped resource's status exits 3, as LSB's does.
fn print_report(report: tandem::takeover::Report) -> ExitCode {
    use tandem::takeover::Report;
    match report {
        Report::Done(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Report::Running(true) => {
            println!("running");
            ExitCode::SUCCESS
        }
        Report::Running(false) => {
            println!("stopped");
            ExitCode::from(3)
        }
    }
}

fn director(args: DirectorCmd) -> anyhow::Result<ExitCode> {
    use tandem::director::daemon;
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(|| daemon::socket_for(&args.config));
    let request = match &args.action {
        None => None,
        Some(DirectorAction::Status { json: true }) => Some("status-json"),
        Some(DirectorAction::Status { json: false }) => Some("status"),
        Some(DirectorAction::Reload) => Some("reload"),
        Some(DirectorAction::Stop) => Some("stop"),
    };
    if let Some(request) = request {
        let timeout = std::time::Duration::from_secs(10);
        let body = tandem::host::control::request(&socket, request, timeout)?;
        print!("{body}");
        return Ok(ExitCode::SUCCESS);
    }
    let opts = daemon::Options {
        config: args.config,
        socket,
        checks_only: args.checks_only,
        stderr: !args.daemonize,
    };
    match daemon::Daemon::new(opts) {
        Ok(d) => {
            if args.daemonize {
                nix::unistd::daemon(false, false)?;
            }
            d.run()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(daemon::DirectorError::Config(lines)) => {
            for l in lines.lines() {
                eprintln!("tandem: {l}");
            }
            eprintln!("tandem: director not started: the configuration has errors");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Subcommand)]
enum Action {
    /// start, stop or status of a built-in resource as haresources writes
    /// it: IPaddr::IP[/PREFIX[/NIC]], IPaddr2::IP/PREFIX/NIC[:LABEL],
    /// IPv6addr::IP/PREFIX/NIC, SendArp::IP[/NIC]
    Resource {
        /// The resource, e.g. IPaddr2::192.0.2.10/24/eth0
        resource: String,
        /// start, stop or status (status exits 0 when running, 3 when not)
        action: String,
        /// Where what must outlive a restart is kept (MacTakeover's own
        /// address); default $TANDEM_STATE_DIR (set by the daemon for its
        /// scripts), else /var/lib/tandem
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Point NAME at IP with a TSIG-signed DNS UPDATE (RFC 2136): the
    /// name's old records of that type go, the new one comes, in one message
    #[command(name = "dns-update")]
    DnsUpdate {
        /// The server: ADDRESS or ADDRESS:PORT ([ADDRESS]:PORT for IPv6)
        #[arg(long)]
        server: String,
        /// A BIND key file (key "NAME" { algorithm hmac-sha256; secret "..."; };)
        #[arg(long)]
        key: std::path::PathBuf,
        /// The zone (default: NAME without its first label)
        #[arg(long)]
        zone: Option<String>,
        /// The record's TTL in seconds
        #[arg(long, default_value_t = 60)]
        ttl: u32,
        /// Tries before giving up (waits of 1 s, 2 s, 4 s ... for an answer)
        #[arg(long, default_value_t = 4)]
        tries: u32,
        name: String,
        ip: std::net::IpAddr,
    },
    /// Send gratuitous ARPs (IPv6: unsolicited neighbour advertisements)
    /// for IP on DEVICE
    Garp {
        device: String,
        ip: std::net::IpAddr,
        /// How many
        #[arg(long, default_value_t = 5)]
        count: u32,
        /// Milliseconds between them
        #[arg(long, default_value_t = 200)]
        interval: u64,
        /// The ARP packet: request (arping -U), reply (arping -A) or both
        #[arg(long, default_value = "request")]
        form: tandem::config::hacf::ArpForm,
    },
}

fn action(a: Action) -> anyhow::Result<ExitCode> {
    use tandem::config::haresources::ResourceKind;
    use tandem::takeover::{arp, Builtin};
    match a {
        Action::Resource {
            resource,
            action,
            state_dir,
        } => {
            let r = tandem::config::haresources::parse_resource(&resource)
                .map_err(|e| anyhow::anyhow!("{resource}: {e}"))?;
            if r.kind.runs_as_child() && !matches!(r.kind, ResourceKind::DynDns(_)) {
                return director_resource(&r, &action);
            }
            let state = state_dir
                .or_else(|| std::env::var_os("TANDEM_STATE_DIR").map(PathBuf::from))
                .unwrap_or_else(|| tandem::daemon::state::Paths::new(None).state);
            let b = Builtin::of(&r.kind, &state).map_err(|e| anyhow::anyhow!("{resource}: {e}"))?;
            let announce = |b: &Builtin| -> anyhow::Result<()> {
                for (dev, ip) in b.announces() {
                    arp::announce_burst(&dev, ip, arp::Policy::default())?;
                }
                Ok(())
            };
            let code = print_report(b.act(&action)?);
            if action == "start" {
                announce(&b)?;
            }
            Ok(code)
        }
        Action::DnsUpdate {
            server,
            key,
            zone,
            ttl,
            tries,
            name,
            ip,
        } => {
            use tandem::takeover::dns;
            let server: std::net::SocketAddr = match server.parse() {
                Ok(s) => s,
                Err(_) => std::net::SocketAddr::new(
                    server.parse().map_err(|_| {
                        anyhow::anyhow!("--server {server}: not ADDRESS or ADDRESS:PORT")
                    })?,
                    53,
                ),
            };
            let key = dns::read_key(&key)?;
            let zone = match zone {
                Some(z) => z,
                None => {
                    dns::zone_of(&name).ok_or_else(|| anyhow::anyhow!("{name}: give --zone"))?
                }
            };
            let update = dns::Update {
                zone,
                name: name.clone(),
                address: dns::address(ip),
                ttl,
            };
            dns::send(&update, &key, server, tries)?;
            println!("{name} -> {ip} (TTL {ttl}) at {server}");
            Ok(ExitCode::SUCCESS)
        }
        Action::Garp {
            device,
            ip,
            count,
            interval,
            form,
        } => {
            let policy = arp::Policy {
                count,
                interval: std::time::Duration::from_millis(interval),
                form,
            };
            arp::announce_burst(&device, ip, policy)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where the running daemon keeps its control socket.
#[derive(Args, Clone)]
struct Daemon {
    /// The daemon's state directory (as given to `tandem run --state-dir`)
    #[arg(long = "state-dir", value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Args)]
struct Status {
    #[command(flatten)]
    daemon: Daemon,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct Control {
    #[command(flatten)]
    daemon: Daemon,
    /// Which groups: all, local, foreign or failback
    #[arg(default_value = "all")]
    which: String,
}

#[derive(Args)]
struct AcceptGeneration {
    #[command(flatten)]
    daemon: Daemon,
    /// The node whose new, lower generation to accept
    node: String,
}

#[derive(Args)]
struct Cleanup {
    #[command(flatten)]
    daemon: Daemon,
    /// The group, as haresources names it (its first resource); all if
    /// not given
    group: Option<String>,
}

#[derive(Args)]
struct ClStatus {
    #[command(flatten)]
    daemon: Daemon,
    /// The request and its arguments
    #[arg(required = true, num_args = 1..=3)]
    request: Vec<String>,
}

/// Which configuration, read as which node.
#[derive(Args)]
struct Site {
    /// Configuration directory (ha.cf, haresources, authkeys, resource.d)
    #[arg(
        short = 'c',
        long = "config-dir",
        value_name = "DIR",
        default_value = "/etc/ha.d"
    )]
    dir: PathBuf,
    /// This node's name (default: DIR/nodeinfo, else `uname -n`)
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
}

#[derive(Args)]
struct Run {
    #[command(flatten)]
    at: Site,
    /// Keep the control socket, pid and generation files in DIR
    /// (default: /run/tandem and /var/lib/tandem)
    #[arg(long = "state-dir", value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Detach from the terminal (daemon(3)); logs go where ha.cf says
    #[arg(short = 'd', long)]
    daemonize: bool,
    /// Where LSB init scripts are (default /etc/init.d; /etc/rc.d/init.d
    /// on some systems)
    #[arg(long = "init-d", value_name = "DIR")]
    init_d: Option<PathBuf>,
}

#[derive(Args)]
struct Sim {
    /// Number of seeds to run
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed (or the one seed to replay with --trace)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the whole trace of --seed
    #[arg(long)]
    trace: bool,
    /// The scenarios' protocols: native, heartbeat (a pair both `wire
    /// heartbeat`) or mixed (one `wire heartbeat`, one `wire auto`);
    /// all three when omitted (--trace: native)
    #[arg(long, value_name = "MODE", value_parser = parse_mix)]
    wire: Option<tandem::sim::Mix>,
}

fn parse_mix(word: &str) -> Result<tandem::sim::Mix, String> {
    tandem::sim::Mix::parse(word)
        .ok_or_else(|| format!("`{word}`: expected native, heartbeat or mixed"))
}

#[derive(Args)]
struct CheckConfig {
    #[command(flatten)]
    at: Site,
    /// Print the configuration and findings as JSON
    #[arg(long)]
    json: bool,
    /// Read ha.cf from FILE instead of DIR/ha.cf
    #[arg(long = "ha-cf", value_name = "FILE")]
    ha_cf: Option<PathBuf>,
    /// Read haresources from FILE instead of DIR/haresources
    #[arg(long, value_name = "FILE")]
    haresources: Option<PathBuf>,
    /// Read authkeys from FILE instead of DIR/authkeys
    #[arg(long, value_name = "FILE")]
    authkeys: Option<PathBuf>,
    /// Look for resource scripts in DIR instead of CONFIG-DIR/resource.d
    #[arg(long = "resource-d", value_name = "DIR")]
    resource_d: Option<PathBuf>,
    /// Check this ldirectord.cf (an LVS director's configuration) instead
    #[arg(long, value_name = "FILE")]
    ldirectord: Option<PathBuf>,
    /// The configuration is for another machine: what depends on this host
    /// (resource programs, client users, OCF parameter files, authkeys'
    /// mode) is a warning instead of the error `tandem run` would make it
    #[arg(long = "other-host")]
    other_host: bool,
}

/// `check-config --ldirectord FILE`: every finding, then the services.
fn check_ldirectord(path: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    use tandem::config::ldirectord;
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{name}: cannot read: {e}"))?;
    let (director, diags) = ldirectord::parse(&name, &bytes);
    if json {
        let findings: Vec<_> = diags.iter().collect();
        let report = serde_json::json!({
            "ok": director.is_some(),
            "findings": findings,
            "director": director,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for d in diags.iter() {
            println!("{d}");
        }
        if let Some(d) = &director {
            for v in &d.virtuals {
                let address = match v.address {
                    ldirectord::Address::Socket { ip, port } if ip.is_ipv6() => {
                        format!("[{ip}]:{port}")
                    }
                    ldirectord::Address::Socket { ip, port } => format!("{ip}:{port}"),
                    ldirectord::Address::Fwmark { mark, .. } => format!("fwmark {mark}"),
                };
                let word = |d: String| d.to_lowercase();
                println!(
                    "virtual {address} {} scheduler {}, {} real server(s), check {} {} every {}",
                    word(format!("{:?}", v.protocol)),
                    v.scheduler,
                    v.reals.len(),
                    word(format!("{:?}", v.checktype)),
                    word(format!("{:?}", v.service)),
                    v.settings.checkinterval
                );
            }
            println!("{name}: ok");
        }
    }
    Ok(if director.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn check_config(args: CheckConfig) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.ldirectord {
        return check_ldirectord(path, args.json);
    }
    let mut files = Files::in_dir(&args.at.dir);
    if let Some(f) = args.ha_cf {
        files.ha_cf = f;
    }
    if let Some(f) = args.haresources {
        files.haresources = f;
    }
    if let Some(f) = args.authkeys {
        files.authkeys = f;
    }
    if let Some(d) = args.resource_d {
        files.resource_d = d;
    }
    let host = if args.other_host {
        Host::Another
    } else {
        Host::This
    };
    let opts = LoadOptions::new(files, args.at.node, host);
    let loaded = config::load(&opts);
    let report = Report::new(&loaded, &opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn sim(args: Sim) -> anyhow::Result<ExitCode> {
    use tandem::sim::{self, Mix};
    let bugs = Default::default();
    if args.trace {
        let mix = args.wire.unwrap_or(Mix::Native);
        let report = sim::run(args.seed, mix, bugs, true);
        println!("scenario: {}", report.summary);
        for line in &report.trace {
            println!("{line}");
        }
        return Ok(match &report.violation {
            Some(v) => {
                println!("seed {}: {} violation: {}", args.seed, v.kind, v.message);
                ExitCode::FAILURE
            }
            None => {
                println!("seed {}: no violation", args.seed);
                ExitCode::SUCCESS
            }
        });
    }
    let mixes = match args.wire {
        Some(mix) => vec![mix],
        None => Mix::ALL.to_vec(),
    };
    for mix in mixes {
        let started = std::time::Instant::now();
        match sim::run_many(args.seed, args.seeds, mix, bugs) {
            Ok(n) => println!(
                "wire {}: {n} seeds from {}: no violation ({:.1}s)",
                mix.as_str(),
                args.seed,
                started.elapsed().as_secs_f64()
            ),
            Err(report) => {
                print!("{}", sim::explain(&report));
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: Run) -> anyhow::Result<ExitCode> {
    let opts = tandem::daemon::Options {
        files: Files::in_dir(&args.at.dir),
        node: args.at.node,
        state_dir: args.state_dir,
        detach: args.daemonize,
        init_d: args.init_d,
    };
    match tandem::daemon::run(opts) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(tandem::daemon::DaemonError::Config(lines)) => {
            for l in &lines {
                eprintln!("tandem: {l}");
            }
            eprintln!("tandem: not started: the configuration has errors");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// Sends one request to the running daemon and prints its answer.
fn control(daemon: &Daemon, request: &str) -> anyhow::Result<ExitCode> {
    let paths = tandem::daemon::state::Paths::new(daemon.state_dir.as_deref());
    let timeout = std::time::Duration::from_secs(10);
    let body = tandem::host::control::request(&paths.control(), request, timeout)?;
    print!("{body}");
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig(args) => check_config(args),
        Command::Run(args) => run(args),
        Command::Status(a) => control(&a.daemon, if a.json { "status-json" } else { "status" }),
        Command::Standby(a) => control(&a.daemon, &format!("standby {}", a.which)),
        Command::Takeover(a) => control(&a.daemon, &format!("takeover {}", a.which)),
        Command::Reload(d) => control(&d, "reload"),
        Command::AcceptGeneration(a) => {
            control(&a.daemon, &format!("accept-generation {}", a.node))
        }
        Command::Cleanup(a) => match &a.group {
            Some(g) => control(&a.daemon, &format!("cleanup {g}")),
            None => control(&a.daemon, "cleanup"),
        },
        Command::Stop(d) => control(&d, "shutdown"),
        Command::ClStatus(a) => control(&a.daemon, &a.request.join(" ")),
        Command::Demo(args) => demo(args),
        Command::Action(a) => action(a),
        Command::Sim(args) => sim(args),
        Command::Director(args) => director(args),
        Command::ExportPacemaker(args) => export_pacemaker(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `tandem demo`'s arguments.
#[derive(Debug, Clone, clap::Args)]
struct DemoArgs {
    /// Leave the pair running at the end (stop it with Ctrl-C)
    #[arg(long)]
    keep: bool,
    /// Work in DIR (default: a new directory under $TMPDIR)
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

/// Runs the demo, printing as it goes, and says how it ended.
fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let opts = tandem::demo::Options {
        keep: args.keep,
        dir: args.dir,
    };
    let finished = tandem::demo::run(&opts, &mut |line| println!("{line}"))?;
    println!();
    if finished.failures.is_empty() {
        println!("demo complete: takeover, failback, cable cut, standby/takeover and handover all worked");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &finished.failures {
            println!("FAILED: {f}");
        }
        println!("logs kept in {}", finished.dir.display());
        Ok(ExitCode::FAILURE)
    }
}
