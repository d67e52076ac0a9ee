//! The daemon's log: one event per line, to stderr (in the foreground),
//! `logfile`, `debugfile` and syslog's `logfacility`, as ha.cf says.

use crate::config::hacf::Logging;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "WARN",
            Level::Error => "ERROR",
        }
    }

    fn syslog_priority(self) -> libc::c_int {
        match self {
            Level::Debug => libc::LOG_DEBUG,
            Level::Info => libc::LOG_INFO,
            Level::Warning => libc::LOG_WARNING,
            Level::Error => libc::LOG_ERR,
        }
    }
}

pub struct Log {
    node: String,
    stderr: bool,
    logfile: Option<File>,
    debugfile: Option<File>,
    syslog: bool,
    /// ha.cf `debug`, changed by SIGUSR1/SIGUSR2.
    pub debug: u8,
}

fn facility(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "auth" => libc::LOG_AUTH,
        "authpriv" => libc::LOG_AUTHPRIV,
        "cron" => libc::LOG_CRON,
        "daemon" => libc::LOG_DAEMON,
        "kern" => libc::LOG_KERN,
        "lpr" => libc::LOG_LPR,
        "mail" => libc::LOG_MAIL,
        "news" => libc::LOG_NEWS,
        "syslog" => libc::LOG_SYSLOG,
        "user" => libc::LOG_USER,
        "uucp" => libc::LOG_UUCP,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => return None,
    })
}

fn append(path: &str) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Log {
    /// A log to stderr only, until the configuration is read.
    pub fn stderr(node: &str) -> Log {
        Log {
            node: node.to_string(),
            stderr: true,
            logfile: None,
            debugfile: None,
            syslog: false,
            debug: 0,
        }
    }

    /// Opens the destinations ha.cf names. `stderr`: the daemon runs in
    /// the foreground. Returns problems worth a warning.
    pub fn configure(&mut self, logging: &Logging, stderr: bool) -> Vec<String> {
        let mut problems = Vec::new();
        self.stderr = stderr;
        self.debug = logging.debug.value;
        self.logfile = None;
        self.debugfile = None;
        if let Some(f) = &logging.logfile {
            match append(&f.value) {
                Ok(file) => self.logfile = Some(file),
                Err(e) => problems.push(format!("logfile {}: {e}", f.value)),
            }
        }
        if let Some(f) = &logging.debugfile {
            match append(&f.value) {
                Ok(file) => self.debugfile = Some(file),
                Err(e) => problems.push(format!("debugfile {}: {e}", f.value)),
            }
        }
        self.syslog = false;
        if let Some(name) = &logging.facility.value {
            match facility(name) {
                Some(fac) => self.open_syslog(fac),
                None => problems.push(format!("logfacility {name}: not a syslog facility")),
            }
        }
        problems
    }

    fn open_syslog(&mut self, fac: libc::c_int) {
        // openlog keeps the pointer: the identity must live on.
        static IDENT: &[u8] = b"tandem\0";
        // SAFETY: IDENT is a NUL-terminated static string.
        #[allow(unsafe_code)]
        unsafe {
            libc::openlog(IDENT.as_ptr().cast(), libc::LOG_PID, fac)
        };
        self.syslog = true;
    }

    /// ldirectord's `logfile`: a syslog facility name (`local0`) or a
    /// file. Without one, syslog's `daemon` facility unless on stderr.
    pub fn configure_target(&mut self, target: Option<&str>, stderr: bool) -> Vec<String> {
        self.stderr = stderr;
        self.logfile = None;
        self.syslog = false;
        match target {
            Some(t) => match facility(t) {
                Some(fac) => self.open_syslog(fac),
                None => match append(t) {
                    Ok(f) => self.logfile = Some(f),
                    Err(e) => return vec![format!("logfile {t}: {e}")],
                },
            },
            None if !stderr => self.open_syslog(libc::LOG_DAEMON),
            None => {}
        }
        Vec::new()
    }

    pub fn log(&mut self, level: Level, msg: &str) {
        if level == Level::Debug && self.debug == 0 {
            return;
        }
        let line = format!("{} {}: {}: {msg}\n", timestamp(), self.node, level.name());
        if self.stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        if level >= Level::Info {
            if let Some(f) = &mut self.logfile {
                let _ = f.write_all(line.as_bytes());
            }
        }
        if let Some(f) = &mut self.debugfile {
            let _ = f.write_all(line.as_bytes());
        }
        if self.syslog && level >= Level::Info {
            if let Ok(c) = CString::new(msg.replace('\0', " ")) {
                // SAFETY: both strings are NUL-terminated; "%s" takes one.
                #[allow(unsafe_code)]
                unsafe {
                    libc::syslog(level.syslog_priority(), c"%s".as_ptr(), c.as_ptr());
                }
            }
        }
    }

    pub fn info(&mut self, msg: &str) {
        self.log(Level::Info, msg)
    }
    pub fn warn(&mut self, msg: &str) {
        self.log(Level::Warning, msg)
    }
    pub fn error(&mut self, msg: &str) {
        self.log(Level::Error, msg)
    }
    pub fn debug(&mut self, msg: &str) {
        self.log(Level::Debug, msg)
    }
}

/// UTC, RFC 3339 with microseconds, without a date crate.
pub fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}
