//! The control socket: a unix stream socket, one request line in, one
//! reply out, then the daemon closes. A reply is `OK` or `ERROR message`
//! on its first line, then the body.
//!
//! Requests: `status`, `status-json`, `standby WHICH`, `takeover WHICH`,
//! `reload`, `shutdown`, and cl_status's `hbstatus`, `listnodes`,
//! `nodestatus NODE`, `listhblinks NODE`, `hblinkstatus NODE LINK`,
//! `rscstatus`.

use mio::net::{UnixListener, UnixStream};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A request longer than this is refused (requests are a few words).
pub const REQUEST_MAX: usize = 512;

/// One client connection being served by the loop.
#[derive(Debug)]
pub struct Conn {
    pub stream: UnixStream,
    request: Vec<u8>,
    reply: Vec<u8>,
    written: usize,
}

/// What a connection needs next.
pub enum Progress {
    /// Keep waiting.
    Pending,
    /// A complete request line.
    Request(String),
    /// Done (reply written, or the client went away): close it.
    Close,
}

impl Conn {
    pub fn new(stream: UnixStream) -> Conn {
        Conn {
            stream,
            request: Vec::new(),
            reply: Vec::new(),
            written: 0,
        }
    }

    /// Reads what the client sent.
    pub fn on_readable(&mut self) -> Progress {
        let mut buf = [0u8; 256];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return self.line().unwrap_or(Progress::Close),
                Ok(n) => {
                    self.request.extend_from_slice(&buf[..n]);
                    if let Some(p) = self.line() {
                        return p;
                    }
                    if self.request.len() > REQUEST_MAX {
                        return Progress::Close;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Progress::Close,
            }
        }
    }

    fn line(&mut self) -> Option<Progress> {
        let end = self.request.iter().position(|&b| b == b'\n')?;
        let text = String::from_utf8_lossy(&self.request[..end])
            .trim()
            .to_string();
        self.request.clear();
        Some(Progress::Request(text))
    }

    /// Queues the reply and writes as much as the socket takes.
    pub fn reply(&mut self, ok: Result<String, String>) -> Progress {
        self.reply = match ok {
            Ok(body) => format!("OK\n{body}").into_bytes(),
            Err(msg) => format!("ERROR {msg}\n").into_bytes(),
        };
        self.on_writable()
    }

    pub fn on_writable(&mut self) -> Progress {
        if self.reply.is_empty() {
            // Writable before the request arrived: nothing to say yet.
            return Progress::Pending;
        }
        while self.written < self.reply.len() {
            match self.stream.write(&self.reply[self.written..]) {
                Ok(0) => return Progress::Close,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Progress::Close,
            }
        }
        Progress::Close
    }
}

/// Binds the control socket, replacing a stale one (the pid lock has
/// already proven no other daemon runs), readable only by root and the
/// `haclient` group when it exists.
pub fn listen(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    let mode = if let Some(gid) = group_id("haclient") {
        let _ = std::os::unix::fs::chown(path, None, Some(gid));
        0o660
    } else {
        0o600
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}

/// A group's id from /etc/group. Read directly rather than through NSS:
/// getgrnam would map libnss_systemd and friends into a daemon that
/// otherwise never needs them (a third of a MiB of resident memory).
fn group_id(name: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// Why a control request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("tandem is not running here (no control socket at {path})")]
    NotRunning {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("control socket {path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

/// Sends one request to the daemon at `path` and returns the reply body.
pub fn request(path: &Path, line: &str, timeout: Duration) -> Result<String, ClientError> {
    use std::os::unix::net::UnixStream;
    let name = path.display().to_string();
    let mut s = UnixStream::connect(path).map_err(|e| ClientError::NotRunning {
        path: name.clone(),
        source: e,
    })?;
    let io = |e: io::Error| ClientError::Io {
        path: name.clone(),
        source: e,
    };
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    s.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
    let mut reply = String::new();
    s.take(16 * 1024 * 1024)
        .read_to_string(&mut reply)
        .map_err(io)?;
    if let Some(body) = reply.strip_prefix("OK\n") {
        Ok(body.to_string())
    } else if let Some(msg) = reply.strip_prefix("ERROR ") {
        Err(ClientError::Refused(msg.trim_end().to_string()))
    } else {
        Err(ClientError::Refused(format!(
            "unexpected reply from the daemon: {:?}",
            reply.lines().next().unwrap_or("")
        )))
    }
}
