//! A stranger on every link who never has the key: it captures what the
//! nodes send and injects, at random times, replays of those captures on
//! any link to any node, copies with a flipped bit or cut short, captures
//! re-addressed to claim another node, forged Heartbeat messages naming
//! any node, and noise. It has an RNG of its own, so the scenario a seed
//! draws is the same with it. Its bytes are never "clean" deliveries: the
//! checkers do not count them as news from anyone.

use super::rng::Rng;
use super::*;

/// Captures kept (the newest).
const KEEP: usize = 64;

pub(super) struct Adversary {
    rng: Rng,
    /// Per node, the datagrams and serial-line bytes delivered to it: a
    /// stranger beside a node sees what reaches that node.
    datagrams: Vec<VecDeque<Vec<u8>>>,
    lines: Vec<VecDeque<Vec<u8>>>,
}

impl Adversary {
    pub(super) fn new(seed: u64) -> Adversary {
        Adversary {
            rng: Rng::new(seed ^ 0x5eed_ad7e_4a11_0bad),
            datagrams: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// What reached node `to` (on a serial link or not): the stranger
    /// beside it keeps a copy. What was lost on the way it never sees, so
    /// its replays are never news the node missed: a capture of a frame
    /// lost in transit, played back late, is a delay only timestamps could
    /// tell from a slow network (neither protocol has them).
    pub(super) fn capture(&mut self, to: NodeId, serial: bool, bytes: &[u8]) {
        let per = if serial {
            &mut self.lines
        } else {
            &mut self.datagrams
        };
        let i = usize::from(to);
        if per.len() <= i {
            per.resize_with(i + 1, VecDeque::new);
        }
        let buf = &mut per[i];
        if buf.len() == KEEP {
            buf.pop_front();
        }
        buf.push_back(bytes.to_vec());
    }

    /// The pause before the next injection: a few per keepalive.
    pub(super) fn pause(&mut self, keepalive: u64) -> u64 {
        self.rng.range(keepalive / 8, keepalive)
    }

    /// Bytes to inject on a link (`serial`: into the byte stream), in a
    /// cluster of `nodes` nodes. `replays`: whether captures may be played
    /// back whole (see [`super::run`] for when they may not).
    pub(super) fn craft(
        &mut self,
        to: NodeId,
        serial: bool,
        nodes: usize,
        replays: bool,
    ) -> Vec<u8> {
        let empty = VecDeque::new();
        let per = if serial { &self.lines } else { &self.datagrams };
        let captured = per.get(usize::from(to)).unwrap_or(&empty);
        let pick = |rng: &mut Rng, c: &VecDeque<Vec<u8>>| {
            (!c.is_empty()).then(|| c[rng.below(c.len() as u64) as usize].clone())
        };
        let someone = format!("n{}", self.rng.below(nodes as u64));
        match self.rng.below(6) {
            // A replay, as it was.
            0 if replays => pick(&mut self.rng, captured).unwrap_or_default(),
            // Where replays are left out: noise instead.
            0 => (0..self.rng.range(1, 40))
                .map(|_| self.rng.below(256) as u8)
                .collect(),
            // A flipped bit.
            1 => {
                let mut b = pick(&mut self.rng, captured).unwrap_or_default();
                if !b.is_empty() {
                    let at = self.rng.below(b.len() as u64) as usize;
                    b[at] ^= 1 << self.rng.below(8);
                }
                b
            }
            // Cut short.
            2 => {
                let mut b = pick(&mut self.rng, captured).unwrap_or_default();
                let keep = self.rng.below(b.len() as u64 + 1) as usize;
                b.truncate(keep);
                b
            }
            // A capture re-addressed: another source, in both formats.
            3 => {
                let mut b = pick(&mut self.rng, captured).unwrap_or_default();
                let text = String::from_utf8_lossy(&b).into_owned();
                if let Some(at) = text.find("src=n") {
                    let mut t = text.clone();
                    t.replace_range(at..at + 6, &format!("src={someone}"));
                    b = t.into_bytes();
                } else if b.len() > 7 && !serial {
                    // A native frame's source byte.
                    b[6] = self.rng.below(nodes as u64) as u8;
                }
                b
            }
            // A forged Heartbeat message naming someone.
            4 => {
                let body = format!(
                    "t=status\nst=active\nsrc={someone}\nhg={:x}\nseq={:x}\nauth=1 {:x}\n",
                    self.rng.below(1 << 40),
                    self.rng.below(1 << 20),
                    self.rng.next_u64()
                );
                format!(">>>\n{body}<<<\n").into_bytes()
            }
            // Noise.
            _ => {
                let len = self.rng.range(1, 120) as usize;
                (0..len).map(|_| self.rng.below(256) as u8).collect()
            }
        }
    }

    /// Where to inject: a link, and a node on it.
    pub(super) fn aim(&mut self, links: &[scenario::Link]) -> Option<(usize, NodeId)> {
        if links.is_empty() {
            return None;
        }
        let l = self.rng.below(links.len() as u64) as usize;
        let members = &links[l].members;
        if members.is_empty() {
            return None;
        }
        let to = members[self.rng.below(members.len() as u64) as usize];
        Some((l, to))
    }
}
