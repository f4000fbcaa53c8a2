//! The trajectory-distillation experiment (theory/04-composition-and-grids.md).
//!
//! One *cell* is (mixture, grid kind, segment count N, seed). For each segment
//! `i = 1..N` of the grid `t_min = t_0 < ... < t_N = T`, a residual MLP student
//! `Psi_i(x) = x + f_theta(x)` is trained on teacher pairs `(x, Phi_{t_i -> t_{i-1}}(x))`,
//! `x ~ p_{t_i}`, with the same width, depth, step budget and sample budget for every
//! segment and every grid (fixed capacity is the point of the comparison). Then, on fresh
//! samples `x ~ p_T` (the same points for every grid and N at a given seed: common random
//! numbers, so reductions are paired):
//!
//! ```text
//! rel_mse  = E |Psi(x) - Phi_{T->t_min}(x)|^2 / E |Phi_{T->t_min}(x)|^2,   Psi = Psi_1 o ... o Psi_N
//! eps_i    = RMS of |Psi_i(z_i) - Phi_i(z_i)| over the student's own rollout states z_i
//! bound    = (sum_i eps_i exp(Lambda(t_{i-1})))^2 / E |Phi(x)|^2          (section 4, RMS form)
//! ```
//! `rel_mse` and the `eps_i` are sample quantities (the same `eval_samples` draws), and the
//! RMS form of the theorem holds *on that sample* (Minkowski's inequality over the empirical
//! measure), so `rel_mse <= bound` is a check of the theorem draw set by draw set, not a
//! statistical statement. It is covered by the proof only where `Lambda` is the integral of
//! a global Lipschitz bound (shared covariances): `bound_rigorous`. For heterogeneous
//! covariances `Lambda` integrates a bound local to a ball `B_R`, and the proof would need
//! every rollout state, its exact image and the flow paths between them inside `B_R`;
//! neither the samples of `p_T` nor the students' states are confined to it, so those rows
//! carry `bound_rigorous: false` and their `bound` is a comparison, not a theorem.

use std::collections::{BTreeMap, BTreeSet};

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::segments::SeedWork;
use super::store::{CellKey, CellStore, Shard};
use super::sweep::{CellOutcome, Progress, run_cells_at};
use crate::bounds::BoundsError;
use crate::dynamics::{ExactFlow, FlowError, Teacher};
use crate::flowmap::{FlowMap, MapError};
use crate::grids::{GridError, GridKind, lambda_at};
use crate::model::Mixture;
use crate::nn::{Mlp, NnError, Precision, StudentBudget, ValidStudentBudget, train};
use crate::seed;

/// Errors of the distillation experiment.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DistillError {
    /// A setting of the sweep is out of range.
    #[error("{setting} {problem}")]
    InvalidPlan {
        /// The setting, named as the command-line flag (`--segments`, `--seeds`, ...).
        setting: &'static str,
        /// What is wrong and how to fix it.
        problem: &'static str,
    },
    /// The teacher flow failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// The student budget is invalid, or training failed.
    #[error(transparent)]
    Student(#[from] NnError),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The stability coordinate could not be built.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// The result store failed.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    /// A student could not be evaluated.
    #[error(transparent)]
    Map(#[from] MapError),
}

/// One finished cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillRow {
    /// Mixture name.
    pub mixture: String,
    /// Grid kind.
    pub grid: String,
    /// N.
    pub segments: usize,
    /// Seed.
    pub seed: u64,
    /// Grid times `t_0 = t_min < ... < t_N = T`.
    pub times: Vec<f64>,
    /// Two-sided `Lambda(t_i)` at the grid times.
    pub lambda: Vec<f64>,
    /// End-to-end relative MSE.
    pub rel_mse: f64,
    /// Per-segment RMS local errors on the student's rollout, `eps_1..eps_N`.
    pub local_errors: Vec<f64>,
    /// Per-segment final training loss (MSE per point).
    pub train_loss: Vec<f64>,
    /// The composition bound on the relative MSE (section 4); `+inf` (JSON `null`) where
    /// it exceeds the f64 range (vacuous: [`crate::io::overflow`]).
    #[serde(with = "crate::io::overflow")]
    pub bound: f64,
    /// Whether `bound` is covered by the proof: `Lambda` integrates a global Lipschitz
    /// bound (shared covariances). False where the bound is local to a ball that neither
    /// the samples nor the students' states are confined to (module doc). Rows stored
    /// before this field existed are read as `false` and relabelled on resumption.
    #[serde(default)]
    pub bound_rigorous: bool,
}

/// Deliberately wrong versions of the bound, kept so that the tests show the distillation
/// check ([`crate::experiments::distill_summary::bound_violations`]) can fail
/// (theory/04-composition-and-grids.md, "How we know the tests can fail"): never use them
/// for a real run ([`ValidDistillPlan::mutated`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// The amplification referenced to the wrong end of the grid,
    /// `exp(Lambda(t_{i-1}) - Lambda(T))` instead of `exp(Lambda(t_{i-1}) - Lambda(t_min))`.
    ReferencedToT,
}

/// Whether the RMS composition bound of a mixture's cells is covered by the proof: its
/// two-sided `Lambda` integrates a global Lipschitz bound (theory/04-composition-and-grids.md).
///
/// ```
/// use flowcert::experiments::distill::bound_is_rigorous;
/// use flowcert::model::builtin;
/// assert!(bound_is_rigorous(&builtin::two_mode(0.1)) && !bound_is_rigorous(&builtin::hetero3()));
/// ```
pub fn bound_is_rigorous(mix: &Mixture) -> bool {
    crate::bounds::Lipschitz::auto(mix)
        .region_radius()
        .is_none()
}

/// Mean of the squared column norms.
fn sq_norms_mean(a: &DMatrix<f64>) -> f64 {
    a.column_iter().map(|c| c.norm_squared()).sum::<f64>() / a.ncols().max(1) as f64
}

/// A grid with its stability coordinate: `lambda[i]` is the two-sided `Lambda(t_i)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledGrid<'a> {
    /// The grid kind's name.
    pub name: &'a str,
    /// `t_0 < ... < t_N`.
    pub times: &'a [f64],
    /// `Lambda(t_i)`.
    pub lambda: &'a [f64],
}

/// The students of one grid: student `i - 1` maps `times[i]` to `times[i - 1]`, trained
/// on teacher pairs of its segment from the seed's stream for that segment (the streams
/// [`run_cell`] uses), with each one's final training loss.
///
/// ```
/// use flowcert::experiments::distill::train_students;
/// use flowcert::{dynamics::Teacher, nn::StudentBudget};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let budget = StudentBudget { width: 8, depth: 1, steps: 5, batch: 8, samples: 16, ..StudentBudget::default() }.check().unwrap();
/// let (students, loss) = train_students(&Teacher::EXPERIMENT.flow(&mix), &[0.01, 0.5, 3.0], 0, &budget).unwrap();
/// assert_eq!((students.len(), loss.len()), (2, 2));
/// ```
pub fn train_students(
    flow: &ExactFlow,
    times: &[f64],
    seed: u64,
    budget: &ValidStudentBudget,
) -> Result<(Vec<Mlp>, Vec<f64>), DistillError> {
    let n = times.len() - 1;
    let mut students = Vec::with_capacity(n);
    let mut train_loss = Vec::with_capacity(n);
    for i in 1..=n {
        let (net, loss) = train_student(flow, times[i], times[i - 1], seed, budget)?;
        train_loss.push(loss);
        students.push(net);
    }
    Ok((students, train_loss))
}

/// The student of one segment `from -> to` (`from > to`) and its final training loss. The
/// training stream (teacher pairs, initialisation, minibatches) depends on the seed and the
/// segment's end times only, so every grid and N containing the segment trains the same
/// student on it (theory/04-composition-and-grids.md).
pub fn train_student(
    flow: &ExactFlow,
    from: f64,
    to: f64,
    seed: u64,
    budget: &ValidStudentBudget,
) -> Result<(Mlp, f64), DistillError> {
    let pairs = teacher_pairs(flow, from, to, seed, budget.samples)?;
    train_on_pairs(flow.mixture().dim(), &pairs, budget)
}

/// The teacher pairs of one segment's student, `(x ~ p_from, Phi_{from -> to}(x))`, with
/// the seed's stream for the segment as it stands after drawing them (the student's
/// initialisation and minibatches continue it). They depend on the budget only through
/// `samples`, so students of several budgets (the budget sweep) can share them; training
/// on them ([`train_on_pairs`]) gives bit for bit the student of [`train_student`].
pub fn teacher_pairs(
    flow: &ExactFlow,
    from: f64,
    to: f64,
    seed: u64,
    samples: usize,
) -> Result<TeacherPairs, DistillError> {
    let mut rng = seed::rng(seed::DISTILL, seed, &[1, from.to_bits(), to.to_bits()]);
    let x = flow.mixture().sample(from, samples, &mut rng);
    let (y, _) = flow.map_batch_serial(&x, from, to)?;
    Ok(TeacherPairs { x, y, rng })
}

/// Teacher pairs of one segment and the segment's stream after drawing them
/// ([`teacher_pairs`]).
#[derive(Debug, Clone)]
pub struct TeacherPairs {
    /// Inputs `x ~ p_from`, `d x samples`.
    pub x: DMatrix<f64>,
    /// Targets `Phi_{from -> to}(x)`.
    pub y: DMatrix<f64>,
    /// The segment's stream after the draws of `x`.
    pub rng: rand_chacha::ChaCha8Rng,
}

/// Train a student of `budget` on `pairs` (a clone of their stream initialises it and
/// draws its minibatches) on `R^d`; its final training loss beside it.
pub fn train_on_pairs(
    d: usize,
    pairs: &TeacherPairs,
    budget: &ValidStudentBudget,
) -> Result<(Mlp, f64), DistillError> {
    let cfg = budget.mlp(d)?;
    let tcfg = budget.training()?;
    let mut rng = pairs.rng.clone();
    let mut net = Mlp::new(&cfg, &mut rng);
    let rep = train(&mut net, &pairs.x, &pairs.y, &tcfg, &mut rng)?;
    Ok((net, rep.final_loss))
}

/// The evaluation points of a cell: `eval_samples` draws of `p_T` from the seed's stream,
/// the same for every grid and N (common random numbers).
///
/// ```
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let x = flowcert::experiments::distill::eval_points(&mix, 3.0, 0, 10);
/// assert_eq!(x.shape(), (2, 10));
/// ```
pub fn eval_points(mix: &Mixture, t_max: f64, seed: u64, eval_samples: usize) -> DMatrix<f64> {
    let mut rng = seed::rng(seed::DISTILL, seed, &[2]);
    mix.sample(t_max, eval_samples, &mut rng)
}

/// Train the students of one grid and measure them (single-threaded: cells are the
/// parallel unit).
pub fn run_cell(
    mixture_name: &str,
    flow: &ExactFlow,
    grid: &LabelledGrid,
    seed: u64,
    budget: &ValidStudentBudget,
    eval_samples: usize,
) -> Result<DistillRow, DistillError> {
    run_cell_mutated(mixture_name, flow, grid, seed, budget, eval_samples, None)
}

/// [`run_cell`] with a deliberately wrong bound ([`Mutation`]; `None` is the real one).
#[doc(hidden)]
pub fn run_cell_mutated(
    mixture_name: &str,
    flow: &ExactFlow,
    grid: &LabelledGrid,
    seed: u64,
    budget: &ValidStudentBudget,
    eval_samples: usize,
    mutation: Option<Mutation>,
) -> Result<DistillRow, DistillError> {
    let (students, train_loss) = train_students(flow, grid.times, seed, budget)?;
    let t_max = grid.times[grid.times.len() - 1];
    let x = eval_points(flow.mixture(), t_max, seed, eval_samples);
    let (exact, _) = flow.map_batch_serial(&x, t_max, grid.times[0])?;
    let students: Vec<&Mlp> = students.iter().collect();
    measure(
        mixture_name,
        flow,
        grid,
        seed,
        &students,
        train_loss,
        x,
        &exact,
        mutation,
    )
}

/// Roll `students` (student `i - 1` on segment `times[i] -> times[i - 1]`) out from the
/// evaluation points `x ~ p_T` and measure the cell: the end-to-end relative MSE against
/// `exact = Phi_{T -> t_min}(x)`, each segment's RMS local error against the teacher from
/// the student's own state, and the RMS composition bound.
#[allow(clippy::too_many_arguments)]
pub fn measure(
    mixture_name: &str,
    flow: &ExactFlow,
    grid: &LabelledGrid,
    seed: u64,
    students: &[&Mlp],
    train_loss: Vec<f64>,
    x: DMatrix<f64>,
    exact: &DMatrix<f64>,
    mutation: Option<Mutation>,
) -> Result<DistillRow, DistillError> {
    let mix = flow.mixture();
    let LabelledGrid {
        name: grid,
        times,
        lambda,
    } = *grid;
    let n = times.len() - 1;
    let mut z = x;
    let mut local = vec![0.0; n];
    for i in (1..=n).rev() {
        let student = students[i - 1].map_batch(&z)?;
        let (teacher, _) = flow.map_batch_serial(&z, times[i], times[i - 1])?;
        local[i - 1] = sq_norms_mean(&(&student - &teacher)).sqrt();
        z = student;
    }
    let denom = sq_norms_mean(exact);
    let rel_mse = sq_norms_mean(&(&z - exact)) / denom;
    let reference = match mutation {
        Some(Mutation::ReferencedToT) => lambda[n],
        None => lambda[0],
    };
    let amp: f64 = (1..=n)
        .map(|i| local[i - 1] * (lambda[i - 1] - reference).exp())
        .sum();
    Ok(DistillRow {
        mixture: mixture_name.to_string(),
        grid: grid.to_string(),
        segments: n,
        seed,
        times: times.to_vec(),
        lambda: lambda.to_vec(),
        rel_mse,
        local_errors: local,
        train_loss,
        bound: amp * amp / denom,
        bound_rigorous: bound_is_rigorous(mix),
    })
}

/// A whole sweep: mixtures x grids x segment counts x seeds at one student budget.
#[derive(Debug, Clone)]
pub struct DistillPlan {
    /// Named mixtures.
    pub mixtures: Vec<(String, Mixture)>,
    /// Grid kinds.
    pub grids: Vec<GridKind>,
    /// Segment counts N.
    pub segments: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// `t_min`.
    pub t_min: f64,
    /// `T`.
    pub t_max: f64,
    /// Student budget per segment.
    pub budget: StudentBudget,
    /// Fresh samples of `p_T` for the end-to-end metric.
    pub eval_samples: usize,
    /// The teacher's solver ([`Teacher::EXPERIMENT`] in every preset).
    pub teacher: Teacher,
}

/// What a sweep finished: rows in cell order, and the cells left to other shards.
#[derive(Debug, Clone, PartialEq)]
pub struct DistillSweep {
    /// Finished cells (computed now or resumed from the store).
    pub rows: Vec<DistillRow>,
    /// Cells that belong to other shards and are not in the store yet.
    pub missing: usize,
}

/// One cell of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistillCell {
    /// Index into `mixtures`.
    pub mixture: usize,
    /// Index into `grids`.
    pub grid: usize,
    /// N.
    pub segments: usize,
    /// Seed.
    pub seed: u64,
}

impl DistillPlan {
    /// Validate the plan's parameters (budget, segment counts, seeds, times; no seed,
    /// segment count or grid twice).
    ///
    /// ```
    /// use flowcert::suite::{Plan, Scale};
    /// let mut p = Plan::at(Scale::Quick).distill;
    /// p.segments = vec![0];
    /// assert!(p.check().unwrap_err().to_string().contains("--segments"));
    /// let mut p = Plan::at(Scale::Quick).distill;
    /// p.seeds = vec![1, 1];
    /// assert!(p.check().unwrap_err().to_string().contains("--seeds"));
    /// ```
    pub fn check(self) -> Result<ValidDistillPlan, DistillError> {
        let budget = self.budget.check()?;
        let bad = |setting, problem| Err(DistillError::InvalidPlan { setting, problem });
        if self.segments.is_empty() || self.segments.contains(&0) {
            return bad(
                "--segments",
                "must list counts >= 1, e.g. --segments 1,2,4,8",
            );
        }
        if self.seeds.is_empty() {
            return bad("--seeds", "must be at least 1");
        }
        let repeats = |v: &[u64]| v.iter().enumerate().any(|(i, x)| v[..i].contains(x));
        if repeats(&self.seeds) {
            return bad(
                "--seeds",
                "lists a seed twice (its cells would count twice in the statistics): give each seed once",
            );
        }
        let segments: Vec<u64> = self.segments.iter().map(|&n| n as u64).collect();
        if repeats(&segments) {
            return bad("--segments", "lists a segment count twice: give each once");
        }
        if self
            .grids
            .iter()
            .enumerate()
            .any(|(i, g)| self.grids[..i].contains(g))
        {
            return bad("--grids", "names a grid kind twice: give each once");
        }
        if self.grids.is_empty() {
            return bad("--grids", "must name at least one grid kind");
        }
        if self.eval_samples == 0 {
            return bad("--eval-samples", "must be at least 1");
        }
        crate::grids::Span::new(self.t_min, self.t_max, 1)?;
        Ok(ValidDistillPlan {
            plan: self,
            budget,
            mutation: None,
            pairs: None,
        })
    }
}

/// A [`DistillPlan`] that passed [`DistillPlan::check`]: what runs.
#[derive(Debug, Clone)]
pub struct ValidDistillPlan {
    plan: DistillPlan,
    budget: ValidStudentBudget,
    mutation: Option<Mutation>,
    pairs: Option<std::sync::Arc<super::segments::PairCache>>,
}

impl std::ops::Deref for ValidDistillPlan {
    type Target = DistillPlan;
    fn deref(&self) -> &DistillPlan {
        &self.plan
    }
}

impl ValidDistillPlan {
    /// This plan with a deliberately wrong bound ([`Mutation`]), for the tests that show
    /// the check can fail; its cells get store keys of their own.
    #[doc(hidden)]
    #[must_use]
    pub fn mutated(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// This plan drawing its students' teacher pairs from `cache` ([`super::segments::PairCache`]:
    /// for plans of one mixture that differ in the budget only); rows and keys unchanged.
    #[must_use]
    pub fn with_pairs(mut self, cache: std::sync::Arc<super::segments::PairCache>) -> Self {
        self.pairs = Some(cache);
        self
    }

    /// Every cell, in a fixed order (mixture, grid, N, seed).
    pub fn cells(&self) -> Vec<DistillCell> {
        let mut out = Vec::new();
        for m in 0..self.mixtures.len() {
            for g in 0..self.grids.len() {
                for &n in &self.segments {
                    for &s in &self.seeds {
                        out.push(DistillCell {
                            mixture: m,
                            grid: g,
                            segments: n,
                            seed: s,
                        });
                    }
                }
            }
        }
        out
    }

    /// Everything that changes a cell's result besides its grid, N and seed: the mixture,
    /// the student budget, the interval, the evaluation samples and the teacher.
    fn config(&self, c: &DistillCell) -> String {
        let (_, mix) = &self.mixtures[c.mixture];
        let spec = serde_json::to_string(&mix.to_spec()).unwrap_or_default();
        let b = &self.budget;
        // f64 keys are those written before the precision existed; others are marked, so
        // a store never mixes precisions.
        let precision = match b.precision {
            Precision::F64 => String::new(),
            p => format!("|{p}"),
        };
        // Likewise the read-out initial scale: the plain initialisation (1) keeps the keys
        // of the cells computed before the scale was a setting.
        let readout = if b.readout_scale == 1.0 {
            String::new()
        } else {
            format!("|ro{}", b.readout_scale)
        };
        let mut config = format!(
            "{spec}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}{precision}{readout}",
            b.width,
            b.depth,
            b.steps,
            b.batch,
            b.samples,
            b.lr,
            self.t_min,
            self.t_max,
            self.eval_samples,
            self.teacher.key()
        );
        // The path (theory/07): OU keys are those written before other paths existed.
        if !mix.process().is_ou() {
            let info = serde_json::to_string(&mix.process().info()).unwrap_or_default();
            config.push_str(&format!("|process={info}"));
        }
        // The network and schedule of the default student were implicit in the first keys;
        // any other choice is appended, so that it gets cells of its own.
        let default = StudentBudget::default();
        if (b.activation, b.residual, b.schedule)
            != (default.activation, default.residual, default.schedule)
        {
            config.push_str(&format!(
                "|{:?}|{}|{:?}",
                b.activation, b.residual, b.schedule
            ));
        }
        if let Some(m) = self.mutation {
            config.push_str(&format!("|mutation {m:?}"));
        }
        config
    }

    /// The store key of a cell: names plus a hash of everything that changes its result.
    pub fn key(&self, c: &DistillCell) -> String {
        let (name, _) = &self.mixtures[c.mixture];
        format!(
            "distill/{name}/{}/N{}/seed{}/{:016x}",
            self.grids[c.grid].name(),
            c.segments,
            c.seed,
            seed::fnv1a(self.config(c).as_bytes())
        )
    }

    /// The key of a cell with its full configuration, as stored in the cell file.
    pub fn cell_key(&self, c: &DistillCell) -> CellKey {
        CellKey {
            name: self.key(c),
            config: format!(
                "grid={}|N={}|seed={}|{}",
                self.grids[c.grid].name(),
                c.segments,
                c.seed,
                self.config(c)
            ),
        }
    }

    /// The store key of a cell's *result*: it depends on the grid times, not the grid's
    /// name, so two grids that place the same times (every grid at N = 1;
    /// `balanced-one-sided` wherever `mu = L`) share one computation.
    fn times_key(&self, c: &DistillCell, times: &[f64]) -> CellKey {
        let cell = self.key(c);
        let prefix = cell.rsplit_once('/').map(|(_, h)| h).unwrap_or("");
        let t: String = times
            .iter()
            .map(|v| format!("{:x},", v.to_bits()))
            .collect();
        CellKey {
            name: format!(
                "distill-times/{}/seed{}/{prefix}-{:016x}",
                self.mixtures[c.mixture].0,
                c.seed,
                seed::fnv1a(t.as_bytes())
            ),
            config: format!("times={t}|seed={}|{}", c.seed, self.config(c)),
        }
    }

    /// Run every cell this shard owns that `store` does not hold yet (resumable; see
    /// [`super::sweep::run_cells_at`]) and return the finished rows in cell order, with the
    /// number of cells left to other shards. Parallel over the distinct segment students of
    /// one (mixture, seed), then over its cells.
    ///
    /// ```no_run
    /// use flowcert::experiments::{CellStore, Shard, sweep::Silent, distill::DistillPlan};
    /// # fn plan() -> DistillPlan { unimplemented!() }
    /// let store = CellStore::open(std::path::Path::new("out")).unwrap();
    /// let sweep = plan().check().unwrap().sweep(&store, Shard::ALL, &Silent).unwrap();
    /// assert_eq!(sweep.missing, 0);
    /// ```
    pub fn sweep(
        &self,
        store: &CellStore,
        shard: Shard,
        progress: &dyn Progress,
    ) -> Result<DistillSweep, DistillError> {
        let cells = self.cells();
        progress.stage("distill", cells.len() as u64);
        // One (mixture, seed) at a time: train the distinct segment students its pending
        // cells need in parallel (one student per core, each single-threaded), then
        // evaluate its cells in parallel, then drop its students. Every grid and N of the
        // pair shares a segment's student (theory/04: a student depends only on the
        // segment, the seed and the budget); the sweep holds one pair's students at a time.
        let mut groups: BTreeMap<(usize, u64), Vec<usize>> = BTreeMap::new();
        for (j, c) in cells.iter().enumerate() {
            groups.entry((c.mixture, c.seed)).or_default().push(j);
        }
        let mut outcomes: Vec<Option<CellOutcome<DistillRow>>> = Vec::new();
        outcomes.resize_with(cells.len(), || None);
        for ((m, seed), indices) in groups {
            let work = self.seed_work(m, seed);
            let segments = self.pending_segments(&cells, &indices, store, shard)?;
            if !segments.is_empty() {
                let (eval, students) = rayon::join(
                    || work.eval_set().map(drop),
                    || {
                        segments
                            .par_iter()
                            .try_for_each(|&(from, to)| work.student(from, to).map(drop))
                    },
                );
                eval?;
                students?;
            }
            let group = run_cells_at(
                store,
                &cells,
                &indices,
                |c| self.cell_key(c),
                shard,
                |c| self.run_cached(c, store, &work),
                &|| progress.tick(),
            )?;
            for (j, o) in indices.into_iter().zip(group) {
                outcomes[j] = Some(o);
            }
        }
        let outcomes: Vec<CellOutcome<DistillRow>> = outcomes.into_iter().flatten().collect();
        progress.finish();
        let missing = outcomes
            .iter()
            .filter(|o| matches!(o, CellOutcome::Skipped))
            .count();
        // Resumed rows come straight from the store: label them from the mixture.
        let rigorous: Vec<(&str, bool)> = self
            .mixtures
            .iter()
            .map(|(name, mix)| (name.as_str(), bound_is_rigorous(mix)))
            .collect();
        Ok(DistillSweep {
            rows: outcomes
                .into_iter()
                .filter_map(CellOutcome::value)
                .map(|mut row: DistillRow| {
                    row.bound_rigorous =
                        rigorous.iter().any(|(name, r)| *r && *name == row.mixture);
                    row
                })
                .collect(),
            missing,
        })
    }

    /// The work shared by the cells of mixture `m` at `seed`.
    pub fn seed_work(&self, m: usize, seed: u64) -> SeedWork<'_> {
        let work = SeedWork::new(
            self.teacher.flow(&self.mixtures[m].1),
            seed,
            self.budget,
            self.eval_samples,
            (self.t_min, self.t_max),
        );
        match &self.pairs {
            Some(cache) => work.with_pairs(cache.clone()),
            None => work,
        }
    }

    /// The distinct segments `(t_i, t_{i-1})` that the cells `indices` of one (mixture,
    /// seed) still need students for: cells this shard owns whose results (under their
    /// own key or their times' key) the store does not hold.
    fn pending_segments(
        &self,
        cells: &[DistillCell],
        indices: &[usize],
        store: &CellStore,
        shard: Shard,
    ) -> Result<Vec<(f64, f64)>, DistillError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for &j in indices {
            let c = &cells[j];
            if !shard.owns(j) || store.contains(&self.key(c)) {
                continue;
            }
            let times = self.grids[c.grid].times(
                &self.mixtures[c.mixture].1,
                self.t_min,
                self.t_max,
                c.segments,
            )?;
            if store.contains(&self.times_key(c, &times).name) {
                continue;
            }
            for i in 1..times.len() {
                if seen.insert((times[i].to_bits(), times[i - 1].to_bits())) {
                    out.push((times[i], times[i - 1]));
                }
            }
        }
        Ok(out)
    }

    /// Compute one cell, reusing the result of another grid with the same times when
    /// `store` already holds it (the rows are then identical but for the grid name).
    pub fn run_cached(
        &self,
        c: &DistillCell,
        store: &CellStore,
        work: &SeedWork,
    ) -> Result<DistillRow, DistillError> {
        let (_, mix) = &self.mixtures[c.mixture];
        let grid = self.grids[c.grid];
        let times = grid.times(mix, self.t_min, self.t_max, c.segments)?;
        let key = self.times_key(c, &times);
        if let Some(mut row) = store.get_cell::<DistillRow>(&key) {
            row.grid = grid.name().to_string();
            row.bound_rigorous = bound_is_rigorous(mix);
            return Ok(row);
        }
        let row = self.run_at(c, &times, work)?;
        store.put_cell(&key, &row)?;
        Ok(row)
    }

    /// Compute one cell on its own (no sharing with other cells).
    pub fn run(&self, c: &DistillCell) -> Result<DistillRow, DistillError> {
        let (_, mix) = &self.mixtures[c.mixture];
        let times = self.grids[c.grid].times(mix, self.t_min, self.t_max, c.segments)?;
        self.run_at(c, &times, &self.seed_work(c.mixture, c.seed))
    }

    fn run_at(
        &self,
        c: &DistillCell,
        times: &[f64],
        work: &SeedWork,
    ) -> Result<DistillRow, DistillError> {
        let (name, mix) = &self.mixtures[c.mixture];
        let lambda = lambda_at(mix, times)?;
        let labelled = LabelledGrid {
            name: self.grids[c.grid].name(),
            times,
            lambda: &lambda,
        };
        work.cell(name, &labelled, self.mutation)
    }
}
