//! Telling people: ldirectord's emailalert (one mail per change, repeated
//! every emailalertfreq while a server stays down), the alert commands,
//! and the fallback commands run when a virtual service has no real
//! server left.

use super::*;

impl Daemon {
    /// ldirectord's fallbackcommand: `COMMAND start` when every real
    /// server of a service is down, `COMMAND stop` when one is back.
    pub(super) fn fallback_commands(&mut self) {
        let n = self.farm.config.virtuals.len();
        self.fallback_on.resize(n, false);
        for vi in 0..n {
            let v = &self.farm.config.virtuals[vi];
            let Some(cmd) = v.settings.fallbackcommand.clone() else {
                continue;
            };
            let mut servers = self.farm.servers.iter().filter(|s| s.virtual_index == vi);
            // Not before every server has been checked once.
            if servers
                .clone()
                .any(|s| s.health.verdict == Verdict::Unknown)
            {
                continue;
            }
            let all_down = servers.all(|s| !s.health.is_up());
            if all_down == self.fallback_on[vi] {
                continue;
            }
            self.fallback_on[vi] = all_down;
            let action = if all_down { "start" } else { "stop" };
            let mut words = cmd.split_whitespace();
            let Some(program) = words.next() else {
                continue;
            };
            let name = service_name(v);
            match std::process::Command::new(program)
                .args(words)
                .arg(action)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            {
                Ok(child) => {
                    self.log
                        .info(&format!("{name}: fallbackcommand {cmd} {action}"));
                    self.children.push(child);
                }
                Err(e) => self
                    .log
                    .error(&format!("{name}: fallbackcommand {cmd}: {e}")),
            }
        }
    }

    /// Mails `line` about server `i` of virtual `vi` to its emailalert
    /// addresses (ldirectord's `running` status).
    pub(super) fn server_alert(&mut self, i: usize, vi: usize, line: &str) {
        let settings = &self.farm.config.virtuals[vi].settings;
        if !alert_wanted(&settings.emailalertstatus, "running") {
            return;
        }
        let (Some(to), from) = (settings.emailalert.clone(), settings.emailalertfrom.clone())
        else {
            return;
        };
        self.farm.servers[i].alerted = Some(self.now());
        self.mail(&to, from.as_deref(), line);
    }

    /// emailalertfreq: a server still down is mailed about again.
    pub(super) fn repeat_alert(&mut self, i: usize, error: Option<&str>) {
        let now = self.now();
        let s = &self.farm.servers[i];
        let freq = self.farm.config.virtuals[s.virtual_index]
            .settings
            .emailalertfreq;
        if s.health.verdict != Verdict::Down || freq == Time::ZERO {
            return;
        }
        if s.alerted.is_some_and(|t| now.since(t) < freq) {
            return;
        }
        let line = format!(
            "{} is still down: {}",
            s.describe(&self.farm.config),
            error.unwrap_or("failed")
        );
        self.server_alert(i, s.virtual_index, &line);
    }

    /// The director's own state (starting, stopping, reloading) to the
    /// global emailalert.
    pub(super) fn daemon_alert(&mut self, status: &str, line: &str) {
        let g = &self.farm.config.global;
        if !alert_wanted(&g.emailalertstatus, status) {
            return;
        }
        if let Some(to) = g.emailalert.clone() {
            let from = g.emailalertfrom.clone();
            self.mail(&to, from.as_deref(), line);
        }
    }

    /// Hands a message to the system's sendmail (exim, postfix, ...); a
    /// mail that cannot be sent is logged, never fatal. The addresses were
    /// checked as plain addresses when the file was read.
    pub(super) fn mail(&mut self, to: &str, from: Option<&str>, line: &str) {
        let sendmail = ["/usr/sbin/sendmail", "/usr/lib/sendmail"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(sendmail) = sendmail else {
            self.log
                .warn(&format!("emailalert to {to}: no sendmail on this host"));
            return;
        };
        let host = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let subject: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
        let mut text = String::new();
        if let Some(f) = from {
            text.push_str(&format!("From: {f}\n"));
        }
        text.push_str(&format!(
            "To: {to}\nSubject: tandem director on {host}: {subject}\n\n{subject}\n\nconfiguration: {}\n",
            self.opts.config.display()
        ));
        let mut cmd = std::process::Command::new(sendmail);
        cmd.arg("-oi");
        if let Some(f) = from {
            cmd.arg("-f").arg(f);
        }
        cmd.arg("--");
        cmd.args(to.split(',').map(str::trim));
        let child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(mut c) => {
                // A few hundred bytes: the pipe takes them without blocking.
                if let Some(mut stdin) = c.stdin.take() {
                    use std::io::Write;
                    let _ = stdin.write_all(text.as_bytes());
                }
                self.children.push(c);
            }
            Err(e) => self
                .log
                .warn(&format!("emailalert to {to}: {sendmail}: {e}")),
        }
    }
}

/// Whether `emailalertstatus` asks for mail in `status`.
fn alert_wanted(statuses: &[String], status: &str) -> bool {
    statuses.iter().any(|s| s == "all" || s == status)
}
