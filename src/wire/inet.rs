//! What the Internet protocols share: the ones'-complement checksum.

/// The Internet checksum (RFC 1071) over `parts` laid end to end (each
/// of even length but the last): ICMP's and ICMPv6's.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            sum += u32::from(pair[0]) << 8 | pair.get(1).map_or(0, |&b| u32::from(b));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn rfc_1071_example() {
        // RFC 1071 section 3's example words sum to 0xddf2 (before the
        // complement), split across parts at an even boundary or not.
        let words = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&[&words]), !0xddf2);
        assert_eq!(checksum(&[&words[..4], &words[4..]]), !0xddf2);
        // An odd length pads with a zero byte.
        assert_eq!(checksum(&[&[0xab]]), !0xab00);
    }
}
