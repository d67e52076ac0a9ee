//! A deterministic simulator of a tandem cluster (FoundationDB and
//! TigerBeetle style): real [`Engine`](crate::core::Engine) cores, real frames and serial framing,
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

mod check;
pub mod rng;
pub mod scenario;

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
    Fault(Fault),
    Thaw(NodeId),
    Check,
    HealAll,
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
}

/// Runs one seed of protocol mix `mix`. `bugs` plants deliberate defects
/// in every node (tests of the checker); `full_trace` keeps every trace
/// line.
pub fn run(seed: u64, mix: Mix, bugs: Bugs, full_trace: bool) -> Report {
    let mut rng = Rng::new(seed);
    let scenario = Scenario::generate(&mut rng.fork(), mix);
    let summary = describe(&scenario);
    let mut world = World::new(scenario, rng, bugs, full_trace);
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

    fn params(&self, n: NodeId) -> Params {
        let s = &self.s;
        Params {
            cluster: cluster_id("sim"),
            nodes: (0..s.nodes as NodeId).map(name).collect(),
            local: n,
            links: s
                .links
                .iter()
                .filter(|l| l.members.contains(&n))
                .enumerate()
                .map(|(i, l)| LinkParams {
                    name: format!("link{i}"),
                    reaches: l.members.clone(),
                })
                .collect(),
            groups: s
                .groups
                .iter()
                .enumerate()
                .map(|(g, &preferred)| GroupParams {
                    key: format!("g{g}"),
                    preferred,
                })
                .collect(),
            keepalive: Time::from_micros(s.keepalive),
            warntime: Time::from_micros(s.warntime),
            deadtime: Time::from_micros(s.deadtime),
            initdead: Time::from_micros(s.initdead),
            auto_failback: s.auto_failback,
            ping: s.ping,
            fencing: s.fencing,
            stop_retries: s.stop_retries,
            stop_retry_interval: Time::from_micros(s.stop_retry_interval),
        }
    }

    /// Starts (or restarts) the daemon on node `n`. Groups whose resources
    /// are running are reported as running, as the start-up probe does.
    fn boot_daemon(&mut self, n: NodeId) {
        let i = usize::from(n);
        let params = self.params(n);
        if self.s.mix == Mix::Mixed && self.nodes[i].incarnation > 0 && self.rng.percent(30) {
            // A restart that changes the node's mode, as an operator
            // migrating (or rolling back) one node does.
            self.nodes[i].wire = match self.nodes[i].wire {
                WireMode::Heartbeat => WireMode::Auto,
                _ => WireMode::Heartbeat,
            };
        }
        self.boots += 1;
        let node = &mut self.nodes[i];
        node.incarnation += 1;
        node.generation += 1;
        node.left = false;
        node.frozen = false;
        node.held_back.clear();
        node.steady_since = self.now;
        for d in &mut node.deframers {
            *d = Deframer::new();
        }
        let mut running = 0u64;
        for (g, r) in node.res.iter().enumerate() {
            if r.running {
                running |= 1 << g;
            }
        }
        let known = node.known.clone();
        let generation = node.generation;
        let local = self.local(n, self.now);
        // Each node's Heartbeat uuid stays across its restarts.
        let uuid = [n.wrapping_add(1); 16];
        let wire = match self.nodes[i].wire {
            WireMode::Native => Wire::Native,
            WireMode::Heartbeat => Wire::Heartbeat { uuid },
            WireMode::Auto => Wire::Auto(Ok(uuid)),
        };
        let boot = Boot {
            wire,
            generation,
            known,
            running,
            wall_at_zero: WALL_AT_ZERO,
        };
        let wire = self.nodes[i].wire;
        let mut core = match Engine::new(params, self.auth.clone(), boot, local) {
            Ok(core) => core,
            Err(e) => {
                // The scenario's configuration is one the engine takes.
                self.fail(
                    "scenario",
                    format!("{}: wire {}: {e}", name(n), wire.as_str()),
                );
                return;
            }
        };
        core.set_bugs(self.bugs);
        self.nodes[i].core = Some(core);
        self.log(format!(
            "{}: daemon starts, wire {}, generation {generation}",
            name(n),
            wire.as_str()
        ));
        self.drain(n);
        self.handle(n, |core, now| core.handle_ping(now, 1));
    }

    fn up(&self, n: NodeId) -> bool {
        let node = &self.nodes[usize::from(n)];
        node.core.is_some() && !node.frozen
    }

    /// Calls into node `n`'s core, then carries out what it asks.
    fn handle(&mut self, n: NodeId, f: impl FnOnce(&mut Engine, Instant)) {
        let now = self.local(n, self.now);
        let Some(core) = self.nodes[usize::from(n)].core.as_mut() else {
            return;
        };
        f(core, now);
        self.drain(n);
    }

    fn drain(&mut self, n: NodeId) {
        let i = usize::from(n);
        loop {
            let Some(core) = self.nodes[i].core.as_mut() else {
                return;
            };
            if let Some(t) = core.poll_transmit() {
                self.transmit(n, t);
                continue;
            }
            if let Some(action) = core.poll_action() {
                self.act(n, action);
                continue;
            }
            if let Some((_, event)) = core.poll_event() {
                self.on_event(n, event);
                continue;
            }
            let wake = core.poll_timeout();
            let at = self.global(n, wake).max(self.now + 1);
            if at != self.nodes[i].timer_at {
                self.nodes[i].timer_at = at;
                self.push(at, Ev::Timer(n));
            }
            return;
        }
    }

    /// Sends on every link of `from`, as the daemon does: a native frame
    /// framed on serial lines; Heartbeat's text form on serial lines and
    /// its netstring form elsewhere.
    fn transmit(&mut self, from: NodeId, t: Transmit) {
        self.stats.frames_sent += 1;
        let (datagram, line) = match t {
            Transmit::Native(frame) => {
                let mut line = Vec::new();
                serial::encode(&frame, &mut line);
                (frame, line)
            }
            Transmit::Heartbeat(m) => (m.netstring, m.text),
        };
        for l in 0..self.s.links.len() {
            let link = &self.s.links[l];
            if !link.members.contains(&from) {
                continue;
            }
            let bytes = if link.serial { &line } else { &datagram };
            let members = link.members.clone();
            for to in members {
                if to == from || self.cut[l][usize::from(from)][usize::from(to)] {
                    continue;
                }
                let path: Path = self.s.paths[l][usize::from(from)][usize::from(to)];
                if self.rng.percent(path.loss) {
                    continue;
                }
                let copies = if self.rng.percent(path.dup) { 2 } else { 1 };
                for _ in 0..copies {
                    let mut b = bytes.clone();
                    let clean = !self.rng.percent(path.corrupt);
                    if !clean && !b.is_empty() {
                        let at = self.rng.below(b.len() as u64) as usize;
                        b[at] ^= 1 << self.rng.below(8);
                    }
                    let delay = self.rng.range(path.delay_min, path.delay_max);
                    self.push(
                        self.now + delay,
                        Ev::Deliver {
                            to,
                            link: l,
                            bytes: b,
                            clean,
                            from,
                            sent: self.now,
                        },
                    );
                }
            }
        }
    }

    fn act(&mut self, n: NodeId, action: Action) {
        let i = usize::from(n);
        let incarnation = self.nodes[i].incarnation;
        let machine = self.nodes[i].machine;
        if let Action::Start(g) | Action::Stop(g) = action {
            self.nodes[i].actions[g] += 1;
        }
        match action {
            Action::Start(g) => {
                self.check_start(n, g);
                self.nodes[i].res[g].active = true;
                let outcome = if self.rng.permille(self.s.start_hang_permille) {
                    (self.s.action_timeout, Outcome::TimedOut)
                } else if self.rng.permille(self.s.start_fail_permille) {
                    (
                        self.rng.range(self.s.start_min, self.s.start_max),
                        Outcome::Failed,
                    )
                } else {
                    (
                        self.rng.range(self.s.start_min, self.s.start_max),
                        Outcome::Ok,
                    )
                };
                if outcome.1 != Outcome::Ok {
                    // A start that will fail or hang voids liveness checks.
                    self.last_disturbance = self.now;
                }
                self.log(format!("{}: start g{g}", name(n)));
                self.push(
                    self.now + outcome.0,
                    Ev::Resource {
                        node: n,
                        machine,
                        incarnation,
                        action: self.nodes[i].actions[g],
                        group: g,
                        outcome: outcome.1,
                        stop: false,
                    },
                );
            }
            Action::Stop(g) => {
                let outcome = if self.rng.permille(self.s.stop_fail_permille) {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                self.log(format!("{}: stop g{g}", name(n)));
                let took = self.rng.range(self.s.stop_min, self.s.stop_max);
                self.push(
                    self.now + took,
                    Ev::Resource {
                        node: n,
                        machine,
                        incarnation,
                        action: self.nodes[i].actions[g],
                        group: g,
                        outcome,
                        stop: true,
                    },
                );
            }
            Action::Fence(target) => {
                let ok = self.rng.percent(90);
                self.log(format!("{}: fence {}", name(n), name(target)));
                self.push(
                    self.now + self.s.fence_time,
                    Ev::Fenced {
                        node: n,
                        incarnation,
                        target,
                        ok,
                    },
                );
            }
            Action::Escalate(g) => {
                // The fencing hook: this node reboots itself (Heartbeat's
                // RecoverFromFailedStop does the same).
                self.last_disturbance = self.now;
                self.log(format!("{}: escalate g{g}: reboot", name(n)));
                self.crash(n);
                let back = self.now + self.s.deadtime * 2;
                self.push(back, Ev::Fault(Fault::Boot(n)));
            }
            Action::PersistGeneration(node, generation) => {
                self.nodes[i].known[usize::from(node)] = Some(generation);
            }
            Action::Exit => {
                self.log(format!("{}: shut down", name(n)));
                let node = &mut self.nodes[i];
                node.core = None;
                node.left = true;
                if self.healed {
                    // The liveness phase wants every node up: boot again.
                    self.push(self.now + self.s.deadtime, Ev::Fault(Fault::Boot(n)));
                }
            }
        }
    }

    fn on_event(&mut self, n: NodeId, event: Event) {
        let text = format!("{}: {event:?}", name(n));
        self.log(text);
        if let Event::NodeDead(peer) = event {
            self.check_death(n, peer);
        }
        if let Event::Starting(_) = event {
            self.stats.takeovers += 1;
        }
        let heartbeat = self.nodes[usize::from(n)]
            .core
            .as_ref()
            .is_some_and(Engine::speaks_heartbeat);
        match event {
            Event::CommandRefused(_) => self.refused = true,
            Event::StartFailed(g) if heartbeat => self.heartbeat_failed[g] = true,
            Event::Started(g) => self.heartbeat_failed[g] = false,
            Event::PartitionHealed(_) => self.boots += 1,
            _ => {}
        }
    }

    fn crash(&mut self, n: NodeId) {
        let node = &mut self.nodes[usize::from(n)];
        node.core = None;
        node.machine += 1;
        node.frozen = false;
        node.held_back.clear();
        for r in &mut node.res {
            *r = Res::default();
        }
        self.log(format!("{}: crashed", name(n)));
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
            Ev::Fault(f) => self.fault(f),
            Ev::Thaw(n) => self.thaw(n),
            Ev::HealAll => self.heal_all(),
            Ev::Check => {}
        }
    }

    fn deliver(
        &mut self,
        to: NodeId,
        link: usize,
        bytes: Vec<u8>,
        clean: bool,
        from: NodeId,
        sent: u64,
    ) {
        let i = usize::from(to);
        if !self.up(to) {
            // A frozen daemon's socket buffer overflows: the frame is lost.
            return;
        }
        let Some(core_link) = self.nodes[i].link_index[link] else {
            return;
        };
        // What the receiver knew of the sender before: a node speaking
        // Heartbeat's protocol counts only what it takes as news (see
        // below).
        let heartbeat_receiver = self.nodes[i]
            .core
            .as_ref()
            .is_some_and(Engine::speaks_heartbeat);
        let heard_before = self.nodes[i].core.as_ref().and_then(|c| c.last_heard(from));
        self.stats.frames_delivered += 1;
        if self.s.links[link].serial {
            self.nodes[i].deframers[core_link].push(&bytes);
            loop {
                let item = match self.nodes[i].deframers[core_link].next_item() {
                    None => break,
                    Some(Deframed::Frame(f)) | Some(Deframed::Heartbeat(_, f)) => Some(f.to_vec()),
                    Some(Deframed::Noise(_)) => None,
                };
                match item {
                    Some(frame) => {
                        self.handle(to, |core, now| core.handle_frame(now, core_link, &frame))
                    }
                    None => {
                        if let Some(core) = self.nodes[i].core.as_mut() {
                            core.handle_noise(core_link);
                        }
                    }
                }
            }
        } else {
            self.handle(to, |core, now| core.handle_frame(now, core_link, &bytes));
        }
        // Heartbeat's protocol resends old messages on request, and a
        // resend is no proof that the sender lives now (it could be a
        // capture played back), nor is a native frame to a node that
        // speaks Heartbeat news to it: for such a receiver, a delivery
        // counts when it heard the sender by it.
        let news = !heartbeat_receiver || {
            let after = self.nodes[i].core.as_ref().and_then(|c| c.last_heard(from));
            after.is_some() && after != heard_before
        };
        if clean && news {
            // When the newest frame that got through was sent: a late
            // duplicate of an old frame proves nothing about now.
            let newest = &mut self.delivered[usize::from(from)][i];
            *newest = Some(newest.map_or(sent, |t| t.max(sent)));
        }
    }

    fn fault(&mut self, f: Fault) {
        if !self.healed {
            self.stats.faults += 1;
            self.last_disturbance = self.now;
            self.command_calm = false;
        }
        self.log(format!("FAULT {f:?}"));
        match f {
            Fault::Crash(n) => {
                if self.nodes[usize::from(n)].core.is_some() {
                    self.expect_takeovers(n);
                    self.crash(n);
                }
            }
            Fault::Boot(n) => {
                if self.nodes[usize::from(n)].core.is_none() {
                    self.boot_daemon(n);
                }
            }
            Fault::DaemonRestart(n) => {
                let i = usize::from(n);
                let busy = self.nodes[i].core.as_ref().is_some_and(|c| {
                    (0..self.s.groups.len())
                        .any(|g| !matches!(c.group(g), GroupState::Stopped | GroupState::Running))
                });
                if self.up(n) && !busy {
                    self.boot_daemon(n);
                }
            }
            Fault::Freeze(n, d) => {
                if self.up(n) {
                    self.nodes[usize::from(n)].frozen = true;
                    self.push(self.now + d, Ev::Thaw(n));
                }
            }
            Fault::Partition(side, link) => {
                for l in 0..self.s.links.len() {
                    if link.is_some_and(|x| x != l) {
                        continue;
                    }
                    for a in 0..self.s.nodes {
                        for b in 0..self.s.nodes {
                            if side.contains(&(a as NodeId)) != side.contains(&(b as NodeId)) {
                                self.cut[l][a][b] = true;
                            }
                        }
                    }
                }
            }
            Fault::Heal => {
                for l in &mut self.cut {
                    for row in l.iter_mut() {
                        row.fill(false);
                    }
                }
            }
            Fault::Unplug(l) => {
                for row in self.cut[l].iter_mut() {
                    row.fill(true);
                }
            }
            Fault::Replug(l) => {
                for row in self.cut[l].iter_mut() {
                    row.fill(false);
                }
            }
            Fault::OneWay { link, from, to } => {
                self.cut[link][usize::from(from)][usize::from(to)] = true;
            }
            Fault::Ping(n, count) => {
                self.ping[usize::from(n)] = count;
                self.handle(n, |core, now| core.handle_ping(now, count));
            }
            Fault::Command(n, command) => {
                let active = self.nodes[usize::from(n)]
                    .core
                    .as_ref()
                    .is_some_and(|c| c.state() == NodeState::Active);
                if self.up(n) && (active || command == Command::Shutdown) {
                    let inc = self.nodes[usize::from(n)].incarnation;
                    let before = (
                        self.last_command,
                        self.concurrent_command,
                        self.boots_at_command,
                        self.command_calm,
                    );
                    self.boots_at_command = self.boots;
                    self.command_calm = self.calm();
                    self.concurrent_command = self
                        .last_command
                        .is_some_and(|(t, ..)| self.now - t < self.s.deadtime);
                    self.last_command = Some((self.now, n, command, inc));
                    self.refused = false;
                    self.handle(n, |core, now| core.handle_command(now, command));
                    if self.refused {
                        // Refused (Heartbeat refuses while not stable): the
                        // one before still stands.
                        (
                            self.last_command,
                            self.concurrent_command,
                            self.boots_at_command,
                            self.command_calm,
                        ) = before;
                    }
                }
            }
        }
    }

    fn thaw(&mut self, n: NodeId) {
        let i = usize::from(n);
        if !self.nodes[i].frozen {
            return;
        }
        self.log(format!("{}: thawed", name(n)));
        self.nodes[i].frozen = false;
        self.nodes[i].steady_since = self.now;
        self.nodes[i].timer_at = u64::MAX;
        self.handle(n, |core, now| core.handle_timeout(now));
        for ev in std::mem::take(&mut self.nodes[i].held_back) {
            self.step(ev);
        }
    }

    /// The liveness phase: every fault healed, every node up.
    fn heal_all(&mut self) {
        self.log("HEAL: all faults cleared, all nodes up".into());
        self.healed = true;
        // Booting nodes changes the picture: pending liveness checks end.
        self.last_disturbance = self.now;
        for l in &mut self.cut {
            for row in l.iter_mut() {
                row.fill(false);
            }
        }
        for l in &mut self.s.paths {
            for row in l.iter_mut() {
                row.fill(Path::CLEAN);
            }
        }
        self.s.start_hang_permille = 0;
        self.s.stop_fail_permille = 0;
        for n in 0..self.s.nodes as NodeId {
            if self.nodes[usize::from(n)].frozen {
                self.thaw(n);
            }
            if self.nodes[usize::from(n)].core.is_none() {
                self.boot_daemon(n);
            }
            if self.ping[usize::from(n)] != 1 {
                self.ping[usize::from(n)] = 1;
                self.handle(n, |core, now| core.handle_ping(now, 1));
            }
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
