//! The simulated shell around each engine: booting a daemon with its
//! parameters and generation, handing it inputs, and carrying out what it
//! asks (resources that take time and may fail, fencing, crashes).

use super::*;

impl World {
    pub(super) fn params(&self, n: NodeId) -> Params {
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
            log_badpack: true,
            migration_threshold: 2,
            failure_timeout: crate::time::Time::from_secs(600),
            on_stop_failure: crate::config::hacf::StopFailure::Reboot,
        }
    }

    /// Starts (or restarts) the daemon on node `n`. Groups whose resources
    /// are running are reported as running, as the start-up probe does.
    pub(super) fn boot_daemon(&mut self, n: NodeId) {
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

    /// Calls into node `n`'s core, then carries out what it asks.
    pub(super) fn handle(&mut self, n: NodeId, f: impl FnOnce(&mut Engine, Instant)) {
        let now = self.local(n, self.now);
        let Some(core) = self.nodes[usize::from(n)].core.as_mut() else {
            return;
        };
        f(core, now);
        self.drain(n);
    }

    pub(super) fn drain(&mut self, n: NodeId) {
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

    pub(super) fn act(&mut self, n: NodeId, action: Action) {
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
            Action::CheckStopped(g) => {
                // A failed stop leaves the resource running, as the
                // machine's record of it says.
                let running = self.nodes[i].res[g].running;
                self.log(format!("{}: status g{g}: running {running}", name(n)));
                self.push(
                    self.now + 1_000,
                    Ev::StopChecked {
                        node: n,
                        incarnation,
                        group: g,
                        running,
                    },
                );
            }
            Action::Reboot => {
                // on_stop_failure reboot (Heartbeat's RecoverFromFailedStop).
                self.last_disturbance = self.now;
                self.log(format!("{}: reboot", name(n)));
                self.crash(n);
                let back = self.now + self.s.deadtime * 2;
                self.push(back, Ev::Fault(Fault::Boot(n)));
            }
            Action::Restart(g) => {
                // The simulated resources never fail a monitor.
                self.log(format!("{}: restart g{g}", name(n)));
            }
            Action::AskFencing(g) => {
                // The scenarios run on_stop_failure reboot.
                self.log(format!("{}: asks to be fenced for g{g}", name(n)));
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

    pub(super) fn on_event(&mut self, n: NodeId, event: Event) {
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

    pub(super) fn crash(&mut self, n: NodeId) {
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
}
