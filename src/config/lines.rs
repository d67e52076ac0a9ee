//! Splitting a configuration file into numbered lines, shared by the three
//! parsers. Files are bytes: a line that is not UTF-8 is a finding, not a
//! panic, and the line numbers stay right.

use super::diag::{At, Diagnostics};

/// Upper bound on a configuration file we are willing to read. Real ha.cf
/// files are a few KiB; this keeps a wrong path (a disk image, /dev/zero)
/// from being read into memory.
pub const FILE_MAX: usize = 1 << 20;

/// A physical line, 1-based, with its `\r\n` or `\n` removed.
pub struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

/// Splits `bytes` into lines. Lines that are not UTF-8 are reported as
/// errors and skipped so that the rest of the file is still checked.
pub fn split<'a>(file: &str, bytes: &'a [u8], diags: &mut Diagnostics) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if bytes.len() > FILE_MAX {
        diags.error(
            &At::file(file),
            format!("file is {} bytes; at most {FILE_MAX} expected", bytes.len()),
        );
        return lines;
    }
    // A final newline ends the last line; it does not start another.
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(text) => lines.push(Line { number, text }),
            Err(_) => diags.error(
                &At {
                    file,
                    line: Some(number),
                    directive: None,
                },
                "line is not valid UTF-8 text",
            ),
        }
    }
    lines
}

/// Removes a `#` comment that starts the line or follows whitespace.
/// (`#` inside a token, as in a path `a#b`, is kept.)
pub fn strip_comment(text: &str) -> &str {
    let mut previous_is_space = true;
    for (i, c) in text.char_indices() {
        if c == '#' && previous_is_space {
            return &text[..i];
        }
        previous_is_space = c.is_whitespace();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments() {
        assert_eq!(strip_comment("keepalive 2 # two"), "keepalive 2 ");
        assert_eq!(strip_comment("# all"), "");
        assert_eq!(strip_comment("serial /dev/a#b"), "serial /dev/a#b");
        assert_eq!(strip_comment("node a\t#x"), "node a\t");
    }

    #[test]
    fn bad_utf8_is_reported_with_its_line() {
        let mut d = Diagnostics::new();
        let lines = split("ha.cf", b"node a\n\xff\xfe\r\nnode b\r\n", &mut d);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].text, "node b");
        assert_eq!(lines[1].number, 3);
        let errors: Vec<String> = d.errors().map(|e| e.to_string()).collect();
        assert_eq!(errors, ["ha.cf:2: line is not valid UTF-8 text"]);
    }
}
