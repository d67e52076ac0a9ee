//! Frames on a serial line: COBS (Consistent Overhead Byte Stuffing) with
//! 0x00 as the delimiter before and after each frame.
//!
//! COBS removes every zero from the frame, so a zero always means "frame
//! boundary". After line noise, a cable re-plug or a frame cut in half, the
//! receiver is back in step at the next zero: it loses at most the damaged
//! frame. The cost is 3 bytes a frame (one code byte, two delimiters), so a
//! 40-byte keepalive is 43 bytes on the line.
//!
//! Heartbeat 3.0.6 writes text messages (`>>>` … `<<<`) on its serial
//! links, with no zero bytes; the deframer recognises one as a whole so
//! that a half-migrated pair is noticed on a serial-only link too.

use super::frame::FRAME_MAX;

/// Encoded size of the longest frame, with its code bytes.
pub const ENCODED_MAX: usize = FRAME_MAX + FRAME_MAX / 254 + 1;
/// The longest run of bytes kept while looking for a delimiter: enough for
/// a Heartbeat text message, which tandem only needs to recognise.
pub const BUFFER_MAX: usize = 1024;

/// Appends `frame`, COBS-encoded and delimited, to `out`.
pub fn encode(frame: &[u8], out: &mut Vec<u8>) {
    out.push(0);
    let mut code_at = out.len();
    out.push(0);
    let mut code: u8 = 1;
    for &b in frame {
        if b == 0 {
            out[code_at] = code;
            code_at = out.len();
            out.push(0);
            code = 1;
        } else {
            out.push(b);
            code += 1;
            if code == 0xff {
                out[code_at] = code;
                code_at = out.len();
                out.push(0);
                code = 1;
            }
        }
    }
    out[code_at] = code;
    out.push(0);
}

/// Decodes one COBS block (without delimiters) into `out`. `None` when the
/// block is not valid COBS (noise).
pub fn decode(block: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    let mut i = 0;
    while i < block.len() {
        let code = usize::from(block[i]);
        let end = i + code;
        if code == 0 || end > block.len() {
            return None;
        }
        out.extend_from_slice(&block[i + 1..end]);
        i = end;
        if code < 0xff && i < block.len() {
            out.push(0);
        }
    }
    Some(())
}

/// What came off the line.
#[derive(Debug, PartialEq, Eq)]
pub enum Deframed<'a> {
    /// A decoded frame (still to be authenticated).
    Frame(&'a [u8]),
    /// A Heartbeat text message (its bytes) from the node named by its
    /// `src` field.
    Heartbeat(String, &'a [u8]),
    /// `n` bytes of noise: a damaged frame or garbage between frames.
    Noise(usize),
}

/// A Heartbeat text message begins with this line.
const TEXT_START: &[u8] = b">>>\n";
/// The start line as it follows another line: where a damaged text
/// stream is back in step (Heartbeat's reader, too, looks for it).
const TEXT_RESYNC: &[u8] = b"\n>>>\n";

/// Turns a serial byte stream into frames, resynchronising at zeros (and,
/// for Heartbeat's text, which has none, at the next `>>>` line).
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Skipping an over-long run until the next delimiter.
    skipping: usize,
    /// The last bytes skipped, to find a `>>>` line among them.
    skipped_tail: Vec<u8>,
    frame: Vec<u8>,
    pending: Vec<u8>,
}

impl Deframer {
    pub fn new() -> Self {
        Deframer {
            buf: Vec::with_capacity(BUFFER_MAX),
            skipping: 0,
            skipped_tail: Vec::with_capacity(TEXT_RESYNC.len()),
            frame: Vec::with_capacity(FRAME_MAX),
            pending: Vec::new(),
        }
    }

    /// Feeds bytes read from the line. Call [`Deframer::next_item`] until it
    /// returns `None` after each push.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next complete item from what was pushed, if any.
    pub fn next_item(&mut self) -> Option<Deframed<'_>> {
        let mut consumed = 0;
        let mut result: Option<Item> = None;
        for (i, &b) in self.pending.iter().enumerate() {
            consumed = i + 1;
            if b == 0 {
                if self.skipping > 0 {
                    let n = self.skipping;
                    self.skipping = 0;
                    result = Some(Item::Noise(n));
                    break;
                }
                if self.buf.is_empty() {
                    continue;
                }
                result = Some(self.finish_block());
                break;
            }
            if self.skipping > 0 {
                self.skipping += 1;
                if self.skipped_tail.len() == TEXT_RESYNC.len() {
                    self.skipped_tail.remove(0);
                }
                self.skipped_tail.push(b);
                if self.skipped_tail == TEXT_RESYNC {
                    // A text message starts: back in step without a zero.
                    result = Some(Item::Noise(self.skipping - TEXT_START.len()));
                    self.skipping = 0;
                    self.buf.extend_from_slice(TEXT_START);
                    break;
                }
                continue;
            }
            self.buf.push(b);
            if b == b'\n' && self.buf.len() > TEXT_START.len() && self.buf.ends_with(TEXT_RESYNC) {
                // A text message starts inside a run that is none (its own
                // start or end line was damaged): what came before is
                // noise, and the new message is read from its start line.
                let n = self.buf.len() - TEXT_START.len();
                self.buf.clear();
                self.buf.extend_from_slice(TEXT_START);
                result = Some(Item::Noise(n));
                break;
            }
            if b == b'\n' && self.buf.starts_with(b">>>\n") && self.buf.ends_with(b"<<<\n") {
                result = Some(self.finish_heartbeat());
                break;
            }
            if self.buf.len() == BUFFER_MAX {
                self.skipping = self.buf.len();
                self.skipped_tail.clear();
                self.buf.clear();
            }
        }
        self.pending.drain(..consumed);
        match result? {
            Item::Frame => Some(Deframed::Frame(&self.frame)),
            Item::Heartbeat(src) => Some(Deframed::Heartbeat(src, &self.frame)),
            Item::Noise(n) => Some(Deframed::Noise(n)),
        }
    }

    fn finish_block(&mut self) -> Item {
        let n = self.buf.len();
        let ok = n <= ENCODED_MAX && decode(&self.buf, &mut self.frame).is_some();
        self.buf.clear();
        if ok {
            Item::Frame
        } else {
            Item::Noise(n)
        }
    }

    fn finish_heartbeat(&mut self) -> Item {
        let item = match super::sniff::heartbeat_source(&self.buf) {
            Some(src) => {
                self.frame.clear();
                self.frame.extend_from_slice(&self.buf);
                Item::Heartbeat(src.to_string())
            }
            None => Item::Noise(self.buf.len()),
        };
        self.buf.clear();
        item
    }
}

enum Item {
    Frame,
    Heartbeat(String),
    Noise(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(frame: &[u8]) {
        let mut line = Vec::new();
        encode(frame, &mut line);
        assert!(!line[1..line.len() - 1].contains(&0));
        let mut d = Deframer::new();
        d.push(&line);
        assert_eq!(d.next_item(), Some(Deframed::Frame(frame)), "{frame:?}");
        assert_eq!(d.next_item(), None);
    }

    #[test]
    fn cobs_round_trips() {
        roundtrip(&[]);
        roundtrip(&[0]);
        roundtrip(&[0, 0, 1]);
        roundtrip(&[1, 2, 3]);
        roundtrip(&[7; 254]);
        roundtrip(&[7; 255]);
        let long: Vec<u8> = (0..=255u8).cycle().take(FRAME_MAX).collect();
        roundtrip(&long);
    }

    #[test]
    fn keepalive_costs_three_bytes_on_the_line() {
        let mut line = Vec::new();
        encode(&[1u8; 40], &mut line);
        assert_eq!(line.len(), 43);
    }

    #[test]
    fn resynchronises_after_noise_and_cut_frames() {
        let mut line = vec![0x55, 0x13, 0xff, 0x07];
        encode(b"first", &mut line);
        // A frame cut in half by a cable re-plug.
        let mut cut = Vec::new();
        encode(b"lost in the middle", &mut cut);
        line.extend_from_slice(&cut[..8]);
        encode(b"second", &mut line);
        let mut d = Deframer::new();
        // Byte by byte, as a slow UART delivers it.
        let mut got = Vec::new();
        for b in line {
            d.push(&[b]);
            while let Some(item) = d.next_item() {
                got.push(match item {
                    Deframed::Frame(f) => String::from_utf8_lossy(f).into_owned(),
                    Deframed::Noise(_) => "noise".into(),
                    Deframed::Heartbeat(s, _) => s,
                });
            }
        }
        // The leading noise and the cut frame are each one noise item; the
        // frames on either side survive, since every frame begins and ends
        // with a delimiter.
        assert!(got.contains(&"first".to_string()), "{got:?}");
        assert!(got.contains(&"second".to_string()), "{got:?}");
        assert_eq!(got.iter().filter(|g| *g == "noise").count(), 2, "{got:?}");
    }

    #[test]
    fn endless_noise_is_bounded() {
        let mut d = Deframer::new();
        d.push(&vec![0x41; 10 * BUFFER_MAX]);
        assert_eq!(d.next_item(), None);
        assert!(d.buf.len() < BUFFER_MAX);
        d.push(&[0]);
        assert_eq!(d.next_item(), Some(Deframed::Noise(10 * BUFFER_MAX)));
    }

    #[test]
    fn heartbeat_text_resynchronises_at_the_next_start_line() {
        // Heartbeat's text has no zero bytes: a damaged start or end line
        // must not leave the link deaf until a native frame comes by.
        let msg = b">>>\nt=status\nsrc=beta\n<<<\n";
        let mut bad_start = msg.to_vec();
        bad_start[1] ^= 0x04;
        let mut bad_end = msg.to_vec();
        let end = bad_end.len() - 3;
        bad_end[end] ^= 0x01;
        let mut long_garbage = vec![b'x'; 3 * BUFFER_MAX];
        long_garbage.push(b'\n');
        for damaged in [bad_start, bad_end, long_garbage] {
            let mut line = damaged.clone();
            line.extend_from_slice(msg);
            line.extend_from_slice(msg);
            let mut d = Deframer::new();
            d.push(&line);
            let mut got = Vec::new();
            while let Some(item) = d.next_item() {
                got.push(match item {
                    Deframed::Heartbeat(s, m) => {
                        assert_eq!(m, &msg[..]);
                        s
                    }
                    Deframed::Noise(_) => "noise".into(),
                    Deframed::Frame(_) => "frame".into(),
                });
            }
            assert_eq!(got, ["noise", "beta", "beta"], "{damaged:?}");
        }
    }

    #[test]
    fn recognises_heartbeat_text() {
        let msg = b">>>\nt=status\nst=active\nsrc=Beta\nseq=1a\nauth=1 abcdef\n<<<\n";
        let mut d = Deframer::new();
        d.push(msg);
        assert_eq!(
            d.next_item(),
            Some(Deframed::Heartbeat("beta".into(), &msg[..]))
        );
    }
}
