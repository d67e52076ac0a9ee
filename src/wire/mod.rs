//! Every packet format tandem reads or writes, and nothing else: no
//! sockets, files or clocks (tests/layering.rs holds it to that).
//!
//! Between the nodes: tandem's native [`frame`]s and their [`auth`]entication,
//! the [`serial`] framing, Heartbeat's message codec ([`heartbeat`]) and the
//! recognition of its traffic ([`sniff`]). Toward the network: the gratuitous
//! ARP and neighbour advertisement ([`arp`]), ICMP echo ([`icmp`]), DNS
//! messages ([`dns`]), and the Internet checksum they share ([`inet`]).
//!
//! Formats only, no state: replay protection (which needs the last frame
//! seen from each node) lives in the core.

pub mod arp;
pub mod auth;
pub mod dns;
pub mod frame;
pub mod heartbeat;
pub mod icmp;
pub mod inet;
pub mod serial;
pub mod sniff;

pub use auth::Authenticator;
pub use frame::{Ack, Claim, Drop, Frame, Kind, Mask, NodeState, Status};
