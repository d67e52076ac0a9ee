//! authkeys: the keys that authenticate every frame.
//!
//! ```text
//! auth 1            # the index that signs outgoing frames
//! 1 sha256 secret   # index method [key]; every listed index is accepted
//! 2 sha1 old-secret #   inbound, so keys can be rotated one node at a time
//! ```
//!
//! As in Heartbeat, `#` starts a comment only at the start of a line (a key
//! may contain `#`), and the key is one word.

use super::diag::{At, Diagnostics};
use super::lines;
use super::value::{parse_in, Setting, Source};
use crate::wire::auth::AuthMethod;
use crate::wire::auth::Authenticator;
use serde::{Serialize, Serializer};
use std::fmt;

/// Heartbeat's MAXAUTH: indexes 0..=15.
pub const INDEX_MAX: u8 = 15;

/// A shared secret. It never appears in logs, `Debug` output or JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(key: &str) -> Self {
        Secret(key.to_string())
    }

    /// The key bytes, for the HMAC.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("({} bytes, not shown)", self.0.len()))
    }
}

/// One line `index method [key]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthKey {
    pub index: u8,
    pub method: AuthMethod,
    /// `None` for crc, which takes no key.
    pub key: Option<Secret>,
}

/// The parsed authkeys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthKeys {
    /// The index whose key signs outgoing frames.
    pub sign: Setting<u8>,
    /// Every key accepted on frames coming in, in file order.
    pub keys: Vec<Setting<AuthKey>>,
}

impl AuthKeys {
    /// The key that signs outgoing frames.
    pub fn signing(&self) -> &AuthKey {
        // `parse` only builds an AuthKeys whose `sign` index is listed.
        self.key(self.sign.value)
            .unwrap_or_else(|| &self.keys[0].value)
    }

    /// The key with this index, if listed (inbound frames name their index).
    pub fn key(&self, index: u8) -> Option<&AuthKey> {
        self.keys
            .iter()
            .map(|k| &k.value)
            .find(|k| k.index == index)
    }

    /// Writes the keys back as authkeys text (with the secrets: this is for
    /// writing a file, never for display).
    pub fn to_text(&self) -> String {
        let mut out = format!("auth {}\n", self.sign.value);
        for k in &self.keys {
            let k = &k.value;
            match &k.key {
                Some(secret) => out.push_str(&format!(
                    "{} {} {}\n",
                    k.index,
                    k.method.as_str(),
                    String::from_utf8_lossy(secret.expose())
                )),
                None => out.push_str(&format!("{} {}\n", k.index, k.method.as_str())),
            }
        }
        out
    }
}

impl From<&AuthKeys> for Authenticator {
    fn from(authkeys: &AuthKeys) -> Authenticator {
        let keys: Vec<(u8, AuthMethod, &[u8])> = authkeys
            .keys
            .iter()
            .map(|k| {
                let secret = k.value.key.as_ref().map(|s| s.expose()).unwrap_or(&[]);
                (k.value.index, k.value.method, secret)
            })
            .collect();
        Authenticator::new(authkeys.sign.value, &keys)
    }
}

/// Parses authkeys. Permissions are checked where the file is opened.
pub fn parse(file: &str, bytes: &[u8]) -> (Option<AuthKeys>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut sign: Option<Setting<u8>> = None;
    let mut keys: Vec<Setting<AuthKey>> = Vec::new();
    // Lines already reported, so that what follows from them is not.
    let mut auth_line_failed = false;
    let mut failed_indexes: Vec<u8> = Vec::new();
    for line in lines::split(file, bytes, &mut diags) {
        let text = line.text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        if words[0] == "auth" {
            let at = At::line(file, line.number, "auth");
            let index = match words[1..] {
                [index] => parse_in::<u8>(index, 0, INDEX_MAX, "a key index"),
                _ => Err("expected `auth INDEX`".to_string()),
            }
            .map_err(|e| {
                if e.starts_with("expected") {
                    e
                } else {
                    format!("{e}; expected `auth INDEX`")
                }
            });
            match index {
                Ok(index) => {
                    if let Some(prev) = &sign {
                        diags.warning(
                            &at,
                            format!("also given at {}; this later index signs", prev.source),
                        );
                    }
                    sign = Some(Setting::from_file(index, file, line.number));
                }
                Err(e) => {
                    auth_line_failed = true;
                    diags.error(&at, e)
                }
            }
            continue;
        }
        let name = match words[0].parse::<u8>() {
            Ok(i) => format!("key {i}"),
            Err(_) => words[0].to_string(),
        };
        let at = At::line(file, line.number, &name);
        let parsed = parse_key(&at, &words, &mut diags);
        if parsed.is_none() {
            if let Ok(i) = words[0].parse::<u8>() {
                failed_indexes.push(i);
            }
        }
        if let Some(key) = parsed {
            if let Some(prev) = keys.iter_mut().find(|k| k.value.index == key.index) {
                diags.warning(
                    &at,
                    format!(
                        "key index {} is also defined at {}; this later key is used",
                        key.index, prev.source
                    ),
                );
                *prev = Setting::from_file(key, file, line.number);
            } else {
                keys.push(Setting::from_file(key, file, line.number));
            }
        }
    }
    let whole = At::file(file);
    let Some(sign) = sign else {
        if auth_line_failed {
            return (None, diags);
        }
        diags.error(
            &whole,
            "missing `auth INDEX`, the line that chooses the key that signs (e.g. `auth 1`)",
        );
        return (None, diags);
    };
    let Some(signing) = keys.iter().find(|k| k.value.index == sign.value) else {
        if failed_indexes.contains(&sign.value) {
            return (None, diags);
        }
        let at = match &sign.source {
            Source::File { line, .. } => At::line(file, *line, "auth"),
            Source::Default(_) => At::directive(file, "auth"),
        };
        diags.error(
            &at,
            format!(
                "key index {0} is not listed; add a line `{0} sha256 KEY` (or sha1/md5 for a Heartbeat peer)",
                sign.value
            ),
        );
        return (None, diags);
    };
    if signing.value.method == AuthMethod::Crc {
        let at = match &signing.source {
            Source::File { line, .. } => At::line(file, *line, "crc"),
            Source::Default(_) => At::file(file),
        };
        diags.warning(
            &at,
            "crc authenticates nothing: anyone on a link can forge frames; sign with sha256 (or sha1 for a Heartbeat peer)",
        );
    }
    if diags.has_errors() {
        return (None, diags);
    }
    (Some(AuthKeys { sign, keys }), diags)
}

fn parse_key(at: &At<'_>, words: &[&str], diags: &mut Diagnostics) -> Option<AuthKey> {
    const FORM: &str = "INDEX crc|md5 KEY|sha1 KEY|sha256 KEY";
    let index = match parse_in::<u8>(words[0], 0, INDEX_MAX, "a key index") {
        Ok(i) => i,
        Err(e) => {
            diags.error(at, format!("{e}; expected `{FORM}` or `auth INDEX`"));
            return None;
        }
    };
    let Some(method_text) = words.get(1) else {
        diags.error(at, format!("missing method; expected `{FORM}`"));
        return None;
    };
    let Some(method) = AuthMethod::from_name(method_text) else {
        diags.error(
            at,
            format!("`{method_text}` is not a method; expected crc, md5, sha1 or sha256"),
        );
        return None;
    };
    let key = words.get(2);
    match (method, key) {
        (AuthMethod::Crc, Some(_)) => {
            diags.error(at, "crc takes no key; remove it, or use sha256 KEY");
            None
        }
        (AuthMethod::Crc, None) => Some(AuthKey {
            index,
            method,
            key: None,
        }),
        (_, None) => {
            diags.error(
                at,
                format!(
                    "{} needs a key; expected `{index} {} KEY`",
                    method.as_str(),
                    method.as_str()
                ),
            );
            None
        }
        (_, Some(key)) => {
            if words.len() > 3 {
                diags.warning(
                    at,
                    "the key has spaces; only its first word is the key (as Heartbeat reads it); write the key as one word",
                );
            }
            Some(AuthKey {
                index,
                method,
                key: Some(Secret::new(key)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_and_signing() {
        let (keys, d) = parse("authkeys", b"auth 2\n1 sha1 old\n2 sha256 new#key\n3 crc\n");
        let keys = keys.unwrap();
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(keys.signing().method, AuthMethod::Sha256);
        assert_eq!(keys.signing().key.as_ref().unwrap().expose(), b"new#key");
        assert_eq!(keys.key(1).unwrap().method, AuthMethod::Sha1);
        assert!(keys.key(4).is_none());
        assert_eq!(parse("a", keys.to_text().as_bytes()).0.unwrap(), keys);
    }

    #[test]
    fn secrets_are_not_shown() {
        let (keys, _) = parse("authkeys", b"auth 1\n1 sha256 hunter2\n");
        let shown = format!("{keys:?}") + &serde_json::to_string(&keys).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
