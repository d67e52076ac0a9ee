//! A deterministic simulator of a tandem cluster (FoundationDB and
//! TigerBeetle style): real [`Engine`] cores, real frames and serial framing,
//! over simulated links with loss, delay, reordering, duplication,
//! corruption, partitions and unplugged cables; nodes that crash, reboot,
//! restart their daemon, freeze and thaw, run on skewed clocks; resource
//! scripts that are slow, fail or hang; operators who change their minds.
//! All in virtual time from one seed.
//!
//! Invariants are checked as the run goes (safety, no false death in mild
//! conditions, liveness after a crash) and at the end, after every fault is
//! healed (one owner per group, operator commands obeyed). A violation
//! stops the run with the seed and the trace that led to it.

mod adversary;
mod check;
mod network;
pub mod rng;
pub mod scenario;
mod shell;

use crate::config::authkeys;
use crate::config::hacf::WireMode;
use crate::core::compat::{RQSTDELAY, STANDBY_REPLY};
use crate::core::{
    Action, Boot, Bugs, Command, Engine, Event, GroupParams, GroupState, LinkParams, NodeId,
    Outcome, Params, Transmit, Wire,
};
use crate::time::{Instant, Time};
use crate::wire::frame::{cluster_id, NodeState};
use crate::wire::serial::{self, Deframed, Deframer};
use crate::wire::Authenticator;
use rng::Rng;
pub use scenario::Mix;
use scenario::{Fault, Path, Scenario};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt::Write;

/// The simulated wall clock at virtual time zero (Heartbeat's `ts`).
const WALL_AT_ZERO: u64 = 1_800_000_000;

/// Lines of trace kept for the report of a violation.
const TRACE_KEEP: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `safety`, `false-death`, `liveness`, `convergence`, `command`.
    pub kind: &'static str,
    pub message: String,
}

/// The result of one seed.
#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub mix: Mix,
    pub violation: Option<Violation>,
    /// The last lines of the trace (all of it when asked for).
    pub trace: Vec<String>,
    pub stats: Stats,
    pub summary: String,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub frames_sent: u64,
    pub frames_delivered: u64,
    pub takeovers: u64,
    pub faults: u64,
    pub virtual_us: u64,
    /// Injections by the stranger (forged, replayed, mangled, noise).
    pub injected: u64,
}

#[derive(Debug, Clone)]
enum Ev {
    Deliver {
        to: NodeId,
        link: usize,
        bytes: Vec<u8>,
        clean: bool,
        from: NodeId,
        sent: u64,
    },
    Timer(NodeId),
    Resource {
        node: NodeId,
        machine: u32,
        incarnation: u32,
        /// The group's action number: a newer action on the group by the
        /// same daemon kills this one, as the runner does.
        action: u64,
        group: usize,
        outcome: Outcome,
        stop: bool,
    },
    Fenced {
        node: NodeId,
        incarnation: u32,
        target: NodeId,
        ok: bool,
    },
    /// The status asked after a group's stops gave up.
    StopChecked {
        node: NodeId,
        incarnation: u32,
        group: crate::core::GroupId,
        running: bool,
    },
    Fault(Fault),
    Thaw(NodeId),
    Check,
    HealAll,
    /// The stranger injects something.
    Attack,
}

struct Queued {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// The truth about one group on one node, as the machine has it.
#[derive(Debug, Clone, Copy, Default)]
struct Res {
    /// From the start action until a stop completes: "holds" it.
    active: bool,
    /// The start completed and no stop has completed since.
    running: bool,
}

struct SimNode {
    core: Option<Engine>,
    /// The `wire` its daemon runs with (a restart may change it, in a
    /// mixed scenario).
    wire: WireMode,
    /// Boots of the machine: a crash kills every script in flight.
    machine: u32,
    /// Starts of the daemon (a daemon restart leaves scripts running).
    incarnation: u32,
    generation: u32,
    /// Generations recorded for the other nodes (the persisted state).
    known: Vec<Option<u32>>,
    res: Vec<Res>,
    frozen: bool,
    /// Inputs that arrived while frozen, replayed on thaw.
    held_back: Vec<Ev>,
    deframers: Vec<Deframer>,
    timer_at: u64,
    /// Global time since which the node has been up and not frozen.
    steady_since: u64,
    /// Core link index for each simulator link (None: not on it).
    link_index: Vec<Option<usize>>,
    /// The node shut down gracefully.
    left: bool,
    /// Per group, the number of the newest start or stop begun.
    actions: Vec<u64>,
}

/// An expectation that a group is taken over after its owner crashed.
struct Takeover {
    group: usize,
    from: NodeId,
    crashed_at: u64,
    deadline: u64,
}

struct World {
    s: Scenario,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    nodes: Vec<SimNode>,
    /// Which paths are cut: `cut[link][from][to]`.
    cut: Vec<Vec<Vec<bool>>>,
    /// Send time of the newest uncorrupted frame delivered from -> to.
    delivered: Vec<Vec<Option<u64>>>,
    ping: Vec<u8>,
    auth: Authenticator,
    bugs: Bugs,
    trace: VecDeque<String>,
    full_trace: Option<Vec<String>>,
    violation: Option<Violation>,
    stats: Stats,
    expectations: Vec<Takeover>,
    /// Time of the last fault or command (liveness checks need quiet).
    last_disturbance: u64,
    /// Latest operator command: (time, node, command, incarnation).
    last_command: Option<(u64, NodeId, Command, u32)>,
    /// Whether it came so soon after another that neither node could
    /// have seen the other's (concurrent commands: either may win).
    concurrent_command: bool,
    healed: bool,
    /// A command was refused by the node it was given to.
    refused: bool,
    /// Daemon starts (and Heartbeat rejoins, which are restarts in its
    /// protocol) so far, and how many there were at the last command.
    boots: u64,
    boots_at_command: u64,
    /// The last command was given with every node up and every path
    /// open, and no fault came after it.
    command_calm: bool,
    /// Per group: its last start failed on a node speaking Heartbeat's
    /// protocol, and it has not started anywhere since.
    heartbeat_failed: Vec<bool>,
    /// The stranger on the links, who has no key.
    adversary: adversary::Adversary,
}

/// Runs one seed of protocol mix `mix`. `bugs` plants deliberate defects
/// in every node (tests of the checker); `full_trace` keeps every trace
/// line.
pub fn run(seed: u64, mix: Mix, bugs: Bugs, full_trace: bool) -> Report {
    let mut rng = Rng::new(seed);
    let scenario = Scenario::generate(&mut rng.fork(), mix);
    let summary = describe(&scenario);
    let mut world = World::new(scenario, rng, bugs, full_trace);
    world.adversary = adversary::Adversary::new(seed);
    world.run();
    let trace = match world.full_trace.take() {
        Some(t) => t,
        None => world.trace.into_iter().collect(),
    };
    Report {
        seed,
        mix,
        violation: world.violation,
        trace,
        stats: world.stats,
        summary,
    }
}

fn describe(s: &Scenario) -> String {
    let links: Vec<String> = s
        .links
        .iter()
        .map(|l| {
            let kind = if l.serial { "serial" } else { "lan" };
            let m: Vec<String> = l.members.iter().map(|n| name(*n)).collect();
            format!("{kind}({})", m.join(","))
        })
        .collect();
    let wires: Vec<String> = s
        .wires
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{} {}", name(i as NodeId), w.as_str()))
        .collect();
    format!(
        "wire {} ({}), {} nodes, {} groups, links {}, keepalive {} deadtime {}, auto_failback {}, ping {}, fencing {}, {}{} faults",
        s.mix.as_str(),
        wires.join(", "),
        s.nodes,
        s.groups.len(),
        links.join(" "),
        Time::from_micros(s.keepalive),
        Time::from_micros(s.deadtime),
        s.auto_failback.as_str(),
        s.ping,
        s.fencing,
        if s.quiet { "quiet, " } else { "" },
        s.timeline.len()
    )
}

/// Node names in traces: n0, n1, ...
fn name(n: NodeId) -> String {
    format!("n{n}")
}

impl World {
    fn new(s: Scenario, rng: Rng, bugs: Bugs, full_trace: bool) -> World {
        // Heartbeat's protocol signs with sha1 at best.
        let keys: &[u8] = match s.mix {
            Mix::Native => b"auth 1\n1 sha256 simulated-key\n",
            Mix::Heartbeat | Mix::Mixed => b"auth 1\n1 sha1 simulated-key\n",
        };
        let (keys, _) = authkeys::parse("authkeys", keys);
        let auth = match keys {
            Some(k) => Authenticator::from(&k),
            None => unreachable!("the simulator's authkeys parse"),
        };
        let n = s.nodes;
        let nodes = (0..n)
            .map(|i| {
                let link_index = {
                    let mut next = 0;
                    s.links
                        .iter()
                        .map(|l| {
                            l.members.contains(&(i as NodeId)).then(|| {
                                next += 1;
                                next - 1
                            })
                        })
                        .collect::<Vec<_>>()
                };
                let links_here = link_index.iter().flatten().count();
                SimNode {
                    core: None,
                    wire: s.wires[i],
                    machine: 0,
                    incarnation: 0,
                    generation: 0,
                    known: vec![None; n],
                    res: vec![Res::default(); s.groups.len()],
                    frozen: false,
                    held_back: Vec::new(),
                    deframers: (0..links_here).map(|_| Deframer::new()).collect(),
                    timer_at: u64::MAX,
                    steady_since: 0,
                    link_index,
                    left: false,
                    actions: vec![0; s.groups.len()],
                }
            })
            .collect();
        let cut = s.links.iter().map(|_| vec![vec![false; n]; n]).collect();
        World {
            ping: vec![1; n],
            cut,
            delivered: vec![vec![None; n]; n],
            nodes,
            auth,
            bugs,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            trace: VecDeque::new(),
            full_trace: full_trace.then(Vec::new),
            violation: None,
            stats: Stats::default(),
            expectations: Vec::new(),
            last_disturbance: 0,
            last_command: None,
            concurrent_command: false,
            healed: false,
            refused: false,
            boots: 0,
            boots_at_command: 0,
            command_calm: false,
            heartbeat_failed: vec![false; s.groups.len()],
            adversary: adversary::Adversary::new(0),
            s,
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn log(&mut self, line: String) {
        let line = format!("{} {line}", Instant(self.now));
        if let Some(full) = &mut self.full_trace {
            full.push(line.clone());
        }
        if self.trace.len() == TRACE_KEEP {
            self.trace.pop_front();
        }
        self.trace.push_back(line);
    }

    fn fail(&mut self, kind: &'static str, message: String) {
        if self.violation.is_none() {
            self.log(format!("VIOLATION {kind}: {message}"));
            self.violation = Some(Violation { kind, message });
        }
    }

    /// The node's clock: global time scaled by its skew.
    fn local(&self, n: NodeId, t: u64) -> Instant {
        let ppm = self.s.skew_ppm[usize::from(n)];
        let t = i128::from(t);
        Instant((t + t * i128::from(ppm) / 1_000_000) as u64)
    }

    fn global(&self, n: NodeId, local: Instant) -> u64 {
        let ppm = i128::from(self.s.skew_ppm[usize::from(n)]);
        let l = i128::from(local.0);
        // Round up, so that the node is never woken before its deadline.
        ((l * 1_000_000 + (1_000_000 + ppm) - 1) / (1_000_000 + ppm)) as u64
    }

    fn up(&self, n: NodeId) -> bool {
        let node = &self.nodes[usize::from(n)];
        node.core.is_some() && !node.frozen
    }

    fn run(&mut self) {
        for n in 0..self.s.nodes as NodeId {
            self.boot_daemon(n);
        }
        for (at, fault) in self.s.timeline.clone() {
            self.push(at, Ev::Fault(fault));
        }
        self.push(self.s.faults_end, Ev::HealAll);
        let converge = self.s.initdead
            + self.s.deadtime * 8
            + (u64::from(self.s.stop_retries) + 2) * (self.s.stop_retry_interval + self.s.stop_max)
            + 4 * (self.s.start_max + self.s.action_timeout + self.s.fence_time)
            + match self.s.mix {
                Mix::Native => 0,
                // Heartbeat's own delays do not scale with deadtime: two
                // nodes starting together wait RQSTDELAY, and a standby
                // exchange waits up to STANDBY_REPLY for the other side.
                Mix::Heartbeat | Mix::Mixed => {
                    2 * (RQSTDELAY.as_micros() + STANDBY_REPLY.as_micros())
                }
            };
        let end = self.s.faults_end + converge;
        self.push(end, Ev::Check);
        let first = self.adversary.pause(self.s.keepalive);
        self.push(first, Ev::Attack);
        while let Some(Reverse(q)) = self.queue.pop() {
            self.now = q.at;
            if self.violation.is_some() {
                break;
            }
            if let Ev::Check = q.ev {
                self.final_check();
                break;
            }
            self.step(q.ev);
            self.check_expectations();
        }
        self.stats.virtual_us = self.now;
    }

    /// One injection by the stranger, and the next one scheduled.
    fn attack(&mut self) {
        if let Some((link, to)) = self.adversary.aim(&self.s.links) {
            let serial = self.s.links[link].serial;
            // Whole replays only against tandem's own protocol: in
            // Heartbeat's, a node that starts listening cannot tell a
            // captured message of the peer's current generation from a
            // current one (the protocol has no freshness but the
            // sequence), and a replayed `ask_resources info=done` can make
            // it start a group the peer still stops (seed 682, mixed).
            // Forged, mangled and re-addressed messages go to every mix.
            let replays = self.s.mix == Mix::Native;
            let mut bytes = self.adversary.craft(to, serial, self.s.nodes, replays);
            if serial {
                // Between the nodes' own writes, as a stranger on the
                // cable can be: the line ends, and the next frame's
                // delimiter or `>>>` line starts afresh.
                bytes.push(b'\n');
            }
            self.stats.injected += 1;
            self.push(
                self.now,
                Ev::Deliver {
                    to,
                    link,
                    bytes,
                    clean: false,
                    from: to,
                    sent: self.now,
                },
            );
        }
        let next = self.now + self.adversary.pause(self.s.keepalive);
        self.push(next, Ev::Attack);
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver {
                to,
                link,
                bytes,
                clean,
                from,
                sent,
            } => self.deliver(to, link, bytes, clean, from, sent),
            Ev::Timer(n) => {
                let i = usize::from(n);
                if self.nodes[i].timer_at == self.now && self.up(n) {
                    self.nodes[i].timer_at = u64::MAX;
                    self.handle(n, |core, now| core.handle_timeout(now));
                }
            }
            Ev::Resource {
                node,
                machine,
                incarnation,
                action,
                group,
                outcome,
                stop,
            } => {
                let i = usize::from(node);
                if self.nodes[i].machine != machine {
                    return; // the machine crashed: the script died with it
                }
                if self.nodes[i].incarnation == incarnation
                    && self.nodes[i].actions[group] != action
                {
                    // Killed when the daemon began another action on the
                    // group: it ends unreported, and the newer one decides.
                    self.log(format!("{}: g{group}: abandoned", name(node)));
                    return;
                }
                // The script's effect on the machine happens now, whether
                // or not the daemon is there to hear about it.
                let r = &mut self.nodes[i].res[group];
                match (stop, outcome) {
                    (false, Outcome::Ok) => r.running = true,
                    (false, _) => self.last_disturbance = self.now,
                    (true, Outcome::Ok) => *r = Res::default(),
                    (true, _) => {}
                }
                if self.nodes[i].incarnation != incarnation {
                    // The daemon restarted meanwhile: nobody waits for it.
                    return;
                }
                if self.nodes[i].frozen {
                    self.nodes[i].held_back.push(Ev::Resource {
                        node,
                        machine,
                        incarnation,
                        action,
                        group,
                        outcome,
                        stop,
                    });
                    return;
                }
                self.handle(node, |core, now| core.handle_resource(now, group, outcome));
            }
            Ev::Fenced {
                node,
                incarnation,
                target,
                ok,
            } => {
                if !ok {
                    self.last_disturbance = self.now;
                }
                if ok && self.nodes[usize::from(target)].core.is_some() {
                    self.crash(target);
                    let back = self.now + self.s.deadtime * 3;
                    self.push(back, Ev::Fault(Fault::Boot(target)));
                }
                if self.nodes[usize::from(node)].incarnation == incarnation && self.up(node) {
                    self.handle(node, |core, now| core.handle_fence(now, target, ok));
                }
            }
            Ev::StopChecked {
                node,
                incarnation,
                group,
                running,
            } => {
                if self.nodes[usize::from(node)].incarnation == incarnation && self.up(node) {
                    self.handle(node, |core, now| {
                        core.handle_stop_checked(now, group, running)
                    });
                }
            }
            Ev::Fault(f) => self.fault(f),
            Ev::Thaw(n) => self.thaw(n),
            Ev::HealAll => self.heal_all(),
            Ev::Attack => self.attack(),
            Ev::Check => {}
        }
    }
}

/// Runs seeds `first..first + count` of mix `mix`, stopping at the first
/// violation.
pub fn run_many(first: u64, count: u64, mix: Mix, bugs: Bugs) -> Result<u64, Box<Report>> {
    for seed in first..first.saturating_add(count) {
        let report = run(seed, mix, bugs, false);
        if report.violation.is_some() {
            return Err(Box::new(report));
        }
    }
    Ok(count)
}

/// A readable account of a failed seed.
pub fn explain(report: &Report) -> String {
    let mut out = String::new();
    if let Some(v) = &report.violation {
        let _ = writeln!(
            out,
            "seed {}: {} violation: {}",
            report.seed, v.kind, v.message
        );
    }
    let _ = writeln!(out, "scenario: {}", report.summary);
    let _ = writeln!(out, "last {} trace lines:", report.trace.len());
    for line in &report.trace {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "reproduce: tandem sim --wire {} --seed {} --trace",
        report.mix.as_str(),
        report.seed
    );
    out
}
