//! What one node believes of another: whether it is alive.

/// What this node knows of another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Not heard since this node (re)joined.
    Unknown,
    Up,
    Dead,
}
