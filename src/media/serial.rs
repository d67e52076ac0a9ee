//! The serial medium: a null-modem cable on a UART (or a pty in tests),
//! raw 8N1 at `baud`, frames COBS-delimited ([`crate::wire::serial`]).
//!
//! A missing device, an unplugged USB adapter or a hung-up line is not an
//! error of the daemon: the link is down, logged once, and the device is
//! opened again every [`REOPEN_INTERVAL`] until it comes back.

use crate::wire::serial::{self as framing, Deframed, Deframer};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// How often a missing or failed device is tried again.
pub const REOPEN_INTERVAL: Duration = Duration::from_secs(1);

/// What came off the line.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Frame(Vec<u8>),
    /// Heartbeat's `>>>` text from the node named, and its bytes.
    Heartbeat(String, Vec<u8>),
    Noise,
}

#[derive(Debug)]
pub struct SerialLink {
    pub device: String,
    pub baud: u32,
    port: Option<OwnedFd>,
    deframer: Deframer,
    scratch: Vec<u8>,
}

impl SerialLink {
    pub fn new(device: &str, baud: u32) -> SerialLink {
        SerialLink {
            device: device.to_string(),
            baud,
            port: None,
            deframer: Deframer::new(),
            scratch: Vec::with_capacity(64),
        }
    }

    pub fn is_open(&self) -> bool {
        self.port.is_some()
    }

    pub fn fd(&self) -> Option<RawFd> {
        self.port.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Opens the device raw, 8N1, no flow control, non-blocking.
    pub fn open(&mut self) -> io::Result<RawFd> {
        use serialport::{DataBits, FlowControl, Parity, SerialPort, StopBits};
        let port = serialport::new(&self.device, self.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .open_native()
            .map_err(io::Error::from)?;
        // Stale bytes from before are no frame of ours.
        let _ = port.clear(serialport::ClearBuffer::All);
        // The loop reads and writes the descriptor itself, never through
        // serialport's blocking poll-with-timeout.
        use std::os::fd::{FromRawFd, IntoRawFd};
        // SAFETY: into_raw_fd hands over sole ownership of the descriptor.
        #[allow(unsafe_code)]
        let fd = unsafe { OwnedFd::from_raw_fd(port.into_raw_fd()) };
        set_nonblocking(&fd)?;
        let raw = fd.as_raw_fd();
        self.port = Some(fd);
        self.deframer = Deframer::new();
        Ok(raw)
    }

    /// Forgets the device (it failed); the caller deregisters it first.
    pub fn close(&mut self) {
        self.port = None;
    }

    /// Reads what is there and hands out complete frames and noise.
    /// An error or end of file means the device is gone.
    pub fn receive(&mut self, out: &mut Vec<Received>) -> io::Result<()> {
        let Some(fd) = self.port.as_ref() else {
            return Ok(());
        };
        let mut buf = [0u8; 1024];
        loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "hung up")),
                Ok(n) => {
                    self.deframer.push(&buf[..n]);
                    while let Some(item) = self.deframer.next_item() {
                        out.push(match item {
                            Deframed::Frame(f) => Received::Frame(f.to_vec()),
                            Deframed::Heartbeat(src, m) => Received::Heartbeat(src, m.to_vec()),
                            Deframed::Noise(_) => Received::Noise,
                        });
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(io::Error::from(e)),
            }
        }
    }

    /// Writes a Heartbeat text message as it is (it frames itself with
    /// `>>>`/`<<<`). A full output buffer drops it, as `Serial::send` does.
    pub fn send_text(&mut self, message: &[u8]) -> io::Result<()> {
        let Some(fd) = self.port.as_ref() else {
            return Ok(());
        };
        match nix::unistd::write(fd, message) {
            Ok(_) => Ok(()),
            Err(nix::errno::Errno::EAGAIN) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// Writes one frame, framed. A full output buffer (a slow line, or
    /// nobody reading a pty) drops the frame rather than queue stale ones.
    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let Some(fd) = self.port.as_ref() else {
            return Ok(());
        };
        self.scratch.clear();
        framing::encode(frame, &mut self.scratch);
        match nix::unistd::write(fd, &self.scratch) {
            Ok(_) => Ok(()),
            Err(nix::errno::Errno::EAGAIN) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        }
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(())
}
