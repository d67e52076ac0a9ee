//! The LVS director (`tandem director`), built piece by piece: so far the
//! IPVS table model and the reconcile plan. The configuration is read by
//! [`crate::config::ldirectord`].

pub mod ipvs;
pub mod table;
