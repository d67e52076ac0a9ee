//! The LVS director (`tandem director`), built piece by piece. So far: the
//! IPVS table model and the reconcile plan ([`table`]), the kernel's IPVS
//! over generic netlink ([`ipvs`]), and a real server's health as a state
//! machine in virtual time ([`health`]). The configuration is read by
//! [`crate::config::ldirectord`]. Not yet: the checks themselves, the
//! event loop, `tandem director` and its status.

pub mod dialogue;
pub mod health;
pub mod http;
pub mod ipvs;
pub mod table;
