//! The director's kernel side on this machine: the IPVS generic netlink
//! family is found where the kernel has IPVS, and its absence is told in
//! one clear error where it does not (this CI kernel has none: the VM rig
//! boots Debian's kernel for the IPVS tests).

mod common;

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
                table.is_ok() || !common::is_root(),
                "reading the IPVS table: {table:?}"
            );
        }
        Err(e @ IpvsError::NoIpvs) => {
            assert!(!kernel_has_ipvs, "IPVS is loaded, yet not found");
            // What the director will stop with: one line that says what to do.
            let line = e.to_string();
            assert!(
                !line.contains('\n') && line.contains("modprobe ip_vs"),
                "{line}"
            );
        }
        Err(e) => panic!("unexpected: {e}"),
    }
}
