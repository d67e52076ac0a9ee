//! The deterministic heart of tandem: membership (which nodes are alive,
//! over which links) and resource-group ownership (who runs what).
//!
//! Pure: no I/O, no clock, no threads, no randomness. `now` is handed in;
//! frames, actions and events are handed out. The daemon drives it with
//! real sockets and time, the simulator (the `sim` module) with virtual ones.
//!
//! Both drive one [`Engine`]: a node speaking tandem's own protocol
//! ([`node`]) or Heartbeat 3.0.6's ([`compat`]); under `wire auto` the
//! engine turns from the first into the second by itself. The two decide
//! when a group starts or stops; what follows (starts and stops in
//! flight, failed stops retried and escalated, failed groups) is one
//! lifecycle, [`groups`], and both hand the shell the same actions and
//! events through one [`outbox`].

pub mod bugs;
pub mod command;
pub mod compat;
pub mod describe;
pub mod droplog;
pub mod engine;
pub mod groups;
pub mod liveness;
pub mod node;
pub mod outbox;
pub mod params;

pub use bugs::Bugs;
pub use command::{Command, Which};
pub use describe::Severity;
pub use engine::{Boot, Engine, Transmit, Wire};
pub use groups::{GroupState, Outcome};
pub use liveness::Liveness;
pub use node::Node;
pub use outbox::{Action, Counters, Event};
pub use params::{GroupId, GroupParams, LinkId, LinkParams, NodeId, Params};
