//! The HTTP negotiate check's two halves, pure: the request a real server
//! is sent, and the verdict on what it answered. HTTP/1.0 with a Host
//! header and `Connection: close`: the answer ends when the server closes
//! and is never chunked, so the check needs no HTTP library.

use crate::config::ldirectord::HttpMethod;

/// The most of an answer a check reads; the verdict is on this much.
pub const ANSWER_MAX: usize = 256 * 1024;

/// The request for `path` (ldirectord's `request`, with or without its
/// leading slash) on `host` (the virtualhost, else the server's address).
pub fn request(method: HttpMethod, host: &str, path: &str) -> Vec<u8> {
    let method = match method {
        HttpMethod::Get => "GET",
        HttpMethod::Head => "HEAD",
    };
    let slash = if path.starts_with('/') { "" } else { "/" };
    // Request text comes from the configuration; control characters would
    // split the request line, so they are left out.
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    format!(
        "{method} {slash}{} HTTP/1.0\r\nHost: {}\r\nUser-Agent: tandem-director\r\nConnection: close\r\n\r\n",
        clean(path),
        clean(host)
    )
    .into_bytes()
}

/// Why an HTTP answer fails the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    #[error("no status line")]
    NoStatusLine,
    #[error("not an HTTP answer: `{0}`")]
    NotHttp(String),
    #[error("no status code in `{0}`")]
    NoStatusCode(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("the answer does not match `{0}`")]
    NoMatch(String),
}

/// The verdict on an answer: a 2xx status, and when `receive` is given,
/// a match in the body (ldirectord matches the page's content).
pub fn judge(answer: &[u8], receive: Option<&regex::Regex>) -> Result<(), HttpFailure> {
    let line_end = answer
        .windows(2)
        .position(|w| w == b"\r\n")
        .or_else(|| answer.iter().position(|&b| b == b'\n'))
        .ok_or(HttpFailure::NoStatusLine)?;
    let status_line = String::from_utf8_lossy(&answer[..line_end]);
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or("");
    if !version.starts_with("HTTP/") {
        return Err(HttpFailure::NotHttp(short(&status_line)));
    }
    let code: u16 = words
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| HttpFailure::NoStatusCode(short(&status_line)))?;
    if !(200..300).contains(&code) {
        return Err(HttpFailure::Status(code));
    }
    let Some(receive) = receive else {
        return Ok(());
    };
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| &answer[p + 4..])
        .unwrap_or(&[]);
    let body = String::from_utf8_lossy(body);
    if receive.is_match(&body) {
        Ok(())
    } else {
        Err(HttpFailure::NoMatch(receive.as_str().to_string()))
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_http_1_0_with_the_host() {
        let r = request(HttpMethod::Get, "www.example.test", "index.html");
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "GET /index.html HTTP/1.0\r\nHost: www.example.test\r\nUser-Agent: tandem-director\r\nConnection: close\r\n\r\n"
        );
        let r = request(HttpMethod::Head, "198.51.100.2:8080", "/a b\r\nX: y");
        assert!(String::from_utf8(r)
            .unwrap()
            .starts_with("HEAD /a bX: y HTTP/1.0\r\nHost: 198.51.100.2:8080\r\n"));
    }

    /// The verdict as the status and the log show it.
    fn judge(answer: &[u8], receive: Option<&regex::Regex>) -> Result<(), String> {
        super::judge(answer, receive).map_err(|e| e.to_string())
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            super::judge(b"HTTP/1.1 404 Not Found\r\n\r\n", None),
            Err(HttpFailure::Status(404))
        );
        let ok = regex::Regex::new("Test Page").unwrap();
        let page = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Test Page</h1>";
        assert_eq!(judge(page, Some(&ok)), Ok(()));
        assert_eq!(judge(page, None), Ok(()));
        let other = regex::Regex::new("^Maintenance").unwrap();
        assert_eq!(
            judge(page, Some(&other)),
            Err("the answer does not match `^Maintenance`".into())
        );
        assert_eq!(
            judge(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", None),
            Err("HTTP status 503".into())
        );
        assert_eq!(judge(b"", None), Err("no status line".into()));
        assert_eq!(
            judge(b"SSH-2.0-OpenSSH_9.2\r\n", None),
            Err("not an HTTP answer: `SSH-2.0-OpenSSH_9.2`".into())
        );
        // The status line alone is judged; the body is only searched.
        assert!(judge(b"HTTP/1.0 204 No Content\r\n\r\n", Some(&ok)).is_err());
    }
}
