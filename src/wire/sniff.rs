//! Recognising Heartbeat 3.0.6 traffic before tandem speaks it.
//!
//! A node that still runs Heartbeat sends netstring messages (`###\n` …
//! `%%%\n`) on UDP and text messages (`>>>\n` … `<<<\n`) on serial lines.
//! Until the Heartbeat codec is in place tandem must at least notice one,
//! by its `src` field, and refuse to start resources while it hears it: a
//! half-migrated pair must never run the service twice.

/// The longest node name accepted from a `src` field.
const NAME_MAX: usize = 255;

/// Whether `bytes` starts like a Heartbeat message.
pub fn looks_like_heartbeat(bytes: &[u8]) -> bool {
    bytes.starts_with(b"###\n") || bytes.starts_with(b">>>\n")
}

/// The sending node of a Heartbeat message (lowercased, as Heartbeat
/// compares names), or `None` if `bytes` is not one or names no source.
///
/// In the text form the field is a line `src=NAME`; in the netstring form
/// a field `N:(0)src=NAME,`.
pub fn heartbeat_source(bytes: &[u8]) -> Option<String> {
    if !looks_like_heartbeat(bytes) {
        return None;
    }
    let mut at = 0;
    while let Some(offset) = find(&bytes[at..], b"src=") {
        let start = at + offset;
        let value = start + 4;
        // The field must begin a line (text) or follow a netstring length,
        // with or without the string type (Heartbeat 3.0.6 writes `(0)`).
        let before = if start == 0 { b'\n' } else { bytes[start - 1] };
        let typed = start >= 4 && &bytes[start - 4..start] == b":(0)";
        if before == b'\n' || before == b':' || typed {
            let name: Vec<u8> = bytes[value..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                .take(NAME_MAX + 1)
                .copied()
                .collect();
            let ends = bytes.get(value + name.len()).copied();
            if !name.is_empty() && name.len() <= NAME_MAX && matches!(ends, Some(b'\n' | b',')) {
                return String::from_utf8(name).ok().map(|n| n.to_ascii_lowercase());
            }
        }
        at = value;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstring_and_text_forms() {
        let netstring =
            b"###\n8:t=status,10:src=alpha,6:seq=1f,%%%\n33:1 0123456789abcdef0123456789abcdef,";
        assert_eq!(heartbeat_source(netstring).as_deref(), Some("alpha"));
        let text = b">>>\nt=status\nsrc=Node-2.example\n<<<\n";
        assert_eq!(heartbeat_source(text).as_deref(), Some("node-2.example"));
    }

    #[test]
    fn not_heartbeat() {
        assert_eq!(heartbeat_source(b"tn\x11..."), None);
        assert_eq!(heartbeat_source(b">>>\nt=status\n<<<\n"), None);
        assert_eq!(heartbeat_source(b">>>\nxsrc=a\n<<<\n"), None);
        assert_eq!(heartbeat_source(b">>>\nsrc=a b\n"), None);
    }
}
