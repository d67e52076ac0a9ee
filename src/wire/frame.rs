//! tandem's native frame: a 16-byte header, a few TLVs, an authentication
//! tag. The layout is documented in man/tandem-wire.7.
//!
//! ```text
//!  0      2  magic 0x74 0x6e ("tn")
//!  2      1  version (high nibble, 1) | kind (low nibble)
//!  3      1  key index (low nibble) | reserved, 0 (high nibble)
//!  4      2  cluster id (big-endian)
//!  6      1  source node id
//!  7      1  body length n
//!  8      4  generation (big-endian)
//! 12      4  sequence (big-endian)
//! 16      n  body: TLVs, each type (1) length (1) value
//! 16+n    t  tag over bytes 0..16+n: 16 (HMAC, truncated) or 4 (CRC-32)
//! ```
//!
//! Decoding is total: any byte string yields a frame or a [`Drop`] reason,
//! never a panic, and allocates nothing.

use super::auth::Authenticator;

pub const MAGIC: [u8; 2] = [0x74, 0x6e];
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 16;
/// The longest frame: a full body and an HMAC tag.
pub const FRAME_MAX: usize = HEADER_LEN + 255 + super::auth::HMAC_TAG_LEN;
/// Resource groups a frame can describe (bits of a mask).
pub const GROUPS_MAX: usize = 64;

/// What a frame says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The periodic status of a node: it is alive, and what it holds.
    Keepalive = 1,
    /// A node leaves the cluster gracefully: it holds nothing any more.
    Goodbye = 2,
}

impl Kind {
    fn from_nibble(n: u8) -> Option<Kind> {
        match n {
            1 => Some(Kind::Keepalive),
            2 => Some(Kind::Goodbye),
            _ => None,
        }
    }
}

/// The life stage a node advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Starting up: listening to the cluster before taking anything.
    Joining = 0,
    /// A full member.
    Active = 1,
    /// Shutting down: releasing its groups, taking nothing.
    Leaving = 2,
}

impl NodeState {
    fn from_u8(n: u8) -> Option<NodeState> {
        match n {
            0 => Some(NodeState::Joining),
            1 => Some(NodeState::Active),
            2 => Some(NodeState::Leaving),
            _ => None,
        }
    }
}

/// A set of resource groups, by index in haresources order.
pub type Mask = u64;

/// TLV 1: the sender's status. Every keepalive carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: NodeState,
    /// How many of its ping nodes the sender reaches (0..=15).
    pub ping: u8,
    /// Groups the sender runs, starts, stops or failed to stop.
    pub held: Mask,
    /// Of those, the groups it is stopping (releasing).
    pub stopping: Mask,
    /// Groups the sender gives away: the operator put it in standby.
    pub standby: Mask,
    /// Groups that failed to start on the sender; it will not take them.
    pub failed: Mask,
    /// Of the held groups, those the sender is about to start: it waits
    /// for every live node to acknowledge this frame first.
    pub intent: Mask,
}

/// TLV 5 entry: "the newest frame I have from `node` (of `generation`) is
/// `sequence`". Sent while that node has an intent, so that it knows its
/// intent was seen before it starts anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub node: u8,
    pub generation: u32,
    pub sequence: u32,
}

/// Most acknowledgements one frame carries (the body is at most 255 bytes).
pub const ACKS_MAX: usize = 16;

/// TLV 2: an operator's takeover, present while one is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Orders claims: the newest wins (a Lamport counter).
    pub epoch: u16,
    pub groups: Mask,
}

/// A decoded frame (or one to encode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: Kind,
    pub cluster: u16,
    pub source: u8,
    pub generation: u32,
    pub sequence: u32,
    pub status: Status,
    pub claim: Option<Claim>,
    pub acks: Vec<Ack>,
    /// Nodes the sender has not heard for warntime: each answers at once,
    /// so a lossy link gets more chances before deadtime runs out.
    pub probes: Vec<u8>,
}

/// Why a received frame was dropped; each reason has a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Drop {
    /// Shorter than a header and a tag, or the lengths disagree.
    Truncated,
    /// Not a tandem frame (no magic).
    NotTandem,
    /// A tandem frame of another version.
    Version,
    /// A frame of another cluster (another cluster name).
    OtherCluster,
    /// Signed with a key index authkeys does not list.
    UnknownKey,
    /// The tag does not verify: forged, corrupted, or another key.
    BadTag,
    /// Authentic, but the body does not parse (bug or newer peer).
    BadBody,
    /// Authentic, but of a kind this version does not know.
    UnknownKind,
    /// From a node id that is not configured.
    UnknownNode,
    /// Older than the last frame seen from that node: a replay, or a stale
    /// frame overtaken on the way.
    Replay,
    /// Heartbeat 3.0.6 traffic from a configured node.
    Heartbeat,
    /// Serial line noise: bytes that are no frame.
    Noise,
}

impl Drop {
    pub const ALL: [Drop; 12] = [
        Drop::Truncated,
        Drop::NotTandem,
        Drop::Version,
        Drop::OtherCluster,
        Drop::UnknownKey,
        Drop::BadTag,
        Drop::BadBody,
        Drop::UnknownKind,
        Drop::UnknownNode,
        Drop::Replay,
        Drop::Heartbeat,
        Drop::Noise,
    ];

    /// The counter's name in logs and status.
    pub fn name(self) -> &'static str {
        match self {
            Drop::Truncated => "truncated",
            Drop::NotTandem => "not_tandem",
            Drop::Version => "version",
            Drop::OtherCluster => "other_cluster",
            Drop::UnknownKey => "unknown_key",
            Drop::BadTag => "bad_tag",
            Drop::BadBody => "bad_body",
            Drop::UnknownKind => "unknown_kind",
            Drop::UnknownNode => "unknown_node",
            Drop::Replay => "replay",
            Drop::Heartbeat => "heartbeat",
            Drop::Noise => "noise",
        }
    }
}

/// The cluster id: FNV-1a of the cluster name, folded to 16 bits. Frames of
/// another cluster on a shared LAN are dropped before any crypto.
pub fn cluster_id(name: &str) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((h >> 16) ^ (h & 0xffff)) as u16
}

/// Mask bytes needed for `groups` groups (at least one).
pub fn mask_len(groups: usize) -> usize {
    groups.div_ceil(8).clamp(1, GROUPS_MAX / 8)
}

fn put_mask(out: &mut Vec<u8>, mask: Mask, len: usize) {
    out.extend_from_slice(&mask.to_le_bytes()[..len]);
}

fn get_mask(bytes: &[u8]) -> Mask {
    let mut buf = [0u8; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    Mask::from_le_bytes(buf)
}

const TLV_STATUS: u8 = 1;
const TLV_CLAIM: u8 = 2;
const TLV_DECLINES: u8 = 3;
const TLV_INTENT: u8 = 4;
const TLV_ACKS: u8 = 5;
const TLV_PROBE: u8 = 6;
/// Most nodes one frame probes.
pub const PROBES_MAX: usize = 32;

impl Frame {
    /// Appends the signed frame to `out`. `groups` sets the mask width.
    pub fn encode(&self, groups: usize, auth: &Authenticator, out: &mut Vec<u8>) {
        let start = out.len();
        let m = mask_len(groups);
        out.extend_from_slice(&MAGIC);
        out.push((VERSION << 4) | self.kind as u8);
        out.push(auth.signing_index() & 0x0f);
        out.extend_from_slice(&self.cluster.to_be_bytes());
        out.push(self.source);
        out.push(0); // body length, filled in below
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        let s = &self.status;
        out.extend_from_slice(&[TLV_STATUS, (2 + 2 * m) as u8, s.state as u8, s.ping.min(15)]);
        put_mask(out, s.held, m);
        put_mask(out, s.stopping, m);
        // Declines are rare (standby, failed starts): sent only when set, so
        // that a plain keepalive stays within 40 bytes.
        if s.standby | s.failed != 0 {
            out.extend_from_slice(&[TLV_DECLINES, (2 * m) as u8]);
            put_mask(out, s.standby, m);
            put_mask(out, s.failed, m);
        }
        if s.intent != 0 {
            out.extend_from_slice(&[TLV_INTENT, m as u8]);
            put_mask(out, s.intent, m);
        }
        if !self.acks.is_empty() {
            let acks = &self.acks[..self.acks.len().min(ACKS_MAX)];
            out.extend_from_slice(&[TLV_ACKS, (9 * acks.len()) as u8]);
            for a in acks {
                out.push(a.node);
                out.extend_from_slice(&a.generation.to_be_bytes());
                out.extend_from_slice(&a.sequence.to_be_bytes());
            }
        }
        if !self.probes.is_empty() {
            let probes = &self.probes[..self.probes.len().min(PROBES_MAX)];
            out.extend_from_slice(&[TLV_PROBE, probes.len() as u8]);
            out.extend_from_slice(probes);
        }
        if let Some(c) = &self.claim {
            out.extend_from_slice(&[TLV_CLAIM, (2 + m) as u8]);
            out.extend_from_slice(&c.epoch.to_be_bytes());
            put_mask(out, c.groups, m);
        }
        let body = out.len() - start - HEADER_LEN;
        // At most 20 + 18 + 10 + 12 + 146 + 34 = 240 bytes: fits the u8.
        out[start + 7] = body as u8;
        let mut signed = out.split_off(start);
        auth.sign(&mut signed);
        out.extend_from_slice(&signed);
    }

    /// The source node a frame claims, before anything is verified: for
    /// counting and logging what is dropped, never for a decision.
    pub fn claimed_source(bytes: &[u8]) -> Option<u8> {
        if bytes.len() < HEADER_LEN || bytes[..2] != MAGIC {
            return None;
        }
        Some(bytes[6])
    }

    /// Checks and decodes one frame: framing, cluster, tag, then body.
    pub fn decode(bytes: &[u8], cluster: u16, auth: &Authenticator) -> Result<Frame, Drop> {
        if bytes.len() < 2 || bytes[..2] != MAGIC {
            return Err(Drop::NotTandem);
        }
        if bytes.len() < HEADER_LEN {
            return Err(Drop::Truncated);
        }
        if bytes[2] >> 4 != VERSION {
            return Err(Drop::Version);
        }
        if u16::from_be_bytes([bytes[4], bytes[5]]) != cluster {
            return Err(Drop::OtherCluster);
        }
        let key = bytes[3] & 0x0f;
        let tag_len = auth.tag_len(key).ok_or(Drop::UnknownKey)?;
        let signed_len = HEADER_LEN + usize::from(bytes[7]);
        if bytes.len() != signed_len + tag_len {
            return Err(Drop::Truncated);
        }
        let (signed, tag) = bytes.split_at(signed_len);
        if !auth.verify(key, signed, tag) {
            return Err(Drop::BadTag);
        }
        // Authentic from here on: what remains are bugs or newer versions.
        let kind = Kind::from_nibble(bytes[2] & 0x0f).ok_or(Drop::UnknownKind)?;
        if bytes[3] >> 4 != 0 {
            return Err(Drop::BadBody);
        }
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut status = None;
        let mut claim = None;
        let mut declines = (0, 0);
        let mut intent = 0;
        let mut acks = Vec::new();
        let mut probes = Vec::new();
        let mut body = &signed[HEADER_LEN..];
        while !body.is_empty() {
            let [t, len, rest @ ..] = body else {
                return Err(Drop::BadBody);
            };
            let len = usize::from(*len);
            if rest.len() < len {
                return Err(Drop::BadBody);
            }
            let (value, next) = rest.split_at(len);
            body = next;
            match *t {
                TLV_STATUS => {
                    let [state, ping, masks @ ..] = value else {
                        return Err(Drop::BadBody);
                    };
                    let m = masks.len() / 2;
                    if masks.len() % 2 != 0 || m == 0 || m > 8 {
                        return Err(Drop::BadBody);
                    }
                    status = Some(Status {
                        state: NodeState::from_u8(*state).ok_or(Drop::BadBody)?,
                        ping: (*ping).min(15),
                        held: get_mask(&masks[..m]),
                        stopping: get_mask(&masks[m..]),
                        standby: 0,
                        failed: 0,
                        intent: 0,
                    });
                }
                TLV_CLAIM => {
                    let [e0, e1, mask @ ..] = value else {
                        return Err(Drop::BadBody);
                    };
                    if mask.is_empty() || mask.len() > 8 {
                        return Err(Drop::BadBody);
                    }
                    claim = Some(Claim {
                        epoch: u16::from_be_bytes([*e0, *e1]),
                        groups: get_mask(mask),
                    });
                }
                TLV_INTENT => {
                    if value.is_empty() || value.len() > 8 {
                        return Err(Drop::BadBody);
                    }
                    intent = get_mask(value);
                }
                TLV_PROBE => {
                    if value.len() > PROBES_MAX {
                        return Err(Drop::BadBody);
                    }
                    probes.extend_from_slice(value);
                }
                TLV_ACKS => {
                    if value.len() % 9 != 0 || value.len() / 9 > ACKS_MAX {
                        return Err(Drop::BadBody);
                    }
                    for a in value.chunks_exact(9) {
                        acks.push(Ack {
                            node: a[0],
                            generation: u32::from_be_bytes([a[1], a[2], a[3], a[4]]),
                            sequence: u32::from_be_bytes([a[5], a[6], a[7], a[8]]),
                        });
                    }
                }
                TLV_DECLINES => {
                    let m = value.len() / 2;
                    if value.len() % 2 != 0 || m == 0 || m > 8 {
                        return Err(Drop::BadBody);
                    }
                    declines = (get_mask(&value[..m]), get_mask(&value[m..]));
                }
                // Unknown TLVs are skipped: a newer peer may add some.
                _ => {}
            }
        }
        Ok(Frame {
            kind,
            cluster,
            source: bytes[6],
            generation: word(8),
            sequence: word(12),
            status: Status {
                standby: declines.0,
                failed: declines.1,
                intent,
                ..status.ok_or(Drop::BadBody)?
            },
            claim,
            acks,
            probes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::auth::testing::auth;

    fn keepalive() -> Frame {
        Frame {
            kind: Kind::Keepalive,
            cluster: cluster_id("linux-ha"),
            source: 1,
            generation: 7,
            sequence: 1234,
            status: Status {
                state: NodeState::Active,
                ping: 2,
                held: 0b101,
                stopping: 0b100,
                standby: 0,
                failed: 0,
                intent: 0,
            },
            claim: None,
            acks: Vec::new(),
            probes: Vec::new(),
        }
    }

    #[test]
    fn keepalive_is_at_most_40_bytes_for_up_to_8_groups() {
        let a = auth("auth 1\n1 sha256 secret\n");
        let mut out = Vec::new();
        keepalive().encode(8, &a, &mut out);
        assert_eq!(out.len(), 38);
        let back = Frame::decode(&out, cluster_id("linux-ha"), &a).unwrap();
        assert_eq!(back, keepalive());
        let mut out = Vec::new();
        keepalive().encode(16, &a, &mut out);
        assert_eq!(out.len(), 40);
    }

    #[test]
    fn claims_round_trip() {
        let a = auth("auth 1\n1 sha1 secret\n");
        let mut f = keepalive();
        f.claim = Some(Claim {
            epoch: 3,
            groups: 0xff00,
        });
        f.status.held = 1 << 63;
        f.status.standby = 1 << 40;
        f.status.failed = 1 << 2;
        f.status.intent = 1;
        f.probes = vec![0, 2];
        f.acks = vec![
            Ack {
                node: 3,
                generation: 9,
                sequence: 77,
            };
            2
        ];
        let mut out = Vec::new();
        f.encode(64, &a, &mut out);
        assert_eq!(Frame::decode(&out, f.cluster, &a), Ok(f.clone()));
    }

    #[test]
    fn drops_have_reasons() {
        let a = auth("auth 1\n1 sha256 secret\n");
        let other = auth("auth 1\n1 sha256 other\n");
        let mut out = Vec::new();
        keepalive().encode(8, &a, &mut out);
        let c = cluster_id("linux-ha");
        assert_eq!(Frame::decode(&out, c, &other), Err(Drop::BadTag));
        assert_eq!(Frame::decode(&out, c ^ 1, &a), Err(Drop::OtherCluster));
        assert_eq!(Frame::decode(&out[..20], c, &a), Err(Drop::Truncated));
        assert_eq!(Frame::decode(b"###\n", c, &a), Err(Drop::NotTandem));
        let mut flipped = out.clone();
        flipped[20] ^= 1;
        assert_eq!(Frame::decode(&flipped, c, &a), Err(Drop::BadTag));
        let unknown_key = auth("auth 2\n2 sha256 secret\n");
        assert_eq!(Frame::decode(&out, c, &unknown_key), Err(Drop::UnknownKey));
    }
}
