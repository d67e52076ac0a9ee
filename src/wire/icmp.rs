//! ICMP echo, as ping nodes and the director's ping check use it: the
//! request, and the reading of what a raw socket hands back (for IPv4, the
//! IP header comes first).

use super::inet::checksum;

/// The address family of an echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    fn echo_request(self) -> u8 {
        match self {
            Family::V4 => 8,
            Family::V6 => 128,
        }
    }

    fn echo_reply(self) -> u8 {
        match self {
            Family::V4 => 0,
            Family::V6 => 129,
        }
    }

    fn unreachable(self) -> u8 {
        match self {
            Family::V4 => 3,
            Family::V6 => 1,
        }
    }
}

/// An echo request with `ident` (which tells our echoes from other
/// pings'), `seq` and `payload`. ICMPv6's checksum is left to the kernel,
/// which knows the pseudo-header.
pub fn echo_request(family: Family, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut echo = vec![family.echo_request(), 0, 0, 0];
    echo.extend_from_slice(&ident.to_be_bytes());
    echo.extend_from_slice(&seq.to_be_bytes());
    echo.extend_from_slice(payload);
    if family == Family::V4 {
        let sum = checksum(&[&echo]);
        echo[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    echo
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An echo reply with this identifier.
    Reply { ident: u16 },
    /// Destination unreachable.
    Unreachable,
    /// Anything else ICMP carries (or too short to read).
    Other,
}

/// Reads an ICMP message (without any IP header).
pub fn answer(family: Family, icmp: &[u8]) -> Answer {
    match icmp {
        [t, _, _, _, i0, i1, _, _, ..] if *t == family.echo_reply() => Answer::Reply {
            ident: u16::from_be_bytes([*i0, *i1]),
        },
        [t, ..] if *t == family.unreachable() => Answer::Unreachable,
        _ => Answer::Other,
    }
}

/// Splits what an IPv4 raw socket reads into the sender's address and the
/// ICMP message; `None` if the header is short or malformed.
pub fn strip_ipv4(packet: &[u8]) -> Option<([u8; 4], &[u8])> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let source: [u8; 4] = packet.get(12..16)?.try_into().ok()?;
    Some((source, packet.get(ihl..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_request_checks_out_and_its_reply_is_read() {
        let req = echo_request(Family::V4, 0x1234, 7, b"tandem");
        assert_eq!(req[0], 8);
        assert_eq!(checksum(&[&req]), 0, "a v4 request carries its checksum");
        let mut reply = req.clone();
        reply[0] = 0;
        assert_eq!(answer(Family::V4, &reply), Answer::Reply { ident: 0x1234 });
        let v6 = echo_request(Family::V6, 1, 1, b"");
        assert_eq!((v6[0], v6[2], v6[3]), (128, 0, 0));
        assert_eq!(answer(Family::V6, &[1, 4, 0, 0]), Answer::Unreachable);
        assert_eq!(answer(Family::V4, &[0, 0, 0]), Answer::Other);
    }

    #[test]
    fn ipv4_headers_are_bounded() {
        let mut packet = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
        ];
        packet.extend_from_slice(&[0, 0, 0, 0, 0, 9, 0, 1]);
        let (src, icmp) = strip_ipv4(&packet).expect("header");
        assert_eq!(src, [192, 0, 2, 1]);
        assert_eq!(answer(Family::V4, icmp), Answer::Reply { ident: 9 });
        assert_eq!(strip_ipv4(&[0x4f, 0, 0]), None);
        assert_eq!(strip_ipv4(&[0x44; 30]), None);
        assert_eq!(strip_ipv4(&[]), None);
    }
}
