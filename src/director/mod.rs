//! The LVS director (`tandem director`): ldirectord's job in tandem's
//! shape. The configuration is read by [`crate::config::ldirectord`];
//! [`check`] says what checking a real server means, [`probe`] runs one
//! check on its socket, [`health`] turns results into verdicts in virtual
//! time, [`table`] computes the IPVS table wanted and the plan to it, and
//! [`ipvs`] programs the kernel over generic netlink. [`daemon`] is the
//! event loop that ties them together.

pub mod check;
pub mod daemon;
pub mod dialogue;
pub mod dns;
pub mod health;
pub mod http;
pub mod ipvs;
pub mod ldap;
pub mod probe;
pub mod resource;
pub mod table;
