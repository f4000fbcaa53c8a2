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

use crate::dynamics::{ExactFlow, FlowError};
use crate::model::Mixture;
use crate::nn::{Activation, Mlp, MlpConfig, NnError, TrainConfig, VectorMap, train};

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
}

impl Default for StudentBudget {
    /// Two hidden layers of 64 SiLU units (issue 4's default student).
    fn default() -> Self {
        StudentBudget { width: 64, depth: 2, steps: 1500, batch: 128, samples: 4096, lr: 2e-3 }
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
        for (name, v) in [("--width", self.width), ("--depth", self.depth), ("--steps", self.steps), ("--batch", self.batch), ("--samples", self.samples)] {
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
            return Err(DistillError::Budget(format!("--lr {} must be a finite number > 0", self.lr)));
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

/// Mix seeds and labels into one 64-bit stream id (SplitMix64 finaliser).
///
/// ```
/// use flowcert::experiments::distill::stream;
/// assert_ne!(stream(1, &[2, 3]), stream(1, &[3, 2]));
/// ```
pub fn stream(seed: u64, parts: &[u64]) -> u64 {
    let mut z = seed ^ 0x9E37_79B9_7F4A_7C15;
    for &p in parts {
        z = z.wrapping_add(p.wrapping_mul(0xBF58_476D_1CE4_E5B9)).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// Train the students of one grid and measure them (single-threaded: cells are the
/// parallel unit). `lambda` holds the two-sided `Lambda(t_i)` at the grid times.
pub fn run_cell(
    mixture_name: &str,
    mix: &Mixture,
    flow: &ExactFlow,
    grid: &str,
    times: &[f64],
    lambda: &[f64],
    seed: u64,
    budget: &StudentBudget,
    eval_samples: usize,
) -> Result<DistillRow, DistillError> {
    let n = times.len() - 1;
    let d = mix.dim();
    let cfg = MlpConfig::new(d, vec![budget.width; budget.depth], d, Activation::Silu)
        .with_residual(true)
        .check()?;
    let tcfg = TrainConfig::new(budget.steps, budget.batch, budget.lr).check()?;
    let mut students = Vec::with_capacity(n);
    let mut train_loss = Vec::with_capacity(n);
    for i in 1..=n {
        // The training stream depends on the seed and the segment's end times only, so two
        // grids sharing a segment train the same student on it.
        let mut rng = ChaCha8Rng::seed_from_u64(stream(seed, &[1, times[i].to_bits(), times[i - 1].to_bits()]));
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
    let amp: f64 = (1..=n).map(|i| local[i - 1] * (lambda[i - 1] - lambda[0]).exp()).sum();
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
