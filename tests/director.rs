//! The director's kernel side on this machine: the IPVS generic netlink
//! family is found where the kernel has IPVS, and its absence is told in
//! one clear error where it does not (this CI kernel has none: the VM rig
//! boots Debian's kernel for the IPVS tests).

use tandem::director::ipvs::{Ipvs, IpvsError};

#[test]
fn ipvs_is_found_or_its_absence_is_said() {
    let kernel_has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
    match Ipvs::open() {
        Ok(mut ipvs) => {
            // Loading the family loads the module: now it must be there.
            assert!(std::path::Path::new("/proc/net/ip_vs").exists());
            let table = ipvs.table();
            // Reading needs CAP_NET_ADMIN; without it the kernel says so.
            assert!(
                table.is_ok() || !tandem_is_root(),
                "reading the IPVS table: {table:?}"
            );
        }
        Err(IpvsError::NoIpvs) => {
            assert!(!kernel_has_ipvs, "IPVS is loaded, yet not found");
            assert_eq!(
                IpvsError::NoIpvs.to_string(),
                "this kernel has no IPVS (the ip_vs module is not loaded and cannot be: modprobe ip_vs)"
            );
        }
        Err(e) => panic!("unexpected: {e}"),
    }
}

fn tandem_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}
