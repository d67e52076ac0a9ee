//! tandem: a Heartbeat-style failover daemon.
//!
//! Two (or a few) nodes exchange authenticated keepalives over serial
//! lines, PPP links and UDP; a pure membership and election core decides
//! who owns each resource group; on takeover, resources move.
//!
//! The library is organised as the system is (see `design.md`):
//! [`config`] reads a Heartbeat `/etc/ha.d` into a typed [`config::Config`].

#![forbid(unsafe_code)]

pub mod config;
pub mod core;
pub mod sim;
pub mod wire;
