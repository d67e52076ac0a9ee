//! The little HTTP/1.x a metrics endpoint needs: a request head read with
//! a bound (`GET /metrics` is all it serves), and the answers. Bytes from
//! the network are hostile: nothing here allocates more than the bound or
//! panics on any input.

/// A request head longer than this is refused (431).
pub const HEAD_MAX: usize = 8 * 1024;

/// What the bytes read so far are.
#[derive(Debug, PartialEq, Eq)]
pub enum Head<'a> {
    /// Not a whole head yet: read more.
    Incomplete,
    /// A whole head: its method and path (the query cut off).
    Request { method: &'a str, path: &'a str },
    /// Longer than [`HEAD_MAX`] without ending.
    TooLarge,
    /// Not an HTTP/1.x request line.
    Bad,
}

/// Looks at the bytes read so far from a client.
pub fn head(buf: &[u8]) -> Head<'_> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| {
        // Bare newlines, as some tools send them.
        buf.windows(2).position(|w| w == b"\n\n")
    });
    let Some(end) = end else {
        return if buf.len() > HEAD_MAX {
            Head::TooLarge
        } else {
            Head::Incomplete
        };
    };
    if end > HEAD_MAX {
        return Head::TooLarge;
    }
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(end);
    let Ok(line) = std::str::from_utf8(&buf[..line_end]) else {
        return Head::Bad;
    };
    let mut words = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Head::Bad;
    };
    let token = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !token || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Head::Bad;
    }
    let path = target.split('?').next().unwrap_or(target);
    Head::Request { method, path }
}

/// A whole response: status line, the headers a scraper needs, the body;
/// the connection is closed after it.
pub fn response(status: u16, content_type: &str, body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let allow = if status == 405 { "Allow: GET\r\n" } else { "" };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// The answer to a whole head: the metrics for `GET /metrics` (built only
/// then, by `metrics`), else the status that says why not.
pub fn answer(head: &Head<'_>, metrics: impl FnOnce() -> String) -> Option<Vec<u8>> {
    let text = "text/plain; charset=utf-8";
    Some(match head {
        Head::Incomplete => return None,
        Head::TooLarge => response(431, text, "request head too large\n"),
        Head::Bad => response(400, text, "bad request\n"),
        Head::Request { path, .. } if *path != "/metrics" => {
            response(404, text, "only /metrics is served\n")
        }
        Head::Request { method, .. } if *method != "GET" => {
            response(405, text, "only GET is served\n")
        }
        Head::Request { .. } => response(200, super::exposition::CONTENT_TYPE, &metrics()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_is_read_whole() {
        let req = b"GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n";
        for cut in 0..req.len() - 1 {
            assert_eq!(head(&req[..cut]), Head::Incomplete, "{cut}");
        }
        assert_eq!(
            head(req),
            Head::Request {
                method: "GET",
                path: "/metrics"
            }
        );
    }

    #[test]
    fn bad_and_large_heads_are_refused() {
        assert_eq!(head(b"GARBAGE\r\n\r\n"), Head::Bad);
        assert_eq!(head(b"get /metrics HTTP/1.1\r\n\r\n"), Head::Bad);
        assert_eq!(head(b"GET metrics HTTP/1.1\r\n\r\n"), Head::Bad);
        assert_eq!(head(b"GET /metrics SPDY/3\r\n\r\n"), Head::Bad);
        assert_eq!(head(b"\xff\xfe /metrics HTTP/1.1\r\n\r\n"), Head::Bad);
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.resize(HEAD_MAX + 10, b'a');
        assert_eq!(head(&big), Head::TooLarge);
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(head(&big), Head::TooLarge);
    }

    #[test]
    fn answers_by_path_and_method() {
        let status = |req: &[u8]| {
            let out = answer(&head(req), || "m 1\n".into()).expect("whole");
            String::from_utf8_lossy(&out[..12]).to_string()
        };
        assert_eq!(status(b"GET /metrics HTTP/1.0\n\n"), "HTTP/1.1 200");
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 404");
        assert_eq!(status(b"POST /metrics HTTP/1.1\r\n\r\n"), "HTTP/1.1 405");
        assert_eq!(status(b"nonsense\r\n\r\n"), "HTTP/1.1 400");
        assert!(answer(&head(b"GET /metrics HTTP/1.1\r\n"), String::new).is_none());
        let ok = answer(&head(b"GET /metrics HTTP/1.1\r\n\r\n"), || "m 1\n".into()).expect("whole");
        let ok = String::from_utf8_lossy(&ok);
        assert!(ok.contains("Content-Length: 4\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nm 1\n"), "{ok}");
    }
}
