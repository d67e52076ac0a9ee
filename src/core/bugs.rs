//! Deliberate bugs, planted by tests to prove that the simulator's
//! checker can fail. Off unless a test turns one on.

/// Deliberate bugs for proving that the simulator's checker can fail.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Bugs {
    /// Native: start a group while another node is still stopping it.
    pub start_before_stop: bool,
    /// Heartbeat's protocol: the taker of a standby exchange starts the
    /// groups as soon as the giver asks, before the giver has stopped them.
    pub take_before_release: bool,
}
