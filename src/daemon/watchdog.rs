//! `watchdog DEVICE`, as Heartbeat: the kernel watchdog (softdog or a
//! hardware one) is written to from the event loop, so that a daemon that
//! hangs (or a kernel that stops scheduling it) gets the node rebooted
//! before the others take over its groups. A graceful exit writes the
//! magic `V` first, which disarms the watchdog.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Watchdog {
    device: String,
    file: File,
    every: Duration,
    next: Instant,
}

impl Watchdog {
    /// Opens the device; the interval is the keepalive, kept between
    /// 100 ms and 1 s (every write is a system call; softdog's margin is
    /// a minute by default).
    pub fn open(device: &str, keepalive: Duration, now: Instant) -> io::Result<Watchdog> {
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(device)?;
        let every = keepalive.clamp(Duration::from_millis(100), Duration::from_secs(1));
        let mut w = Watchdog {
            device: device.to_string(),
            file,
            every,
            next: now,
        };
        w.tickle(now)?;
        Ok(w)
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn next(&self) -> Instant {
        self.next
    }

    /// Writes to the device if it is time.
    pub fn tickle(&mut self, now: Instant) -> io::Result<()> {
        if now < self.next {
            return Ok(());
        }
        self.next = now + self.every;
        match self.file.write(b"\0") {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Stops feeding the device: the backstop of a reboot the daemon asked
    /// for (the kernel resets the node when the margin runs out).
    pub fn starve(&mut self) {
        self.next = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    }

    /// A graceful exit: the magic close disarms the watchdog.
    pub fn disarm(mut self) {
        let _ = self.file.write(b"V");
    }
}
