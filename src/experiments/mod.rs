//! Experiment sweeps: cells, seeds, a resumable store and shards.

pub mod distill;
pub mod store;

pub use store::{CellStore, Shard, StoreError};
