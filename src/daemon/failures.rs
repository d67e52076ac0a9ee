//! Failures seen and what follows: the monitors of running groups
//! (`monitor_interval`), and when the node must not go on: a group that
//! cannot be stopped (`on_stop_failure`) or a failfast client that died;
//! the reboot(2) itself, and silence for the other node to fence this one.

use super::*;

impl Daemon {
    /// Starts the monitors that are due (`monitor_interval`).
    pub(super) fn monitor(&mut self, wall: Instant) {
        let (Some(at), Some(every)) = (self.next_monitor, self.monitor_every()) else {
            return;
        };
        if wall < at {
            return;
        }
        self.next_monitor = Some(wall + every);
        for g in 0..self.core.params().groups.len() {
            if self.core.group(g) != core::GroupState::Running || self.runner.busy_group(g) {
                continue;
            }
            let log = &mut self.log;
            let finished =
                self.runner
                    .begin(self.poll.registry(), g, Step::Monitor, wall, &mut |m| {
                        log.info(&m)
                    });
            if let Some(f) = finished {
                let t = self.now();
                self.finished(t, f);
            }
        }
    }

    pub(super) fn monitor_every(&self) -> Option<Duration> {
        self.config
            .hacf
            .monitor_interval
            .as_ref()
            .map(|m| Duration::from_micros(m.value.as_micros()))
    }

    pub(super) fn group_key(&self, g: core::GroupId) -> String {
        self.core
            .params()
            .groups
            .get(g)
            .map(|g| g.key.clone())
            .unwrap_or_default()
    }

    /// Clients that exited are respawned later; a failfast client's death
    /// takes the node down: reboot, or silence to be fenced when
    /// `on_stop_failure fence` says so (`block` does not apply: the node
    /// must not go on without the client).
    pub(super) fn reap_clients(&mut self) {
        let log = &mut self.log;
        let deaths = self.clients.reap(Instant::now(), &mut |m| log.warn(&m));
        for clients::Death::Failfast { source, status } in deaths {
            if self.config.hacf.on_stop_failure.value == StopFailure::Fence {
                self.log.error(&format!(
                    "{source}: the failfast client died ({status}); going silent so that the other node fences this one (on_stop_failure fence)"
                ));
                self.core.silence();
            } else {
                self.log.error(&format!(
                    "{source}: the failfast client died ({status}); this node must not go on without it"
                ));
                self.reboot();
            }
        }
    }

    /// `on_stop_failure reboot`: a group cannot be stopped and still runs.
    /// The node reboots at once (Heartbeat's RecoverFromFailedStop), so
    /// that the other takes over when it goes silent; the watchdog, if
    /// any, is no longer fed, as a backstop. In a PID namespace other than
    /// the host's, reboot(2) ends only that namespace.
    pub(super) fn reboot(&mut self) {
        self.log
            .error("rebooting now: a group cannot be stopped (on_stop_failure reboot)");
        if let Some(w) = self.watchdog.as_mut() {
            w.starve();
        }
        // SAFETY: sync(2) and reboot(2) take no pointers.
        #[allow(unsafe_code)]
        let rc = unsafe {
            libc::sync();
            libc::reboot(libc::RB_AUTOBOOT)
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            self.log.error(&format!(
                "cannot reboot ({e}); the group stays blocked here: stop it by hand, then run `tandem cleanup GROUP`"
            ));
        }
    }
}
