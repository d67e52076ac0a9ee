//! Announcements that move an address to this interface's MAC: the
//! gratuitous ARP frame (IPv4) and the unsolicited neighbour advertisement
//! (IPv6), whole Ethernet frames for a packet socket.

use super::inet::checksum;

/// A gratuitous ARP frame, broadcast. The request form is RFC 5227's
/// announcement (from `ip` for `ip`, target hardware address zero),
/// which every stack accepts to update an entry; the reply form is
/// `arping -A`'s (target hardware address our own).
pub fn frame(mac: [u8; 6], ip: [u8; 4], reply: bool) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    let op: u16 = if reply { 2 } else { 1 };
    f[20..22].copy_from_slice(&op.to_be_bytes());
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip);
    if reply {
        f[32..38].copy_from_slice(&mac);
    }
    f[38..42].copy_from_slice(&ip);
    f
}

/// An unsolicited neighbour advertisement (RFC 4861 7.2.6): IPv6's
/// gratuitous ARP. To all nodes (ff02::1), from `ip`, override flag set,
/// with this interface's link-layer address as an option.
pub fn advertisement(mac: [u8; 6], ip: [u8; 16]) -> [u8; 86] {
    let mut f = [0u8; 86];
    // Ethernet: to 33:33:00:00:00:01 (ff02::1).
    f[0..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    // IPv6: payload 32 bytes, next header ICMPv6 (58), hop limit 255.
    f[14] = 0x60;
    f[18..20].copy_from_slice(&32u16.to_be_bytes());
    f[20] = 58;
    f[21] = 255;
    f[22..38].copy_from_slice(&ip);
    let mut all_nodes = [0u8; 16];
    all_nodes[0] = 0xff;
    all_nodes[1] = 0x02;
    all_nodes[15] = 1;
    f[38..54].copy_from_slice(&all_nodes);
    // ICMPv6 neighbour advertisement: type 136, override.
    let icmp = 54;
    f[icmp] = 136;
    f[icmp + 4] = 0x20;
    f[icmp + 8..icmp + 24].copy_from_slice(&ip);
    // Option: target link-layer address (type 2, 1 unit of 8 bytes).
    f[icmp + 24] = 2;
    f[icmp + 25] = 1;
    f[icmp + 26..icmp + 32].copy_from_slice(&mac);
    // Checksum over the pseudo-header and the message.
    let check = checksum(&[
        &f[22..54],
        &32u32.to_be_bytes(),
        &[0, 0, 0, 58],
        &f[icmp..icmp + 32],
    ]);
    f[icmp + 2..icmp + 4].copy_from_slice(&check.to_be_bytes());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertisement_checksum_verifies() {
        // 2001:db8::10
        let ip = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let f = advertisement([2, 0, 0, 0, 0, 1], ip);
        // Summed again with the checksum in place, the message checks out.
        let again = checksum(&[&f[22..54], &32u32.to_be_bytes(), &[0, 0, 0, 58], &f[54..86]]);
        assert_eq!(again, 0);
        assert_eq!(f[54], 136);
    }

    #[test]
    fn announcement_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = frame(mac, [192, 0, 2, 10], false);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[20..22], &[0, 1]);
        assert_eq!(&f[28..32], &[192, 0, 2, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[192, 0, 2, 10]);
        let r = frame(mac, [192, 0, 2, 10], true);
        assert_eq!(&r[0..6], &[0xff; 6]);
        assert_eq!(&r[20..22], &[0, 2]);
        assert_eq!(&r[22..28], &mac);
        assert_eq!(&r[32..38], &mac);
        assert_eq!(&r[38..42], &[192, 0, 2, 10]);
    }
}
