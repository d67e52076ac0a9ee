//! The `ppp` medium: tandem runs pppd on a serial line and sends UDP
//! keepalives over the point-to-point link it makes. pppd is a child the
//! daemon supervises: when it dies, the link is down (the core sees the
//! silence) and pppd is started again after [`RESTART_INTERVAL`].

use super::MediaError;
use mio::net::UdpSocket;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long after pppd's exit it is started again.
pub const RESTART_INTERVAL: Duration = Duration::from_secs(1);

/// Where pppd is looked for, in order.
const PPPD: &[&str] = &["/usr/sbin/pppd", "/sbin/pppd"];

#[derive(Debug)]
pub struct PppLink {
    pub device: String,
    pub baud: u32,
    pub local: Ipv4Addr,
    pub remote: Ipv4Addr,
    pub socket: UdpSocket,
    pub dest: SocketAddr,
    pppd: PathBuf,
    /// pppd's output goes here (it also logs to syslog).
    log: PathBuf,
    child: Option<Child>,
}

/// The pppd arguments for one end: the line at `baud`, no modem control
/// lines or authentication (a null-modem cable between two trusted
/// nodes; frames are authenticated by tandem), LCP echoes so that a dead
/// peer ends pppd, and `persist` left to tandem (it restarts pppd).
pub fn pppd_args(device: &str, baud: u32, local: Ipv4Addr, remote: Ipv4Addr) -> Vec<String> {
    [
        device.to_string(),
        baud.to_string(),
        "nodetach".into(),
        "noauth".into(),
        "local".into(),
        "nocrtscts".into(),
        "nodefaultroute".into(),
        "noipdefault".into(),
        "novj".into(),
        "lcp-echo-interval".into(),
        "1".into(),
        "lcp-echo-failure".into(),
        "5".into(),
        format!("{local}:{remote}"),
    ]
    .into()
}

impl PppLink {
    /// Sets up the UDP socket (bound with IP_FREEBIND to this node's end
    /// of the link, which exists only once pppd has brought it up) and
    /// finds pppd. pppd itself starts with [`PppLink::spawn`].
    pub fn open(
        name: &str,
        device: &str,
        baud: u32,
        ends: (Ipv4Addr, Ipv4Addr),
        udpport: u16,
        log: &Path,
    ) -> Result<PppLink, MediaError> {
        let pppd = PPPD
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or_else(|| MediaError::NoPppd(name.to_string()))?;
        let io = |e: io::Error| MediaError::Io {
            link: name.to_string(),
            source: e,
        };
        let (local, remote) = ends;
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).map_err(io)?;
        s.set_reuse_address(true).map_err(io)?;
        s.set_nonblocking(true).map_err(io)?;
        s.set_cloexec(true).map_err(io)?;
        s.set_freebind_v4(true).map_err(io)?;
        let _ = s.set_tos_v4(0x10);
        s.bind(&SocketAddr::V4(SocketAddrV4::new(local, udpport)).into())
            .map_err(io)?;
        let std: std::net::UdpSocket = s.into();
        Ok(PppLink {
            device: device.to_string(),
            baud,
            local,
            remote,
            socket: UdpSocket::from_std(std),
            dest: SocketAddr::V4(SocketAddrV4::new(remote, udpport)),
            pppd,
            log: log.to_path_buf(),
            child: None,
        })
    }

    /// Starts pppd; returns its pid.
    pub fn spawn(&mut self) -> io::Result<u32> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.pppd)
            .args(pppd_args(&self.device, self.baud, self.local, self.remote))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        let pid = child.id();
        self.child = Some(child);
        Ok(pid)
    }

    /// Whether pppd ended; its exit status if so (the child is gone).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        self.child = None;
        Some(status)
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Stops pppd (the daemon is exiting): SIGTERM, as pppd expects.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = c.wait();
        }
    }

    /// Sends one frame; before pppd has the link up there is no route:
    /// that is a down link, not an error worth a log line.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        match self.socket.send_to(frame, self.dest) {
            Ok(_) => Ok(()),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::ENETUNREACH)
                    || e.raw_os_error() == Some(libc::EHOSTUNREACH)
                    || e.raw_os_error() == Some(libc::EADDRNOTAVAIL)
                    || e.raw_os_error() == Some(libc::EINVAL) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
