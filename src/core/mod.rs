//! The deterministic heart of tandem: membership (which nodes are alive,
//! over which links) and resource-group ownership (who runs what).
//!
//! Pure: no I/O, no clock, no threads, no randomness. `now` is handed in;
//! frames, actions and events are handed out. The daemon drives it with
//! real sockets and time, the simulator ([`crate::sim`]) with virtual ones.

pub mod compat;
pub mod describe;
pub mod engine;
pub mod groups;
pub mod node;
pub mod outbox;
pub mod params;
pub mod time;

pub use describe::Severity;
pub use engine::{Boot, Bugs, Engine, Transmit, Wire};
pub use groups::{GroupState, Outcome};
pub use node::{Command, Liveness, Node, Which};
pub use outbox::{Action, Counters, Event};
pub use params::{GroupId, GroupParams, LinkId, LinkParams, NodeId, Params};
pub use time::Instant;
