//! The control socket: a unix stream socket, one request line in, one
//! reply out, then the daemon closes. A reply is `OK` or `ERROR message`
//! on its first line, then the body.
//!
//! The pair's daemon answers `status`, `status-json`, `standby WHICH`,
//! `takeover WHICH`, `reload`, `accept-generation NODE`, `cleanup [GROUP]`,
//! `shutdown`, and
//! cl_status's `hbstatus`, `listnodes`, `nodestatus NODE`,
//! `listhblinks NODE`, `hblinkstatus NODE LINK`, `rscstatus`; the
//! director `ping`, `status`, `status-json`, `reload` and `stop`.

use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A request longer than this is refused (requests are a few words).
pub const REQUEST_MAX: usize = 512;

/// Clients served at once; one more is closed as soon as it connects, so
/// a stuck script cannot make the daemon hold descriptors without bound.
pub const CLIENTS_MAX: usize = 64;

/// The control socket's server, for either daemon's poll loop: it owns
/// the listener (on `listener` token) and up to [`CLIENTS_MAX`] clients on
/// the tokens from `first` on. The loop hands it each of those events and
/// answers the requests it returns with [`Server::reply`].
#[derive(Debug)]
pub struct Server {
    listener: UnixListener,
    token: Token,
    first: usize,
    clients: Vec<Option<Conn>>,
    /// Clients closed at once because all slots were taken.
    pub turned_away: u64,
}

/// What the loop must do after handing the server an event.
#[derive(Debug)]
pub enum Served {
    /// Nothing.
    Idle,
    /// A client asked this: answer it with [`Server::reply`].
    Request { client: usize, line: String },
    /// accept(2) failed for a reason other than "try again".
    AcceptFailed(io::Error),
}

impl Server {
    /// Binds the socket at `path` (see `listen`) and registers it.
    pub fn bind(
        path: &Path,
        registry: &Registry,
        token: Token,
        first: usize,
    ) -> io::Result<Server> {
        let mut listener = listen(path)?;
        registry.register(&mut listener, token, Interest::READABLE)?;
        Ok(Server {
            listener,
            token,
            first,
            clients: (0..CLIENTS_MAX).map(|_| None).collect(),
            turned_away: 0,
        })
    }

    /// Whether `token` is the listener's or one of the clients'.
    pub fn owns(&self, token: Token) -> bool {
        token == self.token || (self.first..self.first + CLIENTS_MAX).contains(&token.0)
    }

    /// Handles one readiness event on a token the server owns.
    pub fn ready(&mut self, registry: &Registry, token: Token) -> Served {
        if token == self.token {
            return self.accept(registry);
        }
        let client = token.0.wrapping_sub(self.first);
        let Some(Some(conn)) = self.clients.get_mut(client) else {
            return Served::Idle;
        };
        let progress = match conn.on_readable() {
            Progress::Request(line) => return Served::Request { client, line },
            Progress::Pending => conn.on_writable(),
            Progress::Close => Progress::Close,
        };
        self.settle(registry, client, progress);
        Served::Idle
    }

    /// Sends the answer to a request [`Server::ready`] returned.
    pub fn reply(&mut self, registry: &Registry, client: usize, answer: Result<String, String>) {
        if let Some(Some(conn)) = self.clients.get_mut(client) {
            let progress = conn.reply(answer);
            self.settle(registry, client, progress);
        }
    }

    fn settle(&mut self, registry: &Registry, client: usize, progress: Progress) {
        if let Progress::Close = progress {
            if let Some(mut conn) = self.clients.get_mut(client).and_then(Option::take) {
                let _ = registry.deregister(&mut conn.stream);
            }
        }
    }

    fn accept(&mut self, registry: &Registry) -> Served {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let Some(slot) = self.clients.iter().position(Option::is_none) else {
                        self.turned_away += 1;
                        continue; // dropped: closing the stream refuses it
                    };
                    let token = Token(self.first + slot);
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if registry.register(&mut stream, token, interest).is_ok() {
                        self.clients[slot] = Some(Conn::new(stream));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Served::Idle,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Served::AcceptFailed(e),
            }
        }
    }
}

/// One client connection being served by the loop.
#[derive(Debug)]
struct Conn {
    stream: UnixStream,
    request: Vec<u8>,
    reply: Vec<u8>,
    written: usize,
}

/// What a connection needs next.
enum Progress {
    /// Keep waiting.
    Pending,
    /// A complete request line.
    Request(String),
    /// Done (reply written, or the client went away): close it.
    Close,
}

impl Conn {
    fn new(stream: UnixStream) -> Conn {
        Conn {
            stream,
            request: Vec::new(),
            reply: Vec::new(),
            written: 0,
        }
    }

    /// Reads what the client sent.
    fn on_readable(&mut self) -> Progress {
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
    fn reply(&mut self, ok: Result<String, String>) -> Progress {
        self.reply = match ok {
            Ok(body) => format!("OK\n{body}").into_bytes(),
            Err(msg) => format!("ERROR {msg}\n").into_bytes(),
        };
        self.on_writable()
    }

    fn on_writable(&mut self) -> Progress {
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
fn listen(path: &Path) -> io::Result<UnixListener> {
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
