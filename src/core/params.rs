//! The part of the configuration the core acts on, in the core's terms:
//! nodes and groups by number, links by what they reach.

use crate::config::hacf::{AutoFailback, StopFailure};
use crate::config::Config;
use crate::time::Time;
use crate::wire::frame::{cluster_id, GROUPS_MAX};

/// A node's number: its index among the node names sorted, so that every
/// node numbers the cluster the same whatever the order in ha.cf.
pub type NodeId = u8;
/// A resource group's number: its line in haresources.
pub type GroupId = usize;
/// A link's number: its place among the links of this node.
pub type LinkId = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkParams {
    /// As in logs: `serial /dev/ttyS0`, `bcast eth0`.
    pub name: String,
    /// Which nodes are at the other end: all, or the two of a ppp link.
    pub reaches: Vec<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupParams {
    /// The group key (its first resource as written).
    pub key: String,
    pub preferred: NodeId,
}

/// Everything the core needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub cluster: u16,
    /// Node names, sorted; a node's id is its index.
    pub nodes: Vec<String>,
    pub local: NodeId,
    pub links: Vec<LinkParams>,
    pub groups: Vec<GroupParams>,
    pub keepalive: Time,
    pub warntime: Time,
    pub deadtime: Time,
    pub initdead: Time,
    pub auto_failback: AutoFailback,
    /// Ping nodes are configured: connectivity breaks ties.
    pub ping: bool,
    /// A STONITH device is configured: fence a dead node that may hold
    /// resources before taking them over.
    pub fencing: bool,
    /// Heartbeat retries a failed stop 10 times, a second apart.
    pub stop_retries: u32,
    pub stop_retry_interval: Time,
    /// Log what is dropped (ha.cf `log_badpack`), rate-limited.
    pub log_badpack: bool,
    /// Monitor failures of a group here before it moves (ha.cf
    /// `migration_threshold`); below, it is restarted in place.
    pub migration_threshold: u32,
    /// This node's failures of a group expire this long after the last
    /// (ha.cf `failure_timeout`; zero: never).
    pub failure_timeout: Time,
    /// What a stop that keeps failing leads to (ha.cf `on_stop_failure`).
    pub on_stop_failure: StopFailure,
}

impl Params {
    /// The core's parameters for `config` (already validated).
    pub fn from_config(config: &Config) -> Result<Params, String> {
        let h = &config.hacf;
        let mut nodes: Vec<String> = h.nodes.iter().map(|n| n.value.clone()).collect();
        nodes.sort();
        let id = |name: &str| nodes.iter().position(|n| n == name).map(|i| i as NodeId);
        let local = id(&config.local_node)
            .ok_or_else(|| format!("this node `{}` is not configured", config.local_node))?;
        if config.groups.len() > GROUPS_MAX {
            return Err(format!(
                "{} resource groups; tandem manages at most {GROUPS_MAX}",
                config.groups.len()
            ));
        }
        let all: Vec<NodeId> = (0..nodes.len() as NodeId).collect();
        let links = h
            .links
            .iter()
            .filter(|l| l.value.reaches(&config.local_node))
            .map(|l| LinkParams {
                name: l.value.to_string(),
                reaches: all
                    .iter()
                    .copied()
                    .filter(|&n| l.value.reaches(&nodes[usize::from(n)]))
                    .collect(),
            })
            .collect();
        let groups = config
            .groups
            .iter()
            .map(|g| {
                let preferred = id(&g.node.value).ok_or_else(|| {
                    format!("group {}: node {} is not configured", g.key(), g.node.value)
                })?;
                Ok(GroupParams {
                    key: g.key().to_string(),
                    preferred,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Params {
            cluster: cluster_id(&h.cluster.value),
            nodes,
            local,
            links,
            groups,
            keepalive: h.keepalive.value,
            warntime: h.warntime.value,
            deadtime: h.deadtime.value,
            initdead: h.initdead.value,
            auto_failback: h.auto_failback.value,
            ping: !h.ping_nodes.is_empty(),
            fencing: !h.stonith.is_empty(),
            stop_retries: 10,
            stop_retry_interval: Time::from_secs(1),
            log_badpack: config.hacf.logging.log_badpack.value,
            migration_threshold: h.migration_threshold.value,
            failure_timeout: h.failure_timeout.value,
            on_stop_failure: h.on_stop_failure.value,
        })
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn name(&self, node: NodeId) -> &str {
        self.nodes
            .get(usize::from(node))
            .map(String::as_str)
            .unwrap_or("?")
    }
}
