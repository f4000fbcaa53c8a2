//! Work shared by the cells of one (mixture, seed) of the distillation experiment
//! (theory/04-composition-and-grids.md): segment students and the evaluation set.
//!
//! A segment student depends only on (mixture, `t_i`, `t_{i-1}`, seed, budget, teacher):
//! its teacher pairs `(x ~ p_{t_i}, Phi_{t_i -> t_{i-1}}(x))`, initialisation and
//! minibatches come from one stream labelled by the seed and the segment's end times. So
//! two grids, two segment counts or the oracle's candidate segments that share a segment
//! share its student: [`SeedWork::student`] trains it once and hands out the same network.
//! Likewise the evaluation points `x ~ p_T` and their exact images `Phi_{T -> t_min}(x)`
//! depend on the seed only (common random numbers for every grid and N): computed once.
//!
//! A sweep makes one [`SeedWork`] per (mixture, seed), trains the distinct students its
//! pending cells need in parallel, evaluates the cells, and drops it before the next pair,
//! so it holds one pair's students at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use nalgebra::DMatrix;

use super::distill::{
    DistillError, DistillRow, LabelledGrid, Mutation, TeacherPairs, eval_points, measure,
    teacher_pairs, train_on_pairs, train_student,
};
use crate::dynamics::ExactFlow;
use crate::model::Mixture;
use crate::nn::{Mlp, ValidStudentBudget};

/// A trained segment student.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The network `Psi_i`.
    pub net: Mlp,
    /// Final training loss (MSE per point).
    pub final_loss: f64,
}

/// The evaluation set of a seed: `x ~ p_T` and the exact `Phi_{T -> t_min}(x)`.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// Start points, `d x n`.
    pub x: DMatrix<f64>,
    /// Their exact images at `t_min`.
    pub exact: DMatrix<f64>,
}

type Slot<T> = Arc<Mutex<Option<Arc<T>>>>;

/// Compute-once slot: the first caller computes (others wait on the slot's lock); an error
/// is returned to its caller and leaves the slot empty.
fn once<T, E>(slot: &Slot<T>, f: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(v) = guard.as_ref() {
        return Ok(v.clone());
    }
    let v = Arc::new(f()?);
    *guard = Some(v.clone());
    Ok(v)
}

/// (seed, `from` bits, `to` bits, pairs).
type PairKey = (u64, u64, u64, usize);

/// Teacher pairs shared by the students of several budgets (the budget sweep,
/// theory/04-composition-and-grids.md, "Budget sweep"): the pairs of a segment depend on the
/// mixture, the seed, the segment's end times and the number of pairs only, so a
/// [`SeedWork`] per budget draws them from one cache (one teacher solve per segment) and
/// trains exactly the students it would have trained on its own.
#[derive(Debug, Default)]
pub struct PairCache {
    slots: Mutex<HashMap<PairKey, Slot<TeacherPairs>>>,
}

impl PairCache {
    /// An empty cache (make one per (mixture, seed) and drop it after that pair).
    pub fn new() -> Self {
        PairCache::default()
    }

    fn get(
        &self,
        flow: &ExactFlow,
        (from, to): (f64, f64),
        seed: u64,
        samples: usize,
    ) -> Result<Arc<TeacherPairs>, DistillError> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((seed, from.to_bits(), to.to_bits(), samples))
            .or_default()
            .clone();
        once(&slot, || teacher_pairs(flow, from, to, seed, samples))
    }
}

/// Everything one (mixture, seed) computes once for all its cells.
#[derive(Debug)]
pub struct SeedWork<'a> {
    mix: &'a Mixture,
    flow: ExactFlow<'a>,
    seed: u64,
    budget: ValidStudentBudget,
    eval_samples: usize,
    span: (f64, f64),
    eval: Slot<EvalSet>,
    students: Mutex<HashMap<(u64, u64), Slot<Trained>>>,
    pairs: Option<Arc<PairCache>>,
}

impl<'a> SeedWork<'a> {
    /// The shared work of `seed` on the teacher's mixture, for grids on `[t_min, t_max]`.
    pub fn new(
        flow: ExactFlow<'a>,
        seed: u64,
        budget: ValidStudentBudget,
        eval_samples: usize,
        (t_min, t_max): (f64, f64),
    ) -> Self {
        SeedWork {
            mix: flow.mixture(),
            flow,
            seed,
            budget,
            eval_samples,
            span: (t_min, t_max),
            eval: Slot::default(),
            students: Mutex::new(HashMap::new()),
            pairs: None,
        }
    }

    /// The same work drawing its teacher pairs from `cache` (shared with the [`SeedWork`]s
    /// of other budgets on the same mixture and seed; the cache must not be shared across
    /// mixtures). The students are bit for bit those trained without it.
    #[must_use]
    pub fn with_pairs(mut self, cache: Arc<PairCache>) -> Self {
        self.pairs = Some(cache);
        self
    }

    /// The teacher.
    pub fn flow(&self) -> &ExactFlow<'a> {
        &self.flow
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The student of segment `from -> to` (`from > to`), trained on first use.
    pub fn student(&self, from: f64, to: f64) -> Result<Arc<Trained>, DistillError> {
        let slot = self
            .students
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((from.to_bits(), to.to_bits()))
            .or_default()
            .clone();
        once(&slot, || self.train(from, to))
    }

    fn train(&self, from: f64, to: f64) -> Result<Trained, DistillError> {
        let (net, final_loss) = match &self.pairs {
            Some(cache) => {
                let pairs = cache.get(&self.flow, (from, to), self.seed, self.budget.samples)?;
                train_on_pairs(self.mix.dim(), &pairs, &self.budget)?
            }
            None => train_student(&self.flow, from, to, self.seed, &self.budget)?,
        };
        Ok(Trained { net, final_loss })
    }

    /// The evaluation set (common random numbers: it depends on the seed only).
    pub fn eval_set(&self) -> Result<Arc<EvalSet>, DistillError> {
        once(&self.eval, || {
            let (t_min, t_max) = self.span;
            let x = eval_points(self.mix, t_max, self.seed, self.eval_samples);
            let (exact, _) = self.flow.map_batch_serial(&x, t_max, t_min)?;
            Ok(EvalSet { x, exact })
        })
    }

    /// One cell: the students of `grid` composed from `T` to `t_min` on the evaluation
    /// set, measured by [`measure`] (`mutation`: see [`Mutation`]).
    pub fn cell(
        &self,
        mixture_name: &str,
        grid: &LabelledGrid,
        mutation: Option<Mutation>,
    ) -> Result<DistillRow, DistillError> {
        let times = grid.times;
        let students: Vec<Arc<Trained>> = (1..times.len())
            .map(|i| self.student(times[i], times[i - 1]))
            .collect::<Result<_, _>>()?;
        let eval = self.eval_set()?;
        let nets: Vec<&Mlp> = students.iter().map(|s| &s.net).collect();
        let loss = students.iter().map(|s| s.final_loss).collect();
        measure(
            mixture_name,
            &self.flow,
            grid,
            self.seed,
            &nets,
            loss,
            eval.x.clone(),
            &eval.exact,
            mutation,
        )
    }
}
