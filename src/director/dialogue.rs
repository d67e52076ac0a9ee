//! Negotiate checks for the line protocols (SMTP, FTP, POP, IMAP, NNTP),
//! pure: a script of steps, each optionally sending a line and expecting
//! an answer, fed whatever bytes the server sends. The event loop moves
//! the bytes; this decides what to send next and when the server has
//! passed or failed, naming what it answered.
//!
//! The conversations are ldirectord's: greet, log in when `login` and
//! `passwd` are given (FTP logs in anonymously otherwise), and leave
//! politely.

use crate::config::ldirectord::Service;

/// The longest line a check accepts before calling the server broken.
const LINE_MAX: usize = 4096;
/// The most lines one answer may have (multi-line greetings included).
const LINES_MAX: usize = 256;

/// What a step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A numeric reply (SMTP, FTP, NNTP) with one of these codes; the
    /// continuation lines of a multi-line reply (`250-…`) are skipped.
    Code(&'static [u16]),
    /// A POP reply: `+OK` (`-ERR` fails).
    PopOk,
    /// An IMAP untagged greeting: `* OK` (or `* PREAUTH`).
    ImapGreeting,
    /// The tagged completion of an IMAP command: `TAG OK`.
    ImapTagged(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub send: Option<Vec<u8>>,
    pub expect: Expect,
}

/// What the check does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Send these bytes, then keep reading.
    Send(Vec<u8>),
    /// Keep reading.
    Wait,
    /// The server passed.
    Passed,
    /// The server failed, and why.
    Failed(String),
}

/// The script for `service`, or `None` when the service is not a line
/// protocol (HTTP, DNS, LDAP have their own checks).
pub fn script(service: Service, login: Option<(&str, &str)>) -> Option<Vec<Step>> {
    let line = |s: String| -> Option<Vec<u8>> {
        // Configuration text must not add lines of its own.
        let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        Some(format!("{clean}\r\n").into_bytes())
    };
    let step = |send: Option<Vec<u8>>, expect| Step { send, expect };
    Some(match service {
        Service::Smtp | Service::Submission => vec![
            step(None, Expect::Code(&[220])),
            step(line("EHLO tandem-director".into()), Expect::Code(&[250])),
            step(line("QUIT".into()), Expect::Code(&[221])),
        ],
        Service::Ftp => {
            let (user, pass) = login.unwrap_or(("anonymous", "tandem-director@"));
            vec![
                step(None, Expect::Code(&[220])),
                step(line(format!("USER {user}")), Expect::Code(&[230, 331])),
                step(line(format!("PASS {pass}")), Expect::Code(&[230, 202])),
                step(line("QUIT".into()), Expect::Code(&[221])),
            ]
        }
        Service::Nntp => vec![
            step(None, Expect::Code(&[200, 201])),
            step(line("QUIT".into()), Expect::Code(&[205])),
        ],
        Service::Pop | Service::Pops => {
            let mut s = vec![step(None, Expect::PopOk)];
            if let Some((user, pass)) = login {
                s.push(step(line(format!("USER {user}")), Expect::PopOk));
                s.push(step(line(format!("PASS {pass}")), Expect::PopOk));
            }
            s.push(step(line("QUIT".into()), Expect::PopOk));
            s
        }
        Service::Imap | Service::Imaps => {
            let mut s = vec![step(None, Expect::ImapGreeting)];
            if let Some((user, pass)) = login {
                s.push(step(
                    line(format!(
                        "t1 LOGIN {} {}",
                        imap_string(user),
                        imap_string(pass)
                    )),
                    Expect::ImapTagged("t1"),
                ));
            }
            s.push(step(line("t2 LOGOUT".into()), Expect::ImapTagged("t2")));
            s
        }
        _ => return None,
    })
}

/// An IMAP quoted string.
fn imap_string(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// One conversation in progress.
#[derive(Debug)]
pub struct Dialogue {
    steps: Vec<Step>,
    at: usize,
    buf: Vec<u8>,
    lines: usize,
}

impl Dialogue {
    pub fn new(steps: Vec<Step>) -> Dialogue {
        Dialogue {
            steps,
            at: 0,
            buf: Vec::new(),
            lines: 0,
        }
    }

    /// What to send as soon as connected (most servers greet first).
    pub fn opening(&self) -> Option<Vec<u8>> {
        self.steps.first().and_then(|s| s.send.clone())
    }

    /// The server sent `data`.
    pub fn on_data(&mut self, data: &[u8]) -> Progress {
        self.buf.extend_from_slice(data);
        let mut send = Vec::new();
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > LINE_MAX {
                    return Progress::Failed("a line longer than 4096 bytes".into());
                }
                break;
            };
            let raw: Vec<u8> = self.buf.drain(..=end).collect();
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\r', '\n']);
            self.lines += 1;
            if self.lines > LINES_MAX {
                return Progress::Failed("more than 256 lines".into());
            }
            let Some(step) = self.steps.get(self.at) else {
                break;
            };
            match judge(&step.expect, text) {
                Line::More => continue,
                Line::Bad => return Progress::Failed(format!("answered `{}`", short(text))),
                Line::Good => {
                    self.at += 1;
                    self.lines = 0;
                    match self.steps.get(self.at) {
                        None => return Progress::Passed,
                        Some(next) => send.extend(next.send.clone().unwrap_or_default()),
                    }
                }
            }
        }
        if send.is_empty() {
            Progress::Wait
        } else {
            Progress::Send(send)
        }
    }

    /// The server closed the connection.
    pub fn on_close(&self) -> Progress {
        if self.at >= self.steps.len() {
            Progress::Passed
        } else {
            Progress::Failed("closed the connection mid-conversation".into())
        }
    }
}

enum Line {
    Good,
    Bad,
    More,
}

fn judge(expect: &Expect, line: &str) -> Line {
    match expect {
        Expect::Code(codes) => {
            let b = line.as_bytes();
            if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
                // Text inside a multi-line reply that does not repeat the
                // code (old FTP servers) is skipped.
                return Line::More;
            }
            let code: u16 = line[..3].parse().unwrap_or(0);
            if b.get(3) == Some(&b'-') {
                return Line::More;
            }
            if codes.contains(&code) {
                Line::Good
            } else {
                Line::Bad
            }
        }
        Expect::PopOk => {
            if line.starts_with("+OK") {
                Line::Good
            } else {
                Line::Bad
            }
        }
        Expect::ImapGreeting => {
            let up = line.to_ascii_uppercase();
            if up.starts_with("* OK") || up.starts_with("* PREAUTH") {
                Line::Good
            } else {
                Line::Bad
            }
        }
        Expect::ImapTagged(tag) => {
            if line.starts_with('*') {
                return Line::More;
            }
            let mut w = line.split_whitespace();
            match (w.next(), w.next().map(|s| s.to_ascii_uppercase())) {
                (Some(t), Some(ok)) if t == *tag && ok == "OK" => Line::Good,
                _ => Line::Bad,
            }
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds the server's lines one by one, collecting what the check sent.
    fn talk(service: Service, login: Option<(&str, &str)>, server: &[&str]) -> (Progress, String) {
        let mut d = Dialogue::new(script(service, login).unwrap());
        let mut sent = String::from_utf8(d.opening().unwrap_or_default()).unwrap();
        let mut last = Progress::Wait;
        for line in server {
            last = d.on_data(format!("{line}\r\n").as_bytes());
            if let Progress::Send(b) = &last {
                sent.push_str(&String::from_utf8_lossy(b));
            }
            if matches!(last, Progress::Passed | Progress::Failed(_)) {
                break;
            }
        }
        (last, sent)
    }

    #[test]
    fn smtp_with_a_multi_line_ehlo_answer() {
        let (p, sent) = talk(
            Service::Smtp,
            None,
            &[
                "220 mx ESMTP",
                "250-mx",
                "250-PIPELINING",
                "250 8BITMIME",
                "221 bye",
            ],
        );
        assert_eq!(p, Progress::Passed);
        assert_eq!(sent, "EHLO tandem-director\r\nQUIT\r\n");
        let (p, _) = talk(Service::Smtp, None, &["554 no service"]);
        assert_eq!(p, Progress::Failed("answered `554 no service`".into()));
    }

    #[test]
    fn ftp_logs_in_anonymously_and_pop_and_imap_with_the_login() {
        let (p, sent) = talk(
            Service::Ftp,
            None,
            &[
                "220-welcome",
                " to the test",
                "220 ready",
                "331 password",
                "230 ok",
                "221 bye",
            ],
        );
        assert_eq!(p, Progress::Passed);
        assert!(sent.starts_with("USER anonymous\r\nPASS tandem-director@\r\n"));
        let (p, sent) = talk(
            Service::Pop,
            Some(("u", "p")),
            &["+OK ready", "+OK", "+OK logged in", "+OK bye"],
        );
        assert_eq!(p, Progress::Passed);
        assert_eq!(sent, "USER u\r\nPASS p\r\nQUIT\r\n");
        let (p, _) = talk(
            Service::Pop,
            Some(("u", "bad")),
            &["+OK ready", "+OK", "-ERR auth"],
        );
        assert_eq!(p, Progress::Failed("answered `-ERR auth`".into()));
        let (p, sent) = talk(
            Service::Imap,
            Some(("u", "p\"q")),
            &["* OK IMAP ready", "t1 OK logged in", "* BYE", "t2 OK done"],
        );
        assert_eq!(p, Progress::Passed);
        assert_eq!(sent, "t1 LOGIN \"u\" \"p\\\"q\"\r\nt2 LOGOUT\r\n");
    }

    #[test]
    fn hostile_answers_fail_cleanly() {
        let mut d = Dialogue::new(script(Service::Nntp, None).unwrap());
        assert!(matches!(
            d.on_data(&[b'x'; LINE_MAX + 1]),
            Progress::Failed(_)
        ));
        let mut d = Dialogue::new(script(Service::Smtp, None).unwrap());
        let mut last = Progress::Wait;
        for _ in 0..300 {
            last = d.on_data(b"220-more\r\n");
        }
        assert_eq!(last, Progress::Failed("more than 256 lines".into()));
        let d = Dialogue::new(script(Service::Nntp, None).unwrap());
        assert!(matches!(d.on_close(), Progress::Failed(_)));
        // Login text cannot add a command of its own.
        let s = script(Service::Ftp, Some(("u\r\nDELE x", "p"))).unwrap();
        assert_eq!(s[1].send.as_deref(), Some(&b"USER uDELE x\r\n"[..]));
    }
}
