//! The DNS negotiate check, pure: the query for ldirectord's `request`
//! (an A query for a name, a PTR query for an address) and the verdict
//! on the answer: NOERROR with at least one answer record of the asked
//! type, and with `receive`, one whose data (an address or a name)
//! matches it. UDP for a UDP virtual service, TCP (length-prefixed)
//! otherwise, as ldirectord does.

use crate::wire::dns::{name, rcode_name, DnsError, Reader};
use std::net::IpAddr;

const TYPE_A: u16 = 1;
const TYPE_PTR: u16 = 12;
const TYPE_AAAA: u16 = 28;

/// Why a DNS answer fails the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    #[error("a malformed DNS answer ({0})")]
    Malformed(&'static str),
    #[error("not the answer to this query")]
    NotTheAnswer,
    #[error("a truncated answer")]
    Truncated,
    #[error("answered {}", rcode_name(*.0))]
    Rcode(u16),
    #[error("no answer records")]
    NoRecords,
    #[error("answered {answer}, not `{pattern}`")]
    NoMatch { answer: String, pattern: String },
}

/// The query message with `id`, and the record type asked for.
pub fn query(id: u16, request: &str) -> Result<(Vec<u8>, u16), DnsError> {
    let (qname, qtype) = match request.parse::<IpAddr>() {
        Ok(ip) => (reverse(ip), TYPE_PTR),
        Err(_) => (request.to_string(), TYPE_A),
    };
    let mut q = Vec::with_capacity(32 + qname.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00]); // recursion desired
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    name(&mut q, &qname)?;
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]); // IN
    Ok((q, qtype))
}

fn reverse(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s + "ip6.arpa"
        }
    }
}

/// Whether `message` is a response to query `id` at all (a late answer
/// to an earlier query is not: a UDP check waits on for its own).
pub fn is_answer_to(message: &[u8], id: u16) -> bool {
    match message {
        [a, b, flags, ..] => u16::from_be_bytes([*a, *b]) == id && flags & 0x80 != 0,
        _ => false,
    }
}

/// The verdict on `answer` to query `id` asking for `qtype`.
pub fn judge(
    answer: &[u8],
    id: u16,
    qtype: u16,
    receive: Option<&regex::Regex>,
) -> Result<(), DnsFailure> {
    let bad = DnsFailure::Malformed;
    let mut r = Reader { b: answer, at: 0 };
    r.take(2).ok_or_else(|| bad("short"))?;
    let flags = r.u16().ok_or_else(|| bad("short"))?;
    let qd = r.u16().ok_or_else(|| bad("short"))?;
    let an = r.u16().ok_or_else(|| bad("short"))?;
    r.take(4).ok_or_else(|| bad("short"))?;
    if !is_answer_to(answer, id) {
        return Err(DnsFailure::NotTheAnswer);
    }
    if flags & 0x0200 != 0 {
        return Err(DnsFailure::Truncated);
    }
    let rcode = flags & 0xf;
    if rcode != 0 {
        return Err(DnsFailure::Rcode(rcode));
    }
    for _ in 0..qd {
        r.skip_name().ok_or_else(|| bad("question"))?;
        r.take(4).ok_or_else(|| bad("question"))?;
    }
    let mut seen = Vec::new();
    for _ in 0..an {
        r.skip_name().ok_or_else(|| bad("record"))?;
        let rtype = r.u16().ok_or_else(|| bad("record"))?;
        r.take(6).ok_or_else(|| bad("record"))?;
        let len = usize::from(r.u16().ok_or_else(|| bad("record"))?);
        let start = r.at;
        let data = r.take(len).ok_or_else(|| bad("record"))?;
        if rtype != qtype {
            continue; // a CNAME on the way
        }
        let text = match rtype {
            TYPE_A if len == 4 => IpAddr::from([data[0], data[1], data[2], data[3]]).to_string(),
            TYPE_AAAA if len == 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(data);
                IpAddr::from(o).to_string()
            }
            TYPE_PTR => {
                let mut n = Reader {
                    b: answer,
                    at: start,
                };
                n.read_name().ok_or_else(|| bad("PTR"))?
            }
            _ => return Err(bad("record data")),
        };
        seen.push(text);
    }
    let Some(first) = seen.first() else {
        return Err(DnsFailure::NoRecords);
    };
    match receive {
        None => Ok(()),
        Some(re) if seen.iter().any(|t| re.is_match(t)) => Ok(()),
        Some(re) => Err(DnsFailure::NoMatch {
            answer: first.clone(),
            pattern: re.as_str().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: u16, rcode: u8, records: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut a = id.to_be_bytes().to_vec();
        a.extend([0x81, 0x80 | rcode, 0, 1, 0, records.len() as u8, 0, 0, 0, 0]);
        a.extend(b"\x03www\x07example\x03org\x00\x00\x01\x00\x01");
        for (t, data) in records {
            a.extend([0xc0, 12]);
            a.extend(t.to_be_bytes());
            a.extend([0, 1, 0, 0, 0, 60]);
            a.extend((data.len() as u16).to_be_bytes());
            a.extend(data);
        }
        a
    }

    #[test]
    fn a_query_for_a_name_and_ptr_for_an_address() {
        let (q, t) = query(7, "www.example.org").unwrap();
        assert_eq!(t, TYPE_A);
        assert_eq!(&q[..4], &[0, 7, 1, 0]);
        assert!(q.ends_with(b"\x03www\x07example\x03org\x00\x00\x01\x00\x01"));
        let (q, t) = query(7, "192.0.2.5").unwrap();
        assert_eq!(t, TYPE_PTR);
        assert!(q.ends_with(b"\x015\x012\x010\x03192\x07in-addr\x04arpa\x00\x00\x0c\x00\x01"));
        assert!(reverse("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
    }

    /// The verdict as the status and the log show it.
    fn judge(
        answer: &[u8],
        id: u16,
        qtype: u16,
        receive: Option<&regex::Regex>,
    ) -> Result<(), String> {
        super::judge(answer, id, qtype, receive).map_err(|e| e.to_string())
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            super::judge(&answer(7, 2, &[]), 7, TYPE_A, None),
            Err(DnsFailure::Rcode(2))
        );
        let re = |s: &str| regex::Regex::new(s).unwrap();
        let a = answer(7, 0, &[(5, b"\x00".to_vec()), (TYPE_A, vec![192, 0, 2, 5])]);
        assert_eq!(judge(&a, 7, TYPE_A, None), Ok(()));
        assert_eq!(judge(&a, 7, TYPE_A, Some(&re("^192\\.0\\.2\\.5$"))), Ok(()));
        assert_eq!(
            judge(&a, 7, TYPE_A, Some(&re("^192\\.0\\.2\\.6$"))),
            Err("answered 192.0.2.5, not `^192\\.0\\.2\\.6$`".into())
        );
        assert!(judge(&a, 8, TYPE_A, None).is_err());
        assert_eq!(
            judge(&answer(7, 3, &[]), 7, TYPE_A, None),
            Err("answered NXDOMAIN".into())
        );
        assert_eq!(
            judge(&answer(7, 0, &[]), 7, TYPE_A, None),
            Err("no answer records".into())
        );
        // A PTR whose name points back into the question.
        let p = answer(7, 0, &[(TYPE_PTR, vec![0xc0, 12])]);
        assert_eq!(
            judge(&p, 7, TYPE_PTR, Some(&re("^www\\.example\\.org$"))),
            Ok(())
        );
    }

    #[test]
    fn hostile_answers_fail_without_panicking() {
        let a = answer(7, 0, &[(TYPE_A, vec![192, 0, 2, 5])]);
        for cut in 0..a.len() {
            assert!(judge(&a[..cut], 7, TYPE_A, None).is_err(), "{cut}");
        }
        // A PTR that points at itself.
        let mut p = answer(7, 0, &[(TYPE_PTR, vec![0xc0, 0])]);
        let at = p.len() - 2;
        p[at + 1] = at as u8;
        assert!(judge(&p, 7, TYPE_PTR, None).is_err());
    }
}
