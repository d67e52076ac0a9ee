//! The `tandem` command: a thin CLI over the library.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tandem::config::{self, explain::Report, Files, LoadOptions, Purpose};

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
    /// Run the deterministic cluster simulator over many seeds
    Sim(Sim),
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
}

#[derive(Args)]
struct CheckConfig {
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
}

fn check_config(args: CheckConfig) -> anyhow::Result<ExitCode> {
    let mut files = Files::in_dir(&args.dir);
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
    let opts = LoadOptions::new(files, args.node, Purpose::Check);
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
    use tandem::sim;
    let bugs = Default::default();
    if args.trace {
        let report = sim::run(args.seed, bugs, true);
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
    let started = std::time::Instant::now();
    match sim::run_many(args.seed, args.seeds, bugs) {
        Ok(n) => {
            println!(
                "{n} seeds from {}: no violation ({:.1}s)",
                args.seed,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(report) => {
            print!("{}", sim::explain(&report));
            Ok(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig(args) => check_config(args),
        Command::Sim(args) => sim(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tandem: {e:#}");
            ExitCode::FAILURE
        }
    }
}
