//! tandem: a Heartbeat-style failover daemon.
//!
//! Two (or a few) nodes exchange authenticated keepalives over serial
//! lines, PPP links and UDP; a pure membership and election core decides
//! who owns each resource group; on takeover, resources move.
//!
//! The library is organised as the system is (see `design.md`):
//! [`config`] reads a Heartbeat `/etc/ha.d` into a typed [`config::Config`];
//! [`wire`] encodes and authenticates frames; [`core`] is the pure
//! membership and ownership state machine, proven by [`sim`]; [`media`],
//! [`resources`] and [`daemon`] are the shell that runs it on a host.

// Unsafe code only where a system call has no safe wrapper (syslog,
// SCHED_FIFO, mlockall, taking over a serial port's descriptor); those
// modules allow it, one call at a time, with a SAFETY note.
#![deny(unsafe_code)]

pub mod config;
pub mod core;
pub mod daemon;
pub mod demo;
pub mod director;
pub mod host;
pub mod media;
pub mod resources;
pub mod sim;
pub mod takeover;
pub mod time;
pub mod wire;
