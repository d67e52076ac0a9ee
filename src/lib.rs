//! tandem: a Heartbeat-style failover daemon.
//!
//! Two (or a few) nodes exchange authenticated keepalives over serial
//! lines, PPP links and UDP; a pure membership and election core decides
//! who owns each resource group; on takeover, resources move.
//!
//! # Layers
//!
//! The library is built bottom to top. A module uses the ones below it,
//! never one above or beside it unless an arrow says so; `tests/layering.rs`
//! reads every import and holds the code to this table.
//!
//! | row | modules | may use |
//! |---|---|---|
//! | 1 | [`time`], [`wire`], [`config`] | `time`; `config` uses `wire` for key types |
//! | 2 | [`core`] | row 1 |
//! | 3 | [`sim`] | rows 1-2 |
//! | 4 | [`media`], [`takeover`], [`resources`], [`host`], [`export`] | rows 1-2; `resources` uses `takeover` for the built-ins |
//! | 5 | [`daemon`], [`director`] | rows 1-4, not each other |
//! | 6 | [`demo`] and the CLI (`main.rs`) | everything |
//!
//! - [`time`]: instants on the caller's clock and spans as ha.cf writes them.
//! - [`wire`]: every packet format (native frames and their
//!   authentication, serial framing, Heartbeat's messages, ICMP echo,
//!   gratuitous ARP and neighbour advertisements, DNS UPDATE with TSIG, the
//!   Internet checksum). Formats only; no I/O.
//! - [`config`]: `/etc/ha.d` (ha.cf, haresources, authkeys) and
//!   ldirectord.cf into typed settings, every finding with file and line.
//! - [`core`]: the pure state machines, one [`core::Engine`] that is
//!   tandem's protocol or Heartbeat's, over one group lifecycle. No I/O, no
//!   clock: the caller hands in `now`.
//! - [`sim`]: the core run over a simulated faulty network in virtual
//!   time, with invariants checked at every step.
//! - [`media`]: the links (UDP, serial ports, PPP). [`takeover`]: what a
//!   takeover does to the host (addresses, MAC, announcements, DNS).
//!   [`resources`]: resource programs and the built-ins, run for the core.
//!   [`host`]: what both daemons need (control socket, log, sd_notify, pid
//!   lock). [`export`]: the configuration as a Pacemaker + Corosync
//!   cluster's (`tandem export-pacemaker`).
//! - [`daemon`]: the pair's event loop. [`director`]: the LVS director's.
//! - [`demo`]: `tandem demo`, a real pair on this machine, and the harness
//!   of the pair tests.

// Unsafe code only where a system call has no safe wrapper (syslog,
// SCHED_FIFO, mlockall, taking over a serial port's descriptor); those
// modules allow it, one call at a time, with a SAFETY note.
#![deny(unsafe_code)]

pub mod config;
pub mod core;
pub mod daemon;
pub mod demo;
pub mod director;
pub mod export;
pub mod host;
pub mod media;
pub mod resources;
pub mod sim;
pub mod takeover;
pub mod time;
pub mod wire;
