//! Experiment sweeps: cells, seeds, a resumable store and shards.

pub mod distill;
pub mod distill_summary;
pub mod stats;
pub mod store;
pub mod sweep;

pub use store::{CellStore, Shard, StoreError};
