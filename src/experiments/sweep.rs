//! Running a list of cells in parallel (rayon over cells only; each cell is
//! single-threaded), resumably (finished cells come from the [`CellStore`]) and in
//! shards. Results are collected first and returned in cell order, so the output does
//! not depend on scheduling.

use rayon::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::store::{CellKey, CellStore, Shard, StoreError};

/// Progress callbacks of long jobs (the CLI draws bars; tests pass [`Silent`]).
pub trait Progress: Sync {
    /// The stages to come, in order, so that a display can say "stage k of n" (called
    /// once before the first stage; optional).
    fn stages(&self, _names: &[&str]) {}
    /// A new stage with `total` units.
    fn stage(&self, name: &str, total: u64);
    /// One unit done.
    fn tick(&self);
    /// The stage is finished.
    fn finish(&self);
}

/// A progress sink that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: u64) {}
    fn tick(&self) {}
    fn finish(&self) {}
}

/// What happened to one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellOutcome<T> {
    /// Computed now (and stored).
    Computed(T),
    /// Found finished in the store.
    Resumed(T),
    /// Belongs to another shard and is not in the store.
    Skipped,
}

impl<T> CellOutcome<T> {
    /// The value, if this shard has it.
    pub fn value(self) -> Option<T> {
        match self {
            CellOutcome::Computed(v) | CellOutcome::Resumed(v) => Some(v),
            CellOutcome::Skipped => None,
        }
    }
}

/// Run `compute` on every cell this shard owns that the store does not already hold.
/// `key` names a cell in the store (a [`CellKey`], or a string that is its own
/// configuration); `tick` is called once per cell (for progress bars).
///
/// ```
/// use flowcert::experiments::{CellStore, Shard, sweep::run_cells};
/// let dir = std::env::temp_dir().join(format!("flowcert-doc-sweep-{}", std::process::id()));
/// let store = CellStore::open(&dir).unwrap();
/// let cells = vec![1u32, 2, 3];
/// let out = run_cells(&store, &cells, |c| format!("sq/{c}"), Shard::ALL,
///     |c| Ok::<_, flowcert::experiments::StoreError>(c * c), &|| {}).unwrap();
/// assert_eq!(out.into_iter().map(|o| o.value().unwrap()).collect::<Vec<_>>(), vec![1, 4, 9]);
/// ```
pub fn run_cells<C, T, E, K, KK, F>(
    store: &CellStore,
    cells: &[C],
    key: K,
    shard: Shard,
    compute: F,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<CellOutcome<T>>, E>
where
    C: Sync,
    T: Serialize + DeserializeOwned + Send,
    E: From<StoreError> + Send,
    K: Fn(&C) -> KK + Sync,
    KK: Into<CellKey>,
    F: Fn(&C) -> Result<T, E> + Sync,
{
    let all: Vec<usize> = (0..cells.len()).collect();
    run_cells_at(store, cells, &all, key, shard, compute, tick)
}

/// [`run_cells`] on the cells `cells[j]` for `j` in `indices` only (a group of a larger
/// sweep; `j` is the index that decides the shard), outcomes in the order of `indices`.
///
/// ```
/// use flowcert::experiments::{CellStore, Shard, sweep::run_cells_at};
/// let dir = std::env::temp_dir().join(format!("flowcert-doc-sweep-at-{}", std::process::id()));
/// let store = CellStore::open(&dir).unwrap();
/// let cells = vec![1u32, 2, 3, 4];
/// let out = run_cells_at(&store, &cells, &[3, 1], |c| format!("sq/{c}"), "1/2".parse().unwrap(),
///     |c| Ok::<_, flowcert::experiments::StoreError>(c * c), &|| {}).unwrap();
/// assert_eq!(out.into_iter().map(|o| o.value()).collect::<Vec<_>>(), vec![Some(16), Some(4)]);
/// ```
pub fn run_cells_at<C, T, E, K, KK, F>(
    store: &CellStore,
    cells: &[C],
    indices: &[usize],
    key: K,
    shard: Shard,
    compute: F,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<CellOutcome<T>>, E>
where
    C: Sync,
    T: Serialize + DeserializeOwned + Send,
    E: From<StoreError> + Send,
    K: Fn(&C) -> KK + Sync,
    KK: Into<CellKey>,
    F: Fn(&C) -> Result<T, E> + Sync,
{
    let results: Vec<Result<CellOutcome<T>, E>> = indices
        .par_iter()
        .map(|&j| {
            let c = &cells[j];
            let k: CellKey = key(c).into();
            let out = if let Some(v) = store.get_cell::<T>(&k) {
                CellOutcome::Resumed(v)
            } else if shard.owns(j) {
                let v = compute(c)?;
                store.put_cell(&k, &v)?;
                CellOutcome::Computed(v)
            } else {
                CellOutcome::Skipped
            };
            tick();
            Ok(out)
        })
        .collect();
    results.into_iter().collect()
}
