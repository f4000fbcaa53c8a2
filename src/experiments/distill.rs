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
//! The bound is rigorous where `Lambda` is the integral of a global Lipschitz bound (shared
//! covariances); for heterogeneous covariances it holds on the ball the bound is local to.

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::bounds::{Bound, BoundsError, LambdaTable, Lipschitz};
use crate::dynamics::{ExactFlow, FlowError, Method, SolverOptions};
use crate::grids::{GridError, GridKind};
use crate::model::Mixture;
use crate::nn::{Activation, Mlp, MlpConfig, NnError, Precision, TrainConfig, VectorMap, train};

/// Errors of the distillation experiment.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DistillError {
    /// An invalid student budget.
    #[error("student budget: {0}")]
    Budget(String),
    /// The teacher flow failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] NnError),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The stability coordinate could not be built.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// The result store failed.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
}

/// The fixed capacity and training budget of every segment student.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudentBudget {
    /// Hidden width.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    /// Adam steps per segment.
    pub steps: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Teacher pairs per segment.
    pub samples: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Precision of the training steps (students are evaluated in `f64` either way).
    /// `f32` by default: on the two-mode mixtures, 5 seeds, every grid and N, the mean
    /// relative MSE moves by at most 0.2% against seed intervals of 5-25%, and training
    /// is about twice as fast. Cells stored before the field existed are `f64`.
    #[serde(default = "f64_precision")]
    pub precision: Precision,
}

fn f64_precision() -> Precision {
    Precision::F64
}

impl Default for StudentBudget {
    /// Two hidden layers of 64 SiLU units (issue 4's default student).
    fn default() -> Self {
        StudentBudget {
            width: 64,
            depth: 2,
            steps: 1500,
            batch: 128,
            samples: 4096,
            lr: 2e-3,
            precision: Precision::F32,
        }
    }
}

impl StudentBudget {
    /// Validate: every count >= 1, batch <= samples, lr finite and > 0.
    ///
    /// ```
    /// use flowcert::experiments::distill::StudentBudget;
    /// assert!(StudentBudget { width: 0, ..StudentBudget::default() }.check().is_err());
    /// ```
    pub fn check(self) -> Result<Self, DistillError> {
        for (name, v) in [
            ("--width", self.width),
            ("--depth", self.depth),
            ("--steps", self.steps),
            ("--batch", self.batch),
            ("--samples", self.samples),
        ] {
            if v == 0 {
                return Err(DistillError::Budget(format!("{name} 0 must be at least 1")));
            }
        }
        if self.batch > self.samples {
            return Err(DistillError::Budget(format!(
                "--batch {} exceeds --samples {}: give a batch no larger than the sample budget",
                self.batch, self.samples
            )));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(DistillError::Budget(format!(
                "--lr {} must be a finite number > 0",
                self.lr
            )));
        }
        Ok(self)
    }
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
    /// The composition bound on the relative MSE (section 4).
    pub bound: f64,
}

fn sq_norms_mean(a: &DMatrix<f64>) -> f64 {
    a.column_iter().map(|c| c.norm_squared()).sum::<f64>() / a.ncols().max(1) as f64
}

/// The distillation experiment's seed stream ([`crate::seed::stream`] with its own salt).
///
/// ```
/// use flowcert::experiments::distill::stream;
/// assert_ne!(stream(1, &[2, 3]), stream(1, &[3, 2]));
/// ```
pub fn stream(seed: u64, parts: &[u64]) -> u64 {
    crate::seed::stream(crate::seed::DISTILL_SALT, seed, parts)
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

/// Train the students of one grid and measure them (single-threaded: cells are the
/// parallel unit).
pub fn run_cell(
    mixture_name: &str,
    flow: &ExactFlow,
    grid: &LabelledGrid,
    seed: u64,
    budget: &StudentBudget,
    eval_samples: usize,
) -> Result<DistillRow, DistillError> {
    let mix = flow.mixture();
    let LabelledGrid {
        name: grid,
        times,
        lambda,
    } = *grid;
    let n = times.len() - 1;
    let d = mix.dim();
    let cfg = MlpConfig::new(d, vec![budget.width; budget.depth], d, Activation::Silu)
        .with_residual(true)
        .check()?;
    let tcfg = TrainConfig {
        precision: budget.precision,
        ..TrainConfig::new(budget.steps, budget.batch, budget.lr)
    }
    .check()?;
    let mut students = Vec::with_capacity(n);
    let mut train_loss = Vec::with_capacity(n);
    for i in 1..=n {
        // The training stream depends on the seed and the segment's end times only, so two
        // grids sharing a segment train the same student on it.
        let mut rng = ChaCha8Rng::seed_from_u64(stream(
            seed,
            &[1, times[i].to_bits(), times[i - 1].to_bits()],
        ));
        let x = mix.sample(times[i], budget.samples, &mut rng);
        let (y, _) = flow.map_batch_serial(&x, times[i], times[i - 1])?;
        let mut net = Mlp::new(&cfg, &mut rng);
        let rep = train(&mut net, &x, &y, &tcfg, &mut rng)?;
        train_loss.push(rep.final_loss);
        students.push(net);
    }
    // Common random numbers: evaluation points depend on the seed only.
    let t_max = times[n];
    let t_min = times[0];
    let mut rng = ChaCha8Rng::seed_from_u64(stream(seed, &[2]));
    let x = mix.sample(t_max, eval_samples, &mut rng);
    let (exact, _) = flow.map_batch_serial(&x, t_max, t_min)?;
    let mut z = x;
    let mut local = vec![0.0; n];
    for i in (1..=n).rev() {
        let student = students[i - 1].apply_batch(&z);
        let (teacher, _) = flow.map_batch_serial(&z, times[i], times[i - 1])?;
        local[i - 1] = sq_norms_mean(&(&student - &teacher)).sqrt();
        z = student;
    }
    let denom = sq_norms_mean(&exact);
    let rel_mse = sq_norms_mean(&(&z - &exact)) / denom;
    let amp: f64 = (1..=n)
        .map(|i| local[i - 1] * (lambda[i - 1] - lambda[0]).exp())
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
    })
}

/// FNV-1a hash of a string (stable across runs and platforms), for cell keys.
///
/// ```
/// assert_eq!(flowcert::experiments::distill::fnv1a("a"), 0xaf63dc4c8601ec8c);
/// ```
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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
    /// Teacher tolerance (rtol = atol).
    pub teacher_tol: f64,
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
    /// Validate the plan's parameters (budget, segment counts, seeds, times).
    ///
    /// ```
    /// use flowcert::experiments::distill::DistillPlan;
    /// let mut p = DistillPlan::quick();
    /// p.segments = vec![0];
    /// assert!(p.check().unwrap_err().to_string().contains("--segments"));
    /// ```
    pub fn check(self) -> Result<Self, DistillError> {
        self.budget.check()?;
        if self.segments.is_empty() || self.segments.contains(&0) {
            return Err(DistillError::Budget(
                "--segments must list counts >= 1, e.g. --segments 1,2,4,8".into(),
            ));
        }
        if self.seeds.is_empty() {
            return Err(DistillError::Budget("--seeds must be at least 1".into()));
        }
        if self.grids.is_empty() {
            return Err(DistillError::Budget(
                "--grids must name at least one grid kind".into(),
            ));
        }
        if self.eval_samples == 0 {
            return Err(DistillError::Budget(
                "--eval-samples must be at least 1".into(),
            ));
        }
        if !(self.teacher_tol.is_finite() && self.teacher_tol >= 1e-14) {
            return Err(DistillError::Budget(
                "teacher tolerance must be finite and >= 1e-14".into(),
            ));
        }
        crate::grids::Span::new(self.t_min, self.t_max, 1)?;
        Ok(self)
    }

    /// The quick plan of `reproduce --quick`: two-mode mixtures sigma0 in {0.05, 0.1, 0.3},
    /// all six grids, N in {1, 2, 4, 8}, 3 seeds, a small budget.
    pub fn quick() -> Self {
        DistillPlan {
            mixtures: ["two-mode-s0.05", "two-mode-s0.1", "two-mode-s0.3"]
                .iter()
                .map(|n| {
                    (
                        n.to_string(),
                        crate::model::builtin::by_name(n).expect("built-in"),
                    )
                })
                .collect(),
            grids: GridKind::all().to_vec(),
            segments: vec![1, 2, 4, 8],
            seeds: vec![0, 1, 2],
            t_min: 1e-3,
            t_max: 3.0,
            budget: StudentBudget {
                width: 32,
                depth: 2,
                steps: 300,
                batch: 128,
                samples: 2048,
                lr: 3e-3,
                precision: Precision::F32,
            },
            eval_samples: 1024,
            teacher_tol: 1e-8,
        }
    }

    /// A seconds-long plan for tests of the pipeline: one mixture, two grids, N in {1, 2}, 2 seeds.
    pub fn tiny() -> Self {
        DistillPlan {
            mixtures: vec![(
                "two-mode-s0.3".to_string(),
                crate::model::builtin::two_mode(0.3),
            )],
            grids: vec![GridKind::Uniform, GridKind::Balanced],
            segments: vec![1, 2],
            seeds: vec![0, 1],
            budget: StudentBudget {
                width: 8,
                depth: 1,
                steps: 20,
                batch: 32,
                samples: 128,
                lr: 3e-3,
                precision: Precision::F32,
            },
            eval_samples: 64,
            ..Self::quick()
        }
    }

    /// The full plan of `reproduce`: the whole built-in suite, all six grids,
    /// N in {1, 2, 4, 8, 16}, 5 seeds, the default student (2 x 64 SiLU).
    pub fn full() -> Self {
        DistillPlan {
            mixtures: crate::model::builtin::suite()
                .into_iter()
                .map(|(n, m)| (n.to_string(), m))
                .collect(),
            segments: vec![1, 2, 4, 8, 16],
            seeds: vec![0, 1, 2, 3, 4],
            budget: StudentBudget {
                steps: 1000,
                ..StudentBudget::default()
            },
            eval_samples: 2048,
            ..Self::quick()
        }
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

    /// The store key of a cell: names plus a hash of everything that changes its result.
    pub fn key(&self, c: &DistillCell) -> String {
        let (name, mix) = &self.mixtures[c.mixture];
        let spec = serde_json::to_string(&mix.to_spec()).unwrap_or_default();
        let b = &self.budget;
        // f64 keys are those written before the precision existed; others are marked
        let precision = match b.precision {
            Precision::F64 => String::new(),
            p => format!("|{p}"),
        };
        let config = format!(
            "{spec}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}{precision}",
            b.width,
            b.depth,
            b.steps,
            b.batch,
            b.samples,
            b.lr,
            self.t_min,
            self.t_max,
            self.eval_samples,
            self.teacher_tol
        );
        format!(
            "distill/{name}/{}/N{}/seed{}/{:016x}",
            self.grids[c.grid].name(),
            c.segments,
            c.seed,
            fnv1a(&config)
        )
    }

    /// The store key of a cell's *result*: it depends on the grid times, not the grid's
    /// name, so two grids that place the same times (every grid at N = 1;
    /// `balanced-one-sided` wherever `mu = L`) share one computation.
    fn times_key(&self, c: &DistillCell, times: &[f64]) -> String {
        let cell = self.key(c);
        let prefix = cell.rsplit_once('/').map(|(_, h)| h).unwrap_or("");
        let t: String = times
            .iter()
            .map(|v| format!("{:x},", v.to_bits()))
            .collect();
        format!(
            "distill-times/{}/seed{}/{prefix}-{:016x}",
            self.mixtures[c.mixture].0,
            c.seed,
            fnv1a(&t)
        )
    }

    /// Compute one cell, reusing the result of another grid with the same times when
    /// `store` already holds it (the rows are then identical but for the grid name).
    pub fn run_cached(
        &self,
        c: &DistillCell,
        store: &super::store::CellStore,
    ) -> Result<DistillRow, DistillError> {
        let (_, mix) = &self.mixtures[c.mixture];
        let grid = self.grids[c.grid];
        let times = grid.times(mix, self.t_min, self.t_max, c.segments)?;
        let key = self.times_key(c, &times);
        if let Some(mut row) = store.get::<DistillRow>(&key) {
            row.grid = grid.name().to_string();
            return Ok(row);
        }
        let row = self.run_at(c, &times)?;
        store.put(&key, &row)?;
        Ok(row)
    }

    /// Compute one cell.
    pub fn run(&self, c: &DistillCell) -> Result<DistillRow, DistillError> {
        let (_, mix) = &self.mixtures[c.mixture];
        let times = self.grids[c.grid].times(mix, self.t_min, self.t_max, c.segments)?;
        self.run_at(c, &times)
    }

    fn run_at(&self, c: &DistillCell, times: &[f64]) -> Result<DistillRow, DistillError> {
        let (name, mix) = &self.mixtures[c.mixture];
        let grid = self.grids[c.grid];
        let table = LambdaTable::new(
            Lipschitz::auto(mix),
            Bound::TwoSided,
            self.t_min,
            self.t_max,
        )?;
        let lambda: Vec<f64> = times.iter().map(|&t| table.value(t)).collect();
        let opts = SolverOptions {
            rtol: self.teacher_tol,
            atol: self.teacher_tol,
            method: Method::Dop853,
            ..SolverOptions::default()
        }
        .check()
        .map_err(FlowError::from)?;
        let flow = ExactFlow::new(mix, opts);
        let labelled = LabelledGrid {
            name: grid.name(),
            times,
            lambda: &lambda,
        };
        run_cell(
            name,
            &flow,
            &labelled,
            c.seed,
            &self.budget,
            self.eval_samples,
        )
    }
}
