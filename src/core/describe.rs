//! Events in words, one line each, for the log and the status output.
//! The same words as ha.cf and the status JSON: node, link, group,
//! deadtime, takeover.

use super::groups::GroupState;
use super::liveness::Liveness;
use super::outbox::Event;
use super::params::Params;
use crate::config::hacf::StopFailure;

/// How serious an event is, for syslog priorities and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Event {
    pub fn severity(&self) -> Severity {
        match self {
            Event::NodeLate { .. }
            | Event::LinkDown { .. }
            | Event::NodeDead(_)
            | Event::StartFailed(_)
            | Event::StopFailed { .. }
            | Event::HeartbeatPeer(_)
            | Event::HeartbeatRefused { .. }
            | Event::PartitionHealed(_)
            | Event::WrongKey(_)
            | Event::CommandRefused(_)
            | Event::NoConnectivity { .. }
            | Event::TakeoverUnfenced { .. }
            | Event::MonitorFailed(_)
            | Event::Restarting { .. }
            | Event::StopNotLsb(_)
            | Event::Dropped { .. }
            | Event::GenerationBackwards { .. } => Severity::Warning,
            Event::StopGaveUp(_)
            | Event::StopBlocked { .. }
            | Event::RestartFailed(_)
            | Event::SplitBrain { .. }
            | Event::FenceFailed(_)
            | Event::Frozen { .. } => Severity::Error,
            _ => Severity::Info,
        }
    }

    /// The event as a log line, with names from `p`.
    pub fn describe(&self, p: &Params) -> String {
        let node = |n: &u8| p.name(*n).to_string();
        let group = |g: &usize| {
            p.groups
                .get(*g)
                .map(|g| g.key.clone())
                .unwrap_or_else(|| format!("#{g}"))
        };
        let link = |l: &usize| {
            p.links
                .get(*l)
                .map(|l| l.name.clone())
                .unwrap_or_else(|| format!("#{l}"))
        };
        match self {
            Event::Joined => "joined the cluster".to_string(),
            Event::NodeUp(n) => format!("node {} is up", node(n)),
            Event::NodeLate { node: n, silent } => format!(
                "late keepalive: node {} silent for {silent} (warntime {})",
                node(n),
                p.warntime
            ),
            Event::NodeDead(n) => format!(
                "node {} is dead: silent on every link for deadtime {}",
                node(n),
                p.deadtime
            ),
            Event::NodeLeft(n) => format!("node {} left the cluster (graceful shutdown)", node(n)),
            Event::NodeRestarted { node: n, generation } => {
                format!("node {} restarted (generation {generation})", node(n))
            }
            Event::LinkUp { node: n, link: l } => format!("link {} to node {} is up", link(l), node(n)),
            Event::LinkDown { node: n, link: l } => {
                format!("link {} to node {} is down", link(l), node(n))
            }
            Event::Starting(g) => format!("group {}: starting", group(g)),
            Event::Started(g) => format!("group {}: started", group(g)),
            Event::StartFailed(g) => {
                format!("group {}: start failed; stopping it and leaving it to another node", group(g))
            }
            Event::Stopping(g) => format!("group {}: stopping", group(g)),
            Event::Stopped(g) => format!("group {}: stopped", group(g)),
            Event::StopFailed { group: g, attempt } => {
                format!("group {}: stop failed (attempt {attempt}); retrying", group(g))
            }
            Event::StopGaveUp(g) => format!(
                "group {}: stop keeps failing; asking its status (no other node will start it meanwhile)",
                group(g)
            ),
            Event::StopNotLsb(g) => format!(
                "group {}: its stop failed but its status says stopped (a script is probably not LSB-compliant); going on as stopped",
                group(g)
            ),
            Event::StopBlocked { group: g, policy } => match policy {
                StopFailure::Reboot => format!(
                    "group {}: cannot be stopped and still runs; rebooting this node (on_stop_failure reboot) so that another node can take over",
                    group(g)
                ),
                StopFailure::Fence => format!(
                    "group {}: cannot be stopped and still runs; asking the other node to fence this one (on_stop_failure fence)",
                    group(g)
                ),
                StopFailure::Block => format!(
                    "group {}: cannot be stopped and still runs; blocked: no node will start it (on_stop_failure block). Stop it by hand, then run `tandem cleanup {}`",
                    group(g),
                    group(g)
                ),
            },
            Event::Restarting { group: g, failures } => format!(
                "group {}: a resource failed its monitor (failure {failures} of migration_threshold {}); restarting it and those after it in place",
                group(g),
                p.migration_threshold
            ),
            Event::Restarted(g) => format!("group {}: restarted in place", group(g)),
            Event::RestartFailed(g) => format!(
                "group {}: the restart in place failed; stopping it and leaving it to another node",
                group(g)
            ),
            Event::FailureExpired(g) => format!(
                "group {}: this node's failures of it expired (failure_timeout {}); it may run here again",
                group(g),
                p.failure_timeout
            ),
            Event::CleanedUp(g) => format!(
                "group {}: cleaned up: this node's failures of it are forgotten",
                group(g)
            ),
            Event::SplitBrain { group: g, other } => format!(
                "SPLIT BRAIN: group {} runs here and on node {}; resolving",
                group(g),
                node(other)
            ),
            Event::TakeoverUnfenced { group: g, from } => format!(
                "group {}: taking over from node {} without fencing (no STONITH device)",
                group(g),
                node(from)
            ),
            Event::FenceFailed(n) => format!("fencing node {} failed; not taking over its groups", node(n)),
            Event::NoConnectivity { group: g, from } => format!(
                "group {}: not taking over from node {}: it reaches more ping nodes than this one",
                group(g),
                node(from)
            ),
            Event::PartitionHealed(n) => format!(
                "node {} returns after a partition: releasing every group and negotiating anew (Heartbeat's rule)",
                node(n)
            ),
            Event::HeartbeatAnswered(n) => format!(
                "node {} speaks Heartbeat 3.0.6's protocol: answering it in its format from now on (wire auto)",
                node(n)
            ),
            Event::HeartbeatRefused { node: n, why } => format!(
                "node {} speaks Heartbeat 3.0.6's protocol; wire auto cannot answer it in its format: {why}",
                node(n)
            ),
            Event::HeartbeatPeer(n) => format!(
                "node {} speaks Heartbeat 3.0.6's protocol; starting nothing while it is heard",
                node(n)
            ),
            Event::WrongKey(n) => format!(
                "node {} sends messages that fail authentication (check authkeys on both nodes); taking nothing over from a node that is alive",
                node(n)
            ),
            Event::Frozen { gap } => format!(
                "this node was frozen for {gap} (more than deadtime {}): releasing every group and rejoining",
                p.deadtime
            ),
            Event::CommandRefused(why) => format!("command refused: {why}"),
            Event::Dropped {
                link: l,
                reason,
                node: n,
                count,
            } => format!(
                "link {}: dropped {count} frame{} claiming to be from {} ({}){}",
                link(l),
                if *count == 1 { "" } else { "s" },
                n.as_ref().map(node).unwrap_or_else(|| "unknown".to_string()),
                reason.name(),
                if *count > 1 { " since the last such line" } else { "" }
            ),
            Event::GenerationBackwards {
                node: n,
                known,
                heard,
            } => format!(
                "node {} restarted with generation {heard}, older than {known} seen before (its state directory was lost?); its frames are refused as replays until you run `tandem accept-generation {}` here",
                node(n),
                node(n)
            ),
            Event::MonitorFailed(g) => format!(
                "group {}: a resource failed its monitor; stopping the group and leaving it to another node",
                group(g)
            ),
        }
    }
}

impl GroupState {
    /// The state's name in the status output.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Stopped => "stopped",
            GroupState::Claiming { .. } => "claiming",
            GroupState::Starting => "starting",
            GroupState::Running => "running",
            GroupState::Restarting => "restarting",
            GroupState::Stopping => "stopping",
            GroupState::StopRetry { .. } => "stop-retry",
            GroupState::StopFailed => "stop-failed",
        }
    }
}

impl Liveness {
    /// The liveness's name in the status output (Heartbeat's words).
    pub fn name(self) -> &'static str {
        match self {
            Liveness::Unknown => "unknown",
            Liveness::Up => "up",
            Liveness::Dead => "dead",
        }
    }
}
