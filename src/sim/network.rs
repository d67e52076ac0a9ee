//! The simulated network: frames on UDP links and serial lines with
//! their latency, loss, duplication and reordering, and the faults a
//! scenario injects (partitions, cut cables, frozen nodes) and heals.

use super::*;

impl World {
    /// Sends on every link of `from`, as the daemon does: a native frame
    /// framed on serial lines; Heartbeat's text form on serial lines and
    /// its netstring form elsewhere.
    pub(super) fn transmit(&mut self, from: NodeId, t: Transmit) {
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

    pub(super) fn deliver(
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
        if clean {
            self.adversary
                .capture(to, self.s.links[link].serial, &bytes);
        }
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

    pub(super) fn fault(&mut self, f: Fault) {
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

    pub(super) fn thaw(&mut self, n: NodeId) {
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
    pub(super) fn heal_all(&mut self) {
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
