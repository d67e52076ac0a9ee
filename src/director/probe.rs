//! One running check on its socket (or child process): connects, speaks
//! the protocol through the pure conversations ([`super::http`],
//! [`super::dialogue`], [`super::ldap`], [`super::dns`]), TLS through
//! rustls where the service asks for it, and reports passed or failed.
//! Non-blocking throughout; the director's event loop owns the timing
//! (a probe has no clock: its deadline is the server's [`super::health`]).

use super::check::{Check, Kind};
use super::dialogue::{self, Dialogue, Progress};
use super::{dns, http, ldap};
use crate::wire::dns::DnsError;
use crate::wire::icmp::{self, Family};
use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// How a probe ended, or that it has not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probed {
    Pending,
    Passed,
    Failed(String),
}

/// Why a probe could not be made, or its conversation broke off.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// A socket, the poll, or the check's command: `what` says which.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("TLS server name: {0}")]
    ServerName(#[from] rustls::pki_types::InvalidDnsNameError),
    /// The check's DNS query cannot be made (a bad name).
    #[error("{0}")]
    Query(#[from] DnsError),
    #[error("no dialogue for {0}")]
    NoDialogue(&'static str),
}

fn io_err(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> ProbeError {
    let what = what.to_string();
    move |source| ProbeError::Io { what, source }
}

/// The protocol spoken over a TCP connection.
enum Talk {
    /// Passing once connected.
    Connect,
    Http {
        answer: Vec<u8>,
        receive: Option<regex::Regex>,
    },
    Dialogue(Dialogue),
    Ldap(ldap::Ldap),
    Dns {
        answer: Vec<u8>,
        id: u16,
        qtype: u16,
        receive: Option<regex::Regex>,
    },
}

impl Talk {
    fn on_data(&mut self, data: &[u8]) -> Progress {
        match self {
            Talk::Connect => Progress::Passed,
            Talk::Http { answer, receive } => {
                answer.extend_from_slice(data);
                if answer.len() >= http::ANSWER_MAX {
                    answer.truncate(http::ANSWER_MAX);
                    return verdict(http::judge(answer, receive.as_ref()));
                }
                Progress::Wait
            }
            Talk::Dialogue(d) => d.on_data(data),
            Talk::Ldap(l) => l.on_data(data),
            Talk::Dns {
                answer,
                id,
                qtype,
                receive,
            } => {
                answer.extend_from_slice(data);
                let Some(len) = answer
                    .get(..2)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                else {
                    return Progress::Wait;
                };
                match answer.get(2..2 + len) {
                    Some(msg) => verdict(dns::judge(msg, *id, *qtype, receive.as_ref())),
                    None => Progress::Wait,
                }
            }
        }
    }

    fn on_close(&mut self) -> Progress {
        match self {
            Talk::Connect => Progress::Passed,
            Talk::Http { answer, receive } => verdict(http::judge(answer, receive.as_ref())),
            Talk::Dialogue(d) => d.on_close(),
            Talk::Ldap(l) => l.on_close(),
            Talk::Dns { .. } => Progress::Failed("closed the connection before answering".into()),
        }
    }
}

fn verdict(r: Result<(), impl std::fmt::Display>) -> Progress {
    match r {
        Ok(()) => Progress::Passed,
        Err(e) => Progress::Failed(e.to_string()),
    }
}

struct Tcp {
    stream: TcpStream,
    tls: Option<Box<rustls::ClientConnection>>,
    connected: bool,
    /// What the conversation sends first, once connected.
    opening: Vec<u8>,
    /// Bytes waiting for the socket (plain connections).
    out: Vec<u8>,
    talk: Talk,
}

enum Io {
    Tcp(Box<Tcp>),
    Udp {
        socket: UdpSocket,
        id: u16,
        qtype: u16,
        receive: Option<regex::Regex>,
    },
    Ping {
        fd: std::os::fd::OwnedFd,
        ident: u16,
        v6: bool,
    },
    Child(std::process::Child),
}

/// A check in flight.
pub struct Probe {
    io: Io,
}

/// The TLS client configuration every TLS check shares. Certificates are
/// not verified: a health check asks whether the service answers, not who
/// it is (ldirectord and keepalived do not verify either), and farms run
/// on self-signed and internal certificates. Handshake signatures are
/// still checked.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What starting a probe gave.
pub enum Started {
    /// Running: poll it on events (and, for a child, on SIGCHLD).
    Running(Probe),
    /// Decided at once.
    Done(Probed),
}

impl Probe {
    /// Starts `check` (a plain connect when `connect_only`). `seq` tells
    /// this probe's messages from an earlier one's.
    pub fn start(
        check: &Check,
        connect_only: bool,
        tls: &Arc<rustls::ClientConfig>,
        registry: &Registry,
        token: Token,
        seq: u16,
    ) -> Started {
        match Probe::open(check, connect_only, tls, registry, token, seq) {
            Ok(started) => started,
            Err(e) => Started::Done(Probed::Failed(e.to_string())),
        }
    }

    fn open(
        check: &Check,
        connect_only: bool,
        tls: &Arc<rustls::ClientConfig>,
        registry: &Registry,
        token: Token,
        seq: u16,
    ) -> Result<Started, ProbeError> {
        let target = check.target;
        let kind = if connect_only {
            &Kind::Connect
        } else {
            &check.kind
        };
        let (talk, opening, tls_name) = match kind {
            Kind::Fixed(up) => {
                return Ok(Started::Done(if *up {
                    Probed::Passed
                } else {
                    Probed::Failed("checktype off".into())
                }))
            }
            Kind::External { command, args } => {
                let child = std::process::Command::new(command)
                    .args(args)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .map_err(io_err(command))?;
                return Ok(Started::Running(Probe {
                    io: Io::Child(child),
                }));
            }
            Kind::Ping => return ping(target.ip(), registry, token, seq),
            Kind::Dns {
                udp: true,
                request,
                receive,
            } => {
                let (q, qtype) = dns::query(seq, request)?;
                let local: SocketAddr = match target {
                    SocketAddr::V4(_) => (IpAddr::from([0u8; 4]), 0).into(),
                    SocketAddr::V6(_) => (IpAddr::from([0u16; 8]), 0).into(),
                };
                let mut socket = UdpSocket::bind(local).map_err(io_err("UDP socket"))?;
                socket.connect(target).map_err(io_err(target))?;
                socket.send(&q).map_err(io_err(target))?;
                registry
                    .register(&mut socket, token, Interest::READABLE)
                    .map_err(io_err("poll"))?;
                return Ok(Started::Running(Probe {
                    io: Io::Udp {
                        socket,
                        id: seq,
                        qtype,
                        receive: receive.clone(),
                    },
                }));
            }
            Kind::Connect => (Talk::Connect, Vec::new(), None),
            Kind::Http {
                tls,
                method,
                host,
                path,
                receive,
            } => (
                Talk::Http {
                    answer: Vec::new(),
                    receive: receive.clone(),
                },
                http::request(*method, host, path),
                tls.then(|| host.trim_matches(['[', ']']).to_string()),
            ),
            Kind::Dialogue {
                tls,
                service,
                login,
            } => {
                let login = login.as_ref().map(|(l, p)| (l.as_str(), p.as_str()));
                let steps = dialogue::script(*service, login)
                    .ok_or(ProbeError::NoDialogue(service.name()))?;
                let d = Dialogue::new(steps);
                let opening = d.opening().unwrap_or_default();
                (
                    Talk::Dialogue(d),
                    opening,
                    tls.then(|| target.ip().to_string()),
                )
            }
            Kind::Ldap {
                base,
                receive,
                login,
            } => {
                let login = login.as_ref().map(|(l, p)| (l.as_str(), p.as_str()));
                (
                    Talk::Ldap(ldap::Ldap::new(base.clone(), receive.clone())),
                    ldap::Ldap::opening(login),
                    None,
                )
            }
            Kind::Dns {
                udp: false,
                request,
                receive,
            } => {
                let (q, qtype) = dns::query(seq, request)?;
                let mut framed = (q.len() as u16).to_be_bytes().to_vec();
                framed.extend(q);
                (
                    Talk::Dns {
                        answer: Vec::new(),
                        id: seq,
                        qtype,
                        receive: receive.clone(),
                    },
                    framed,
                    None,
                )
            }
        };
        let tls = match tls_name {
            None => None,
            Some(name) => {
                let server = rustls::pki_types::ServerName::try_from(name)?;
                Some(Box::new(rustls::ClientConnection::new(
                    tls.clone(),
                    server,
                )?))
            }
        };
        let mut stream = TcpStream::connect(target).map_err(io_err("connect"))?;
        registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(io_err("poll"))?;
        Ok(Started::Running(Probe {
            io: Io::Tcp(Box::new(Tcp {
                stream,
                tls,
                connected: false,
                opening,
                out: Vec::new(),
                talk,
            })),
        }))
    }

    /// The socket is ready: move bytes and see whether the check is over.
    pub fn on_event(&mut self) -> Probed {
        match &mut self.io {
            Io::Tcp(t) => t.on_event(),
            Io::Udp {
                socket,
                id,
                qtype,
                receive,
            } => {
                let mut buf = [0u8; 4096];
                match socket.recv(&mut buf) {
                    // A stray datagram (an earlier query's late answer) is
                    // not this check's verdict.
                    Ok(n) if !dns::is_answer_to(&buf[..n], *id) => Probed::Pending,
                    Ok(n) => match dns::judge(&buf[..n], *id, *qtype, receive.as_ref()) {
                        Ok(()) => Probed::Passed,
                        Err(e) => Probed::Failed(e.to_string()),
                    },
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Probed::Pending,
                    Err(e) => Probed::Failed(e.to_string()),
                }
            }
            Io::Ping { fd, ident, v6, .. } => ping_reply(fd, *ident, *v6),
            Io::Child(_) => self.on_child(),
        }
    }

    /// A child may have ended (SIGCHLD): its exit status is the verdict.
    pub fn on_child(&mut self) -> Probed {
        let Io::Child(child) = &mut self.io else {
            return Probed::Pending;
        };
        match child.try_wait() {
            Ok(None) => Probed::Pending,
            Ok(Some(s)) if s.success() => Probed::Passed,
            Ok(Some(s)) => Probed::Failed(match s.code() {
                Some(c) => format!("checkcommand exited {c}"),
                None => "checkcommand was killed".into(),
            }),
            Err(e) => Probed::Failed(format!("checkcommand: {e}")),
        }
    }

    pub fn is_child(&self) -> bool {
        matches!(self.io, Io::Child(_))
    }

    /// Stops the probe: its socket leaves the poll (and closes), a child
    /// is killed and reaped.
    pub fn finish(mut self, registry: &Registry) {
        match &mut self.io {
            Io::Tcp(t) => {
                // Closing the socket takes it out of the poll, and an
                // abortive close (RST) leaves no TIME_WAIT on either side:
                // a health check needs no graceful goodbye, and a farm of
                // a thousand servers checked every second would otherwise
                // hold 60,000 sockets in TIME_WAIT.
                let _ =
                    socket2::SockRef::from(&t.stream).set_linger(Some(std::time::Duration::ZERO));
            }
            Io::Udp { socket, .. } => {
                let _ = registry.deregister(socket);
            }
            Io::Ping { fd, .. } => {
                let _ = registry.deregister(&mut mio::unix::SourceFd(&fd.as_raw_fd()));
            }
            Io::Child(child) => {
                if let Ok(None) = child.try_wait() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
    }
}

impl Tcp {
    fn on_event(&mut self) -> Probed {
        if !self.connected {
            match self.stream.take_error() {
                Ok(Some(e)) | Err(e) => return Probed::Failed(format!("connect: {e}")),
                Ok(None) => {}
            }
            // The first event after a non-blocking connect says it is
            // done; the error above says how. (No getpeername: a check is
            // a handful of syscalls, and a thousand servers a second add
            // them up.)
            self.connected = true;
            if let Talk::Connect = self.talk {
                return Probed::Passed;
            }
            let opening = std::mem::take(&mut self.opening);
            if let Err(e) = self.send(&opening) {
                return Probed::Failed(e.to_string());
            }
        }
        match self.receive() {
            Ok((data, closed)) => {
                if !data.is_empty() {
                    match self.talk.on_data(&data) {
                        Progress::Send(bytes) => {
                            if let Err(e) = self.send(&bytes) {
                                return Probed::Failed(e.to_string());
                            }
                        }
                        Progress::Wait => {}
                        Progress::Passed => return Probed::Passed,
                        Progress::Failed(e) => return Probed::Failed(e),
                    }
                }
                if closed {
                    return match self.talk.on_close() {
                        Progress::Passed => Probed::Passed,
                        Progress::Failed(e) => Probed::Failed(e),
                        _ => Probed::Failed("closed the connection".into()),
                    };
                }
            }
            Err(e) => return Probed::Failed(e.to_string()),
        }
        match self.flush() {
            Ok(()) => Probed::Pending,
            Err(e) => Probed::Failed(e.to_string()),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        match &mut self.tls {
            Some(tls) => tls.writer().write_all(bytes).map_err(io_err("TLS"))?,
            None => self.out.extend_from_slice(bytes),
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ProbeError> {
        match &mut self.tls {
            Some(tls) => write_tls(tls, &mut self.stream).map_err(io_err("send"))?,
            None => {
                while !self.out.is_empty() {
                    match self.stream.write(&self.out) {
                        Ok(n) => {
                            self.out.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(io_err("send")(e)),
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything readable now, and whether the server closed.
    fn receive(&mut self) -> Result<(Vec<u8>, bool), ProbeError> {
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let failed = |e: io::Error| ProbeError::Io {
            what: "receive".into(),
            source: e,
        };
        match &mut self.tls {
            None => loop {
                match self.stream.read(&mut buf) {
                    Ok(0) => return Ok((data, true)),
                    Ok(n) => {
                        data.extend_from_slice(&buf[..n]);
                        if data.len() > http::ANSWER_MAX {
                            return Ok((data, false));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((data, false)),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(failed(e)),
                }
            },
            Some(tls) => {
                let mut eof = false;
                loop {
                    match tls.read_tls(&mut self.stream) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(failed(e)),
                    }
                    tls.process_new_packets()?;
                    // Handshake messages go out as they are due.
                    write_tls(tls, &mut self.stream).map_err(failed)?;
                }
                tls.process_new_packets()?;
                loop {
                    match tls.reader().read(&mut buf) {
                        Ok(0) => return Ok((data, true)),
                        Ok(n) => {
                            data.extend_from_slice(&buf[..n]);
                            if data.len() > http::ANSWER_MAX {
                                return Ok((data, false));
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((data, eof)),
                        // A close without close_notify: what many
                        // servers do after an HTTP/1.0 answer.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                            return Ok((data, true))
                        }
                        Err(e) => return Err(io_err("TLS")(e)),
                    }
                }
            }
        }
    }
}

/// Writes what rustls has for the socket, until done or the socket is
/// full (the rest goes on the next writable event).
fn write_tls(tls: &mut rustls::ClientConnection, stream: &mut TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends one ICMP echo request to `ip` from a raw socket connected to it
/// (the kernel then passes only that host's ICMP to the socket).
fn ping(ip: IpAddr, registry: &Registry, token: Token, seq: u16) -> Result<Started, ProbeError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let v6 = ip.is_ipv6();
    let (domain, proto) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let socket = Socket::new(domain, Type::RAW, Some(proto))
        .map_err(io_err("ICMP socket (ping checks need root)"))?;
    socket
        .set_nonblocking(true)
        .map_err(io_err("ICMP socket"))?;
    let to: SocketAddr = (ip, 0).into();
    socket.connect(&to.into()).map_err(io_err(ip))?;
    // The identifier tells our echoes from other pings'.
    let ident = (std::process::id() as u16) ^ seq.rotate_left(8);
    let family = if v6 { Family::V6 } else { Family::V4 };
    let echo = icmp::echo_request(family, ident, seq, b"tandem-director");
    socket.send(&echo).map_err(io_err(ip))?;
    let fd: std::os::fd::OwnedFd = socket.into();
    registry
        .register(
            &mut mio::unix::SourceFd(&fd.as_raw_fd()),
            token,
            Interest::READABLE,
        )
        .map_err(io_err("poll"))?;
    Ok(Started::Running(Probe {
        io: Io::Ping { fd, ident, v6 },
    }))
}

fn ping_reply(fd: &std::os::fd::OwnedFd, ident: u16, v6: bool) -> Probed {
    let mut buf = [0u8; 1500];
    loop {
        // SAFETY: buf is valid for its length; fd is an open socket.
        #[allow(unsafe_code)]
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Probed::Pending,
                io::ErrorKind::Interrupted => continue,
                _ => Probed::Failed(e.to_string()),
            };
        }
        let packet = &buf[..n as usize];
        // IPv4 raw sockets hand over the IP header too.
        let (family, message) = if v6 {
            (Family::V6, packet)
        } else {
            match icmp::strip_ipv4(packet) {
                Some((_, message)) => (Family::V4, message),
                None => continue,
            }
        };
        match icmp::answer(family, message) {
            icmp::Answer::Reply { ident: i } if i == ident => return Probed::Passed,
            icmp::Answer::Unreachable => return Probed::Failed("destination unreachable".into()),
            _ => {}
        }
    }
}
