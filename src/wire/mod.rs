//! What goes on the wire: tandem's native frames, their authentication,
//! their framing on serial lines, and recognition of Heartbeat traffic.
//!
//! Formats only, no state: replay protection (which needs the last frame
//! seen from each node) lives in the core.

pub mod auth;
pub mod frame;
pub mod heartbeat;
pub mod serial;
pub mod sniff;

pub use auth::Authenticator;
pub use frame::{Ack, Claim, Drop, Frame, Kind, Mask, NodeState, Status};
