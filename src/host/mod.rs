//! What both daemons need from the host they run on: the control socket
//! (one server, one set of limits), the log, systemd's notify protocol,
//! the pid lock, and for the metrics endpoint Prometheus' text format
//! (`exposition`) and the bounded bit of HTTP it speaks (`http`). The pair's daemon and the director each build their loop
//! on these; neither imports the other.

pub mod control;
pub mod exposition;
pub mod http;
pub mod log;
pub mod pid;
pub mod sd_notify;
