//! systemd's sd_notify protocol (Type=notify): READY=1, STOPPING=1,
//! WATCHDOG=1 and STATUS= as datagrams to $NOTIFY_SOCKET, when set.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

pub struct Notifier {
    socket: Option<(UnixDatagram, std::os::unix::net::SocketAddr)>,
    /// Half of WATCHDOG_USEC: how often to tell systemd we are alive.
    pub watchdog: Option<Duration>,
}

impl Notifier {
    pub fn from_env() -> Notifier {
        let socket = std::env::var_os("NOTIFY_SOCKET").and_then(|path| {
            use std::os::unix::ffi::OsStrExt;
            let bytes = path.as_bytes();
            let addr = if let Some(name) = bytes.strip_prefix(b"@") {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?
            } else {
                std::os::unix::net::SocketAddr::from_pathname(std::path::Path::new(&path)).ok()?
            };
            Some((UnixDatagram::unbound().ok()?, addr))
        });
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&us| us > 0)
            .map(|us| Duration::from_micros(us / 2));
        Notifier { socket, watchdog }
    }

    pub fn send(&self, state: &str) {
        if let Some((s, addr)) = &self.socket {
            let _ = s.send_to_addr(state.as_bytes(), addr);
        }
    }
}
