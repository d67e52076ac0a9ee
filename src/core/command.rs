//! What an operator asks of the core: `tandem standby`, `tandem takeover`
//! and a graceful stop, in both protocols' machines.

/// An operator command (`tandem standby`, `tandem takeover`, stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Give groups away (Heartbeat's hb_standby).
    Standby(Which),
    /// Pull groups here (Heartbeat's hb_takeover).
    Takeover(Which),
    /// Release everything, tell the others, and exit.
    Shutdown,
    /// Forget this node's failures of these groups, and take a group
    /// blocked by a failed stop as stopped (`tandem cleanup`).
    Cleanup(crate::wire::frame::Mask),
}

/// Which groups a command names, from the commanded node's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every group.
    All,
    /// Groups whose preferred node is this one.
    Local,
    /// Groups whose preferred node is another one.
    Foreign,
    /// Heartbeat's `failback`: the same as foreign.
    Failback,
}
