//! Dynamic DNS: an RFC 2136 UPDATE that points a name at this node,
//! signed with TSIG (RFC 8945, hmac-sha256 or hmac-sha1 from a BIND key
//! file), the response's signature verified. One message deletes the
//! name's A (or AAAA) RRset and adds the new record, so sending it twice
//! changes nothing: retries are safe.
//!
//! The message is `wire::dns`; this module reads the key file, sends
//! the message and waits for the signed answer.

use super::TakeoverError;
use crate::wire::dns::{check_response, encode, parse_key, Address, DnsError};
pub use crate::wire::dns::{Key, Update};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::wire::dns::zone_of;

impl From<DnsError> for TakeoverError {
    fn from(e: DnsError) -> TakeoverError {
        match e {
            DnsError::Usage(m) => TakeoverError::Usage(m),
            DnsError::Answer(m) => TakeoverError::Dns(m),
        }
    }
}

/// The record for `ip`.
pub fn address(ip: IpAddr) -> Address {
    match ip {
        IpAddr::V4(v4) => Address::V4(v4.octets()),
        IpAddr::V6(v6) => Address::V6(v6.octets()),
    }
}

/// Reads and parses a BIND key file.
pub fn read_key(path: &std::path::Path) -> Result<Key, TakeoverError> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| TakeoverError::Usage(format!("{file}: {e}")))?;
    Ok(parse_key(&text, &file)?)
}

/// Sends the update to `server`, up to `tries` times with doubling waits
/// (1 s, 2 s, ...); the same message is safe to repeat.
pub fn send(u: &Update, key: &Key, server: SocketAddr, tries: u32) -> Result<(), TakeoverError> {
    let io = |e: std::io::Error| TakeoverError::Dns(format!("{server}: {e}"));
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let id = (time as u16) ^ (std::process::id() as u16);
    let (msg, mac) = encode(u, key, id, time)?;
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0"
            .parse()
            .map_err(|_| TakeoverError::Dns("bind".into()))?
    } else {
        "[::]:0"
            .parse()
            .map_err(|_| TakeoverError::Dns("bind".into()))?
    };
    let sock = UdpSocket::bind(bind).map_err(io)?;
    sock.connect(server).map_err(io)?;
    let mut wait = Duration::from_secs(1);
    let mut last = TakeoverError::Dns(format!("{server}: no answer"));
    for _ in 0..tries.max(1) {
        sock.send(&msg).map_err(io)?;
        sock.set_read_timeout(Some(wait)).map_err(io)?;
        let mut buf = [0u8; 4096];
        match sock.recv(&mut buf) {
            Ok(n) => match check_response(&buf[..n], id, key, &mac) {
                Ok(()) => return Ok(()),
                // A refusal is final: repeating it changes nothing.
                Err(e) => return Err(e.into()),
            },
            Err(e) => last = TakeoverError::Dns(format!("{server}: no answer ({e})")),
        }
        wait *= 2;
    }
    Err(last)
}
