//! The daemon's links: registering each medium with the poll, reading
//! what arrives (every frame goes to the core undecoded), and keeping
//! serial lines and pppd alive when a device goes away.

use super::*;

impl Daemon {
    pub(super) fn register_link(&mut self, i: usize) -> Result<(), DaemonError> {
        let token = Token(LINK_BASE + i);
        let registry = self.poll.registry();
        match &mut self.links[i] {
            // A unicast link sharing another's socket receives through it.
            Link::Udp(u) if u.receives_for.is_none() => Ok(()),
            Link::Udp(u) => registry
                .register(&mut u.socket, token, Interest::READABLE)
                .map_err(io_err("udp link")),
            Link::Ppp(p) => {
                registry
                    .register(&mut p.socket, token, Interest::READABLE)
                    .map_err(io_err("ppp link"))?;
                self.start_pppd(i);
                Ok(())
            }
            Link::Serial(s) => match s.open() {
                Ok(fd) => {
                    registry
                        .register(&mut SourceFd(&fd), token, Interest::READABLE)
                        .map_err(io_err("serial link"))?;
                    if self.reopen.remove(&i).is_some_and(|r| r.logged) {
                        let name = self.core.params().links[i].name.clone();
                        self.log.info(&format!("link {name}: device open again"));
                    }
                    Ok(())
                }
                Err(e) => {
                    self.serial_lost(i, &e.to_string());
                    Ok(())
                }
            },
        }
    }

    /// Starts (or restarts) pppd on ppp link `i`.
    pub(super) fn start_pppd(&mut self, i: usize) {
        self.pppd_restart.remove(&i);
        let name = self.core.params().links[i].name.clone();
        if let Link::Ppp(p) = &mut self.links[i] {
            match p.spawn() {
                Ok(pid) => self
                    .log
                    .info(&format!("link {name}: pppd started (pid {pid})")),
                Err(e) => {
                    self.log.warn(&format!(
                        "link {name}: cannot start pppd: {e}; retrying in {}s",
                        media::ppp::RESTART_INTERVAL.as_secs()
                    ));
                    self.pppd_restart
                        .insert(i, Instant::now() + media::ppp::RESTART_INTERVAL);
                }
            }
        }
    }

    /// A pppd that exited is started again, after a pause.
    pub(super) fn reap_pppd(&mut self) {
        for i in 0..self.links.len() {
            let Link::Ppp(p) = &mut self.links[i] else {
                continue;
            };
            if let Some(status) = p.exited() {
                let name = self.core.params().links[i].name.clone();
                self.log.warn(&format!(
                    "link {name}: pppd exited ({status}); the link is down, restarting it in {}s",
                    media::ppp::RESTART_INTERVAL.as_secs()
                ));
                self.pppd_restart
                    .insert(i, Instant::now() + media::ppp::RESTART_INTERVAL);
            }
        }
    }

    /// A serial device is missing or failed: down, logged once, retried.
    pub(super) fn serial_lost(&mut self, i: usize, why: &str) {
        if let Link::Serial(s) = &mut self.links[i] {
            if let Some(fd) = s.fd() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            s.close();
        }
        let at = Instant::now() + media::serial::REOPEN_INTERVAL;
        let entry = self.reopen.entry(i).or_insert(Reopen { at, logged: false });
        entry.at = at;
        if !entry.logged {
            entry.logged = true;
            let name = self.core.params().links[i].name.clone();
            self.log.warn(&format!(
                "link {name}: {why}; the link is down, retrying every {}s",
                media::serial::REOPEN_INTERVAL.as_secs()
            ));
        }
    }

    pub(super) fn on_link(&mut self, i: usize) {
        let buf = &mut self.receive;
        let socket = match self.links.get(i) {
            Some(Link::Udp(u)) => Some((&u.socket, Some(u))),
            Some(Link::Ppp(p)) => Some((&p.socket, None)),
            _ => None,
        };
        if let Some((socket, udp)) = socket {
            loop {
                match socket.recv_from(buf) {
                    Ok((n, from)) => {
                        let bytes = &buf[..n];
                        let link = udp.map_or(i, |u| u.link_of(from.ip(), i));
                        let now = time::Instant(self.epoch.elapsed().as_micros() as u64);
                        self.core.handle_frame(now, link, bytes);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // ICMP errors (port unreachable) surface here: the peer
                    // is not listening yet. Nothing to do but go on.
                    Err(_) => break,
                }
            }
            return;
        }
        if let Some(Link::Serial(s)) = self.links.get_mut(i) {
            let mut items = Vec::new();
            let result = s.receive(&mut items);
            let now = self.now();
            for item in items {
                match item {
                    Received::Frame(f) => self.core.handle_frame(now, i, &f),
                    Received::Heartbeat(_, message) => self.core.handle_frame(now, i, &message),
                    Received::Noise => self.core.handle_noise(i),
                }
            }
            if let Err(e) = result {
                self.serial_lost(i, &format!("device lost ({e})"));
            }
        }
    }
}
