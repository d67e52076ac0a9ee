//! What the control socket asks of the pair's daemon: status, standby,
//! takeover, reload (a bad configuration keeps the running one), shutdown
//! and cl_status's queries.

use super::*;

impl Daemon {
    /// HUP or `tandem reload`: the new configuration replaces the running
    /// one only when it is valid and keeps nodes, links and groups.
    pub(super) fn reload(&mut self) -> Result<String, String> {
        let p = prepare(&self.opts).map_err(|e| {
            format!(
                "reload refused, the running configuration stays: {}",
                e.to_string().replace('\n', "; ")
            )
        })?;
        let auth = Authenticator::from(&p.config.authkeys);
        if let Some((node, key)) = self.core.refused_by(&auth) {
            let name = self.core.params().name(node).to_string();
            let key = if key == u8::MAX {
                "the key".to_string()
            } else {
                format!("key {key}")
            };
            return Err(format!(
                "reload refused, the running configuration stays: {}: {key}, which node {name} signs with, is no longer accepted; keep it listed (as a second key) until {name} signs with the new one",
                self.opts.files.authkeys.display()
            ));
        }
        let wire = wire_of(&p.config, &self.paths)
            .map_err(|e| format!("reload refused, the running configuration stays: {e}"))?;
        self.core
            .reconfigure(p.params, auth, wire)
            .map_err(|e| format!("reload refused, the running configuration stays: {e}"))?;
        for problem in self
            .log
            .configure(&p.config.hacf.logging, !self.opts.detach)
        {
            self.log.warn(&problem);
        }
        self.runner.configure(runner_settings(&p.config));
        self.config = p.config;
        self.next_monitor = self.monitor_every().map(|d| Instant::now() + d);
        Ok("configuration reloaded".to_string())
    }

    /// Answers one control request.
    pub(super) fn serve(&mut self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let which = |w: Option<&&str>| -> Result<Which, String> {
            match w.copied().unwrap_or("all") {
                "all" => Ok(Which::All),
                "local" => Ok(Which::Local),
                "foreign" => Ok(Which::Foreign),
                "failback" => Ok(Which::Failback),
                other => Err(format!(
                    "`{other}`: expected all, local, foreign or failback"
                )),
            }
        };
        let now = self.now();
        match words.as_slice() {
            ["status"] => Ok(status::text(&self.core, &self.config, now)),
            ["status-json"] => Ok(status::json(&self.core, &self.config, now)),
            ["standby", rest @ ..] => {
                let w = which(rest.first())?;
                self.command(now, Command::Standby(w))
            }
            ["takeover", rest @ ..] => {
                let w = which(rest.first())?;
                self.command(now, Command::Takeover(w))
            }
            ["accept-generation", name] => {
                let p = self.core.params();
                let Some(id) = p
                    .nodes
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(name))
                    .filter(|&i| i != usize::from(p.local))
                else {
                    return Err(format!(
                        "`{name}`: not another node of this cluster ({})",
                        p.nodes.join(", ")
                    ));
                };
                self.log.info(&format!(
                    "control: accepting the next generation of node {name}, whatever it is"
                ));
                self.core.accept_generation(now, id as u8);
                self.pump();
                Ok(format!(
                    "node {name}: its next frame is taken as a new start\n"
                ))
            }
            ["cleanup", which @ ..] if which.len() <= 1 => {
                let p = self.core.params();
                let mask = match which.first() {
                    None => (0..p.groups.len()).fold(0, |m, g| m | core::groups::bit(g)),
                    Some(name) => match p.groups.iter().position(|g| g.key == *name) {
                        Some(g) => core::groups::bit(g),
                        None => {
                            let keys: Vec<&str> = p.groups.iter().map(|g| g.key.as_str()).collect();
                            return Err(format!(
                                "`{name}`: not a group of this cluster ({})",
                                keys.join(", ")
                            ));
                        }
                    },
                };
                let what = which.first().map_or("every group", |g| *g).to_string();
                self.log.info(&format!("control: cleanup of {what}"));
                self.core.handle_command(now, Command::Cleanup(mask));
                self.pump();
                Ok(format!("{what}: this node's failures forgotten\n"))
            }
            ["shutdown"] => {
                self.log
                    .info("control: graceful shutdown (handing groups over)");
                self.core.handle_command(now, Command::Shutdown);
                Ok("shutting down: handing groups over\n".to_string())
            }
            ["reload"] => {
                let r = self.reload();
                match &r {
                    Ok(m) => self.log.info(m),
                    Err(m) => self.log.error(m),
                }
                r.map(|m| m + "\n")
            }
            ["hbstatus"]
            | ["listnodes"]
            | ["nodestatus", _]
            | ["listhblinks", _]
            | ["hblinkstatus", _, _]
            | ["rscstatus"] => status::cl_status(&self.core, &words, now).map(|s| s + "\n"),
            [] => Err("empty request".to_string()),
            _ => Err(format!("unknown request `{line}`")),
        }
    }

    /// Hands an operator command to the core and reports a refusal.
    pub(super) fn command(
        &mut self,
        now: time::Instant,
        command: Command,
    ) -> Result<String, String> {
        self.log.info(&format!("control: {command:?}"));
        self.core.handle_command(now, command);
        // A refusal comes back as an event at once.
        let mut refused = None;
        let mut rest = Vec::new();
        while let Some((t, e)) = self.core.poll_event() {
            if let core::Event::CommandRefused(why) = e {
                refused = Some(why.to_string());
            }
            rest.push((t, e));
        }
        for (_, e) in rest {
            self.log_event(&e);
        }
        match refused {
            Some(why) => Err(why),
            None => Ok("accepted\n".to_string()),
        }
    }
}
