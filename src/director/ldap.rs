//! The LDAP negotiate check, pure: a simple bind (anonymous unless `login`
//! and `passwd` are given), then, when `request` names a base DN, a
//! base-scope search for it (ldirectord's check). The server passes when
//! the bind succeeds and the search finds the entry; with `receive`, the
//! entry as text (`dn: …` then `attribute: value` lines) must match it.
//!
//! Only the handful of BER shapes LDAPv3 (RFC 4511) needs here are
//! written and read; every length is checked against what arrived.

use super::dialogue::Progress;

/// The most an answer may hold before the server is called broken.
const ANSWER_MAX: usize = 256 * 1024;

const BIND_ID: u8 = 1;
const SEARCH_ID: u8 = 2;

/// One conversation in progress.
#[derive(Debug)]
pub struct Ldap {
    base: Option<String>,
    receive: Option<regex::Regex>,
    buf: Vec<u8>,
    bound: bool,
    entry: Option<String>,
}

impl Ldap {
    pub fn new(base: Option<String>, receive: Option<regex::Regex>) -> Ldap {
        Ldap {
            base: base.filter(|b| !b.is_empty()),
            receive,
            buf: Vec::new(),
            bound: false,
            entry: None,
        }
    }

    /// The bind request, sent as soon as connected.
    pub fn opening(login: Option<(&str, &str)>) -> Vec<u8> {
        let (dn, pw) = login.unwrap_or(("", ""));
        let mut bind = tlv(0x02, &[3]);
        bind.extend(tlv(0x04, dn.as_bytes()));
        bind.extend(tlv(0x80, pw.as_bytes()));
        message(BIND_ID, 0x60, &bind)
    }

    pub fn on_data(&mut self, data: &[u8]) -> Progress {
        self.buf.extend_from_slice(data);
        if self.buf.len() > ANSWER_MAX {
            return Progress::Failed("an answer larger than 256 KiB".into());
        }
        loop {
            let (tag, body, used) = match read_tlv(&self.buf) {
                Ok(Some(t)) => t,
                Ok(None) => return Progress::Wait,
                Err(e) => return Progress::Failed(e.to_string()),
            };
            let body = body.to_vec();
            self.buf.drain(..used);
            if tag != 0x30 {
                return Progress::Failed("not an LDAP message".into());
            }
            match self.message(&body) {
                Progress::Wait => continue,
                other => return other,
            }
        }
    }

    fn message(&mut self, msg: &[u8]) -> Progress {
        let truncated = LdapFailure::Malformed("a truncated message");
        let parsed = (|| -> Result<(u8, Vec<u8>), LdapFailure> {
            let (tag, id, used) = read_tlv(msg)?.ok_or(truncated.clone())?;
            if tag != 0x02 || id.len() != 1 {
                return Err(LdapFailure::Malformed("a message without a small id"));
            }
            let (op, body, _) = read_tlv(&msg[used..])?.ok_or(truncated)?;
            Ok((op, body.to_vec()))
        })();
        let (op, body) = match parsed {
            Ok(p) => p,
            Err(e) => return Progress::Failed(e.to_string()),
        };
        match op {
            // BindResponse
            0x61 if !self.bound => match result(&body) {
                Ok(()) => {
                    self.bound = true;
                    match &self.base {
                        None => Progress::Passed,
                        Some(base) => Progress::Send(search(base)),
                    }
                }
                Err(e) => Progress::Failed(format!("bind: {e}")),
            },
            // SearchResultEntry
            0x64 if self.bound => match entry_text(&body) {
                Ok(t) => {
                    self.entry.get_or_insert(t);
                    Progress::Wait
                }
                Err(e) => Progress::Failed(e.to_string()),
            },
            // SearchResultReference: not followed.
            0x73 => Progress::Wait,
            // SearchResultDone
            0x65 if self.bound => {
                if let Err(e) = result(&body) {
                    return Progress::Failed(format!("search: {e}"));
                }
                let Some(entry) = &self.entry else {
                    return Progress::Failed("search: no entry".into());
                };
                match &self.receive {
                    Some(r) if !r.is_match(entry) => {
                        Progress::Failed(format!("the entry does not match `{}`", r.as_str()))
                    }
                    _ => Progress::Passed,
                }
            }
            // A notice of disconnection or anything out of order.
            0x78 => Progress::Failed("the server sent a notice of disconnection".into()),
            other => Progress::Failed(format!("unexpected LDAP operation 0x{other:02x}")),
        }
    }

    pub fn on_close(&self) -> Progress {
        Progress::Failed("closed the connection mid-conversation".into())
    }
}

fn search(base: &str) -> Vec<u8> {
    let mut s = tlv(0x04, base.as_bytes());
    s.extend(tlv(0x0a, &[0])); // scope: baseObject
    s.extend(tlv(0x0a, &[0])); // derefAliases: never
    s.extend(tlv(0x02, &[1])); // sizeLimit
    s.extend(tlv(0x02, &[0])); // timeLimit
    s.extend(tlv(0x01, &[0])); // typesOnly: false
    s.extend(tlv(0x87, b"objectClass")); // (objectClass=*)
    s.extend(tlv(0x30, &[])); // all attributes
    message(SEARCH_ID, 0x63, &s)
}

fn message(id: u8, op: u8, body: &[u8]) -> Vec<u8> {
    let mut m = tlv(0x02, &[id]);
    m.extend(tlv(op, body));
    tlv(0x30, &m)
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// Why an LDAP answer fails the check, below the conversation's own
/// verdicts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdapFailure {
    /// The bytes are not the BER the check reads.
    #[error("{0}")]
    Malformed(&'static str),
    /// An LDAPResult other than success, with the server's message.
    #[error("result code {code}{}", in_parens(message))]
    Result { code: u32, message: String },
}

fn in_parens(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

/// One BER element: tag, value, and the bytes it took.
type Element<'a> = (u8, &'a [u8], usize);

/// The element at the start of `b`. `Ok(None)`: not all of it has
/// arrived.
fn read_tlv(b: &[u8]) -> Result<Option<Element<'_>>, LdapFailure> {
    let (Some(&tag), Some(&first)) = (b.first(), b.get(1)) else {
        return Ok(None);
    };
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(LdapFailure::Malformed(
                "a BER length the check does not take",
            ));
        }
        let Some(bytes) = b.get(2..2 + n) else {
            return Ok(None);
        };
        (
            bytes.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x)),
            2 + n,
        )
    };
    if len > ANSWER_MAX {
        return Err(LdapFailure::Malformed("an element larger than 256 KiB"));
    }
    match b.get(head..head + len) {
        Some(v) => Ok(Some((tag, v, head + len))),
        None => Ok(None),
    }
}

/// Reads a complete element or says the message is short.
fn element(b: &[u8]) -> Result<Element<'_>, LdapFailure> {
    read_tlv(b)?.ok_or(LdapFailure::Malformed("a truncated element"))
}

/// An LDAPResult: resultCode, matchedDN, diagnosticMessage.
fn result(body: &[u8]) -> Result<(), LdapFailure> {
    let (tag, code, used) = element(body)?;
    if tag != 0x0a || code.is_empty() || code.len() > 4 {
        return Err(LdapFailure::Malformed("no result code"));
    }
    let code = code.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
    if code == 0 {
        return Ok(());
    }
    let rest = &body[used..];
    let message = element(rest)
        .ok()
        .and_then(|(_, _, u)| element(&rest[u..]).ok())
        .map(|(_, m, _)| {
            String::from_utf8_lossy(m)
                .chars()
                .take(80)
                .collect::<String>()
        })
        .unwrap_or_default();
    Err(LdapFailure::Result { code, message })
}

/// A SearchResultEntry as text: `dn: …` then one line per value.
fn entry_text(body: &[u8]) -> Result<String, LdapFailure> {
    let (_, dn, used) = element(body)?;
    let mut text = format!("dn: {}\n", String::from_utf8_lossy(dn));
    let (_, mut attrs, _) = element(&body[used..])?;
    while !attrs.is_empty() {
        let (_, attr, used) = element(attrs)?;
        attrs = &attrs[used..];
        let (_, name, used) = element(attr)?;
        let (_, mut vals, _) = element(&attr[used..])?;
        while !vals.is_empty() {
            let (_, val, used) = element(vals)?;
            vals = &vals[used..];
            text.push_str(&format!(
                "{}: {}\n",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(val)
            ));
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: u8, op: u8, body: &[u8]) -> Vec<u8> {
        message(id, op, body)
    }

    fn ldap_result(code: u8, text: &str) -> Vec<u8> {
        let mut r = tlv(0x0a, &[code]);
        r.extend(tlv(0x04, b""));
        r.extend(tlv(0x04, text.as_bytes()));
        r
    }

    #[test]
    fn bind_request_is_ber_ldapv3_simple() {
        let b = Ldap::opening(None);
        assert_eq!(
            b,
            [0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]
        );
    }

    #[test]
    fn bind_then_search_finds_the_entry() {
        let re = regex::Regex::new("dc: example").ok();
        let mut l = Ldap::new(Some("dc=example,dc=org".into()), re);
        let p = l.on_data(&answer(1, 0x61, &ldap_result(0, "")));
        let Progress::Send(s) = p else {
            panic!("{p:?}")
        };
        assert!(s.windows(17).any(|w| w == b"dc=example,dc=org"));
        let mut entry = tlv(0x04, b"dc=example,dc=org");
        let mut attr = tlv(0x04, b"dc");
        attr.extend(tlv(0x31, &tlv(0x04, b"example")));
        entry.extend(tlv(0x30, &tlv(0x30, &attr)));
        let mut both = answer(2, 0x64, &entry);
        both.extend(answer(2, 0x65, &ldap_result(0, "")));
        // In two pieces, split inside the first message.
        assert_eq!(l.on_data(&both[..7]), Progress::Wait);
        assert_eq!(l.on_data(&both[7..]), Progress::Passed);
    }

    #[test]
    fn failures_name_what_the_server_said() {
        let mut l = Ldap::new(None, None);
        assert_eq!(
            l.on_data(&answer(1, 0x61, &ldap_result(49, "invalid credentials"))),
            Progress::Failed("bind: result code 49 (invalid credentials)".into())
        );
        let mut l = Ldap::new(Some("dc=x".into()), None);
        assert!(matches!(
            l.on_data(&answer(1, 0x61, &ldap_result(0, ""))),
            Progress::Send(_)
        ));
        assert_eq!(
            l.on_data(&answer(2, 0x65, &ldap_result(32, "no such object"))),
            Progress::Failed("search: result code 32 (no such object)".into())
        );
    }

    #[test]
    fn hostile_lengths_fail_without_panicking() {
        for bytes in [
            &[0x30, 0x85, 1, 2, 3, 4, 5][..],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            &[0x30, 0x03, 0x02, 0x05, 0x01][..],
            &[0x04, 0x00][..],
        ] {
            let mut l = Ldap::new(None, None);
            assert!(matches!(l.on_data(bytes), Progress::Failed(_)), "{bytes:?}");
        }
        // Long-form lengths are read.
        assert_eq!(
            read_tlv(&[0x04, 0x81, 0x01, 0x41]),
            Ok(Some((0x04, &b"A"[..], 4)))
        );
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
    }
}
