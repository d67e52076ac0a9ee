//! Heartbeat 3.0.6's messages, beside tandem's native frames, so that a
//! pair can be migrated one node at a time.
//!
//! A message is an ordered list of `name=value` fields. Two forms:
//!
//! - netstring (UDP): `###\n`, then per field `LEN:(TYPE)NAME=VALUE,`,
//!   then `%%%\n`, then the authentication netstring `LEN:INDEX DIGEST,`
//!   over everything before it. Heartbeat also puts an `auth` field in the
//!   message (the digest of the text form) but checks only the trailer;
//!   tandem writes both and checks the trailer too.
//! - text (serial): `>>>\n`, one `[(TYPE)]NAME=VALUE\n` line per field
//!   (binary values in base64), `auth=INDEX DIGEST\n` over the other
//!   lines, `<<<\n`.
//!
//! Both verified against Heartbeat 3.0.6's own packets (the captures in
//! tests/fixtures/heartbeat). Everything from the wire is hostile until
//! its digest checks out: lengths, counts and nesting are bounded, and no
//! input panics (fuzzed: fuzz/fuzz_targets/heartbeat.rs). On serial lines
//! [`super::serial::Deframer`] cuts the text messages out of the stream.

use super::auth::Authenticator;

/// Heartbeat's MAXMSG: one UDP datagram at most.
pub const MAX_MESSAGE: usize = 256 * 1024;
/// Fields in one message (nested ones included).
pub const MAX_FIELDS: usize = 4096;
/// Structs within structs.
pub const MAX_DEPTH: usize = 8;

const NETSTRING_START: &[u8] = b"###\n";
const NETSTRING_END: &[u8] = b"%%%\n";
const TEXT_START: &[u8] = b">>>\n";
const TEXT_END: &[u8] = b"<<<\n";

/// A field's value, by Heartbeat's field type.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// FT_STRING (0).
    String(Vec<u8>),
    /// FT_BINARY (1): raw bytes, base64 in the text form.
    Binary(Vec<u8>),
    /// FT_STRUCT (2): a nested message (netstring form only).
    Struct(Message),
    /// FT_LIST (3): a list of strings (netstring form only).
    List(Vec<Vec<u8>>),
    /// Any other type (compressed payloads, and structs or lists in the
    /// text form), kept as it came: tandem never reads them.
    Opaque { kind: u8, raw: Vec<u8> },
}

impl std::fmt::Debug for Value {
    // Strings as text: test failures and debug logs stay readable.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::String(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            Value::Binary(b) => write!(f, "binary({} bytes)", b.len()),
            Value::Struct(m) => write!(f, "{m:?}"),
            Value::List(items) => f
                .debug_list()
                .entries(items.iter().map(|i| String::from_utf8_lossy(i)))
                .finish(),
            Value::Opaque { kind, raw } => write!(f, "type {kind} ({} bytes)", raw.len()),
        }
    }
}

/// One Heartbeat message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub fields: Vec<(String, Value)>,
}

impl Message {
    pub fn new() -> Message {
        Message::default()
    }

    /// Appends a string field.
    pub fn add(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Message {
        self.fields
            .push((name.to_string(), Value::String(value.as_ref().to_vec())));
        self
    }

    /// Appends a binary field.
    pub fn add_binary(&mut self, name: &str, value: &[u8]) -> &mut Message {
        self.fields
            .push((name.to_string(), Value::Binary(value.to_vec())));
        self
    }

    /// The first field called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The first string field called `name`, if it is UTF-8.
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::String(s) => std::str::from_utf8(s).ok(),
            _ => None,
        }
    }

    /// A hexadecimal field (`seq`, `hg`, `ts`, `dt`, `ackseq`).
    pub fn hex(&self, name: &str) -> Option<u64> {
        u64::from_str_radix(self.str(name)?, 16).ok()
    }

    /// A decimal field (`firstseq`, `lastseq` of a retransmission request).
    pub fn decimal(&self, name: &str) -> Option<u64> {
        self.str(name)?.parse().ok()
    }

    /// The first binary field called `name`.
    pub fn binary(&self, name: &str) -> Option<&[u8]> {
        match self.get(name)? {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }
}

/// Which form a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Netstring,
    Text,
}

/// Why bytes are not an authentic Heartbeat message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a Heartbeat message")]
    NotHeartbeat,
    #[error("longer than {MAX_MESSAGE} bytes")]
    TooLong,
    #[error("truncated")]
    Truncated,
    #[error("malformed {0}")]
    Malformed(&'static str),
    #[error("more than {MAX_FIELDS} fields")]
    TooManyFields,
    #[error("structs nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("no authentication")]
    NoAuth,
    #[error("authentication key {0} is not in authkeys")]
    UnknownKey(u8),
    #[error("authentication failed (key {0})")]
    BadAuth(u8),
}

impl DecodeError {
    /// The drop reason this counts as, in native frames' words.
    pub fn drop_reason(&self) -> crate::wire::frame::Drop {
        use crate::wire::frame::Drop;
        match self {
            DecodeError::BadAuth(_) => Drop::BadTag,
            DecodeError::UnknownKey(_) => Drop::UnknownKey,
            DecodeError::NotHeartbeat => Drop::NotTandem,
            _ => Drop::Truncated,
        }
    }
}

/// Why a message cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("the signing key has no Heartbeat form (Heartbeat knows crc, md5 and sha1)")]
    NoHeartbeatKey,
    #[error("field `{0}`: the text form carries only strings and binary values")]
    NotText(String),
    #[error("field `{0}`: a name or string value with `=`, a newline or NUL")]
    BadField(String),
    #[error("longer than {MAX_MESSAGE} bytes")]
    TooLong,
}

/// Decodes and authenticates one message in either form.
pub fn decode(bytes: &[u8], auth: &Authenticator) -> Result<(Message, Form), DecodeError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(DecodeError::TooLong);
    }
    if bytes.starts_with(NETSTRING_START) {
        decode_netstring(bytes, auth).map(|m| (m, Form::Netstring))
    } else if bytes.starts_with(TEXT_START) {
        decode_text(bytes, auth).map(|m| (m, Form::Text))
    } else {
        Err(DecodeError::NotHeartbeat)
    }
}

/// Writes `msg` in the netstring form (UDP), signed with the signing key.
pub fn encode_netstring(msg: &Message, auth: &Authenticator) -> Result<Vec<u8>, EncodeError> {
    let index = auth.signing_index();
    let text = text_lines(msg)?;
    let inner = auth
        .heartbeat_digest(index, &text)
        .ok_or(EncodeError::NoHeartbeatKey)?;
    let mut out = NETSTRING_START.to_vec();
    for (name, value) in &msg.fields {
        put_field(&mut out, name, value);
    }
    put_netstring(&mut out, format!("(0)auth={index} {inner}").as_bytes());
    out.extend_from_slice(NETSTRING_END);
    let trailer = auth
        .heartbeat_digest(index, &out)
        .ok_or(EncodeError::NoHeartbeatKey)?;
    put_netstring(&mut out, format!("{index} {trailer}").as_bytes());
    if out.len() > MAX_MESSAGE {
        return Err(EncodeError::TooLong);
    }
    Ok(out)
}

/// Writes `msg` in the text form (serial), signed with the signing key.
pub fn encode_text(msg: &Message, auth: &Authenticator) -> Result<Vec<u8>, EncodeError> {
    let index = auth.signing_index();
    let text = text_lines(msg)?;
    let digest = auth
        .heartbeat_digest(index, &text)
        .ok_or(EncodeError::NoHeartbeatKey)?;
    let mut out = TEXT_START.to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(format!("auth={index} {digest}\n").as_bytes());
    out.extend_from_slice(TEXT_END);
    if out.len() > MAX_MESSAGE {
        return Err(EncodeError::TooLong);
    }
    Ok(out)
}

/// The text form's field lines (what both digests of the text cover).
fn text_lines(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    use base64::Engine;
    let mut out = Vec::new();
    for (name, value) in &msg.fields {
        let clean = |b: &[u8]| !b.iter().any(|&c| matches!(c, b'\n' | b'\r' | 0));
        if name.is_empty() || name.contains('=') || !clean(name.as_bytes()) {
            return Err(EncodeError::BadField(name.clone()));
        }
        match value {
            Value::String(s) if clean(s) => {
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                out.extend_from_slice(s);
            }
            Value::String(_) => return Err(EncodeError::BadField(name.clone())),
            Value::Binary(b) => {
                out.extend_from_slice(b"(1)");
                out.extend_from_slice(name.as_bytes());
                out.push(b'=');
                out.extend_from_slice(
                    base64::engine::general_purpose::STANDARD
                        .encode(b)
                        .as_bytes(),
                );
            }
            _ => return Err(EncodeError::NotText(name.clone())),
        }
        out.push(b'\n');
    }
    Ok(out)
}

fn put_netstring(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(body);
    out.push(b',');
}

fn put_field(out: &mut Vec<u8>, name: &str, value: &Value) {
    let (kind, body): (u8, Vec<u8>) = match value {
        Value::String(s) => (0, s.clone()),
        Value::Binary(b) => (1, b.clone()),
        Value::Struct(m) => {
            let mut nested = NETSTRING_START.to_vec();
            for (n, v) in &m.fields {
                put_field(&mut nested, n, v);
            }
            nested.extend_from_slice(NETSTRING_END);
            (2, nested)
        }
        Value::List(items) => {
            let mut nested = Vec::new();
            for i in items {
                put_netstring(&mut nested, i);
            }
            (3, nested)
        }
        Value::Opaque { kind, raw } => (*kind, raw.clone()),
    };
    let mut field = format!("({kind}){name}=").into_bytes();
    field.extend_from_slice(&body);
    put_netstring(out, &field);
}

/// Reads one netstring `LEN:BODY,` at the start of `bytes`: the body and
/// the bytes after it. The length is bounded by what is left, so a
/// hostile prefix can never make it allocate or read beyond the input.
fn take_netstring(bytes: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let colon = bytes
        .iter()
        .take(8)
        .position(|&b| b == b':')
        .ok_or(DecodeError::Malformed("netstring length"))?;
    let digits = &bytes[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecodeError::Malformed("netstring length"));
    }
    let len: usize = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(DecodeError::Malformed("netstring length"))?;
    let rest = &bytes[colon + 1..];
    if len >= rest.len() {
        return Err(DecodeError::Truncated);
    }
    if rest[len] != b',' {
        return Err(DecodeError::Malformed("netstring end"));
    }
    Ok((&rest[..len], &rest[len + 1..]))
}

/// Parses `(TYPE)NAME=VALUE` (the type prefix optional, as in text).
fn split_field(field: &[u8]) -> Result<(u8, &[u8], &[u8]), DecodeError> {
    let (kind, rest) = match field.first() {
        Some(b'(') => {
            let close = field
                .iter()
                .take(5)
                .position(|&b| b == b')')
                .ok_or(DecodeError::Malformed("field type"))?;
            let kind = std::str::from_utf8(&field[1..close])
                .ok()
                .and_then(|k| k.parse::<u8>().ok())
                .ok_or(DecodeError::Malformed("field type"))?;
            (kind, &field[close + 1..])
        }
        _ => (0, field),
    };
    let eq = rest
        .iter()
        .position(|&b| b == b'=')
        .ok_or(DecodeError::Malformed("field"))?;
    let name = &rest[..eq];
    if name.is_empty() {
        return Err(DecodeError::Malformed("field name"));
    }
    Ok((kind, name, &rest[eq + 1..]))
}

fn name_of(name: &[u8]) -> Result<String, DecodeError> {
    std::str::from_utf8(name)
        .map(str::to_string)
        .map_err(|_| DecodeError::Malformed("field name"))
}

/// Parses the fields between `###\n` and `%%%\n`; returns the message
/// (when `build`: a first pass only checks the structure and finds the
/// trailer, copying nothing) and the bytes after `%%%\n`. `count` bounds
/// fields across all nesting.
fn netstring_fields<'a>(
    bytes: &'a [u8],
    depth: usize,
    count: &mut usize,
    build: bool,
) -> Result<(Message, &'a [u8]), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let mut rest = bytes
        .strip_prefix(NETSTRING_START)
        .ok_or(DecodeError::Malformed("message start"))?;
    let mut msg = Message::new();
    loop {
        if let Some(after) = rest.strip_prefix(NETSTRING_END) {
            return Ok((msg, after));
        }
        if rest.is_empty() {
            return Err(DecodeError::Truncated);
        }
        *count += 1;
        if *count > MAX_FIELDS {
            return Err(DecodeError::TooManyFields);
        }
        let (field, after) = take_netstring(rest)?;
        rest = after;
        let (kind, name, value) = split_field(field)?;
        let value = match kind {
            0 => Value::String(if build { value.to_vec() } else { Vec::new() }),
            1 => Value::Binary(if build { value.to_vec() } else { Vec::new() }),
            2 => {
                let (nested, tail) = netstring_fields(value, depth + 1, count, build)?;
                if !tail.is_empty() {
                    return Err(DecodeError::Malformed("struct"));
                }
                Value::Struct(nested)
            }
            3 => {
                let mut items = Vec::new();
                let mut list = value;
                while !list.is_empty() {
                    *count += 1;
                    if *count > MAX_FIELDS {
                        return Err(DecodeError::TooManyFields);
                    }
                    let (item, after) = take_netstring(list)?;
                    if build {
                        items.push(item.to_vec());
                    }
                    list = after;
                }
                Value::List(items)
            }
            kind => Value::Opaque {
                kind,
                raw: if build { value.to_vec() } else { Vec::new() },
            },
        };
        if build {
            msg.fields.push((name_of(name)?, value));
        }
    }
}

/// `INDEX DIGEST` of an auth field or trailer.
fn split_auth(text: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let space = text
        .iter()
        .position(|&b| b == b' ')
        .ok_or(DecodeError::Malformed("authentication"))?;
    let index = std::str::from_utf8(&text[..space])
        .ok()
        .and_then(|i| i.parse::<u8>().ok())
        .filter(|&i| i < 16)
        .ok_or(DecodeError::Malformed("authentication key index"))?;
    Ok((index, &text[space + 1..]))
}

fn check(auth: &Authenticator, index: u8, data: &[u8], digest: &[u8]) -> Result<(), DecodeError> {
    if !auth.has_heartbeat_key(index) {
        return Err(DecodeError::UnknownKey(index));
    }
    if auth.heartbeat_verify(index, data, digest) {
        Ok(())
    } else {
        Err(DecodeError::BadAuth(index))
    }
}

fn decode_netstring(bytes: &[u8], auth: &Authenticator) -> Result<Message, DecodeError> {
    // The structure first, then the digest, and only an authentic message
    // is copied out: a flood of forgeries costs a scan and a digest each.
    let mut count = 0;
    let (_, trailer) = netstring_fields(bytes, 0, &mut count, false)?;
    let signed = &bytes[..bytes.len() - trailer.len()];
    if trailer.is_empty() {
        return Err(DecodeError::NoAuth);
    }
    let (body, after) = take_netstring(trailer)?;
    if !after.is_empty() {
        return Err(DecodeError::Malformed("bytes after the authentication"));
    }
    let (index, digest) = split_auth(body)?;
    check(auth, index, signed, digest)?;
    let mut count = 0;
    let (mut msg, _) = netstring_fields(bytes, 0, &mut count, true)?;
    // The inner auth field is the sender's business (Heartbeat does not
    // check it either); the message is the other fields.
    msg.fields.retain(|(n, _)| n != "auth");
    Ok(msg)
}

fn decode_text(bytes: &[u8], auth: &Authenticator) -> Result<Message, DecodeError> {
    use base64::Engine;
    let body = bytes
        .strip_prefix(TEXT_START)
        .and_then(|b| b.strip_suffix(TEXT_END))
        .ok_or(DecodeError::Malformed("text message"))?;
    // First the structure and the digest: the signed text is every line
    // but the auth line, which Heartbeat writes last (then it is a slice
    // of the message; otherwise it is gathered).
    let mut found = None;
    let mut auth_lines = Vec::new();
    let mut at = 0;
    for (n, line) in body.split_inclusive(|&b| b == b'\n').enumerate() {
        let Some(content) = line.strip_suffix(b"\n") else {
            return Err(DecodeError::Truncated);
        };
        if n > MAX_FIELDS {
            return Err(DecodeError::TooManyFields);
        }
        let (kind, name, value) = split_field(content)?;
        if name == b"auth" && kind == 0 {
            found = Some(split_auth(value)?);
            auth_lines.push(at..at + line.len());
        }
        at += line.len();
    }
    let (index, digest) = found.ok_or(DecodeError::NoAuth)?;
    match auth_lines.as_slice() {
        [last] if last.end == body.len() => check(auth, index, &body[..last.start], digest)?,
        _ => {
            let mut signed = Vec::with_capacity(body.len());
            let mut from = 0;
            for r in &auth_lines {
                signed.extend_from_slice(&body[from..r.start]);
                from = r.end;
            }
            signed.extend_from_slice(&body[from..]);
            check(auth, index, &signed, digest)?;
        }
    }
    let mut msg = Message::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        if msg.fields.len() >= MAX_FIELDS {
            return Err(DecodeError::TooManyFields);
        }
        let (kind, name, value) = split_field(content)?;
        if name == b"auth" && kind == 0 {
            continue;
        }
        let value = match kind {
            0 => Value::String(value.to_vec()),
            1 => Value::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .map_err(|_| DecodeError::Malformed("base64"))?,
            ),
            kind => Value::Opaque {
                kind,
                raw: value.to_vec(),
            },
        };
        msg.fields.push((name_of(name)?, value));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::auth::testing::auth;

    fn status() -> Message {
        let mut m = Message::new();
        m.add("t", "status")
            .add("st", "up")
            .add("dt", "1388")
            .add("protocol", "1")
            .add("src", "tdnode")
            .add_binary(
                "srcuuid",
                &[0x68, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
            )
            .add("seq", "1f");
        m
    }

    #[test]
    fn both_forms_round_trip_with_every_heartbeat_method() {
        for method in ["sha1 k", "md5 k", "crc"] {
            let a = auth(&format!("auth 2\n2 {method}\n"));
            for (form, bytes) in [
                (
                    Form::Netstring,
                    encode_netstring(&status(), &a).expect("encode"),
                ),
                (Form::Text, encode_text(&status(), &a).expect("encode")),
            ] {
                assert_eq!(decode(&bytes, &a), Ok((status(), form)), "{method}");
            }
        }
    }

    #[test]
    fn a_changed_byte_or_another_key_fails() {
        let a = auth("auth 1\n1 sha1 k\n");
        let mut bytes = encode_netstring(&status(), &a).expect("encode");
        let at = bytes.iter().position(|&b| b == b'u').expect("u");
        bytes[at] = b'U';
        assert_eq!(decode(&bytes, &a), Err(DecodeError::BadAuth(1)));
        let other = auth("auth 1\n1 sha1 other\n");
        let bytes = encode_text(&status(), &a).expect("encode");
        assert_eq!(decode(&bytes, &other), Err(DecodeError::BadAuth(1)));
        let unknown = auth("auth 3\n3 sha1 k\n");
        assert_eq!(decode(&bytes, &unknown), Err(DecodeError::UnknownKey(1)));
    }

    #[test]
    fn sha256_has_no_heartbeat_form() {
        let a = auth("auth 1\n1 sha256 k\n");
        assert_eq!(
            encode_netstring(&status(), &a),
            Err(EncodeError::NoHeartbeatKey)
        );
    }

    #[test]
    fn nested_structs_and_lists_parse_within_bounds() {
        let a = auth("auth 1\n1 crc\n");
        let mut inner = Message::new();
        inner.add("a", "b");
        let mut m = status();
        m.fields.push(("s".into(), Value::Struct(inner)));
        m.fields
            .push(("l".into(), Value::List(vec![b"x".to_vec(), b"yz".to_vec()])));
        let mut bytes = NETSTRING_START.to_vec();
        for (n, v) in &m.fields {
            put_field(&mut bytes, n, v);
        }
        bytes.extend_from_slice(NETSTRING_END);
        let digest = a.heartbeat_digest(1, &bytes).expect("crc");
        put_netstring(&mut bytes, format!("1 {digest}").as_bytes());
        assert_eq!(decode(&bytes, &a), Ok((m, Form::Netstring)));

        // Structs nested past the bound are refused, not recursed into.
        let mut deep = b"###\n%%%\n".to_vec();
        for _ in 0..MAX_DEPTH + 2 {
            let mut field = b"(2)s=".to_vec();
            field.extend_from_slice(&deep);
            let mut outer = NETSTRING_START.to_vec();
            put_netstring(&mut outer, &field);
            outer.extend_from_slice(NETSTRING_END);
            deep = outer;
        }
        put_netstring(&mut deep, b"1 0");
        assert_eq!(decode(&deep, &a), Err(DecodeError::TooDeep));
    }

    #[test]
    fn hostile_lengths_are_refused() {
        let a = auth("auth 1\n1 crc\n");
        for bad in [
            &b"###\n99999999:(0)t=x,%%%\n"[..],
            b"###\n5:(0)t=x%%%\n",
            b"###\n-1:(0)t=x,%%%\n",
            b"###\n",
            b">>>\nt=status\n",
            b">>>\n(1)srcuuid=!!!\nauth=1 0\n<<<\n",
        ] {
            assert!(decode(bad, &a).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
