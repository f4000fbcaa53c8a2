//! Minibatch training of a student by Adam on the mean squared error.
//!
//! ```text
//! minimise  MSE(theta) = (1/N) sum_j |Psi_theta(x_j) - y_j|^2
//! ```
//!
//! Each step draws `batch_size` columns without replacement from a permutation
//! of the data (reshuffled whenever it runs out), takes one Adam step on the
//! minibatch MSE, then calls [`Trainable::project`] (the Lipschitz projection
//! of [`LipschitzMlp`](super::LipschitzMlp); nothing for a plain [`Mlp`]).
//! Every draw comes from the caller's `ChaCha8Rng`: same seed, same bytes.

use std::ops::Deref;

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::elem::Elem;
use super::{
    Adam, AdamConfig, LrSchedule, Mlp, MlpWorkspace, NnError, Precision, TrainWorkspace,
    ValidAdamConfig,
};
use crate::flowmap::{FlowMap, MapError};

/// Columns per chunk when evaluating the loss on a whole data set.
const EVAL_CHUNK: usize = 4096;

/// A student that [`train`] can fit: a [`FlowMap`] with parameters, an MSE
/// gradient, and an optional projection onto a constraint set.
pub trait Trainable: FlowMap {
    /// Buffers reused across steps of one batch size.
    type Workspace;

    /// Buffers for batches of `batch` columns, for steps in `precision`.
    fn workspace(&self, batch: usize, precision: Precision) -> Self::Workspace;

    /// Number of trainable scalars.
    fn param_count(&self) -> usize;

    /// Minibatch MSE `(1/B) sum_j |Psi(x_j) - y_j|^2`, leaving its gradient in `ws`.
    fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut Self::Workspace) -> f64;

    /// [`Trainable::loss_and_grad`] on a minibatch of a training set. The default
    /// gathers its columns into matrices first; a workspace that reads them where they
    /// are (rounding them to its precision on the way) saves that pass.
    fn loss_and_grad_on(&self, batch: &mut Minibatch<'_>, ws: &mut Self::Workspace) -> f64 {
        let (x, y) = batch.gathered();
        self.loss_and_grad(x, y, ws)
    }

    /// Call `f(parameters, gradient)` for every parameter block, in a fixed order.
    fn visit_params(&mut self, ws: &Self::Workspace, f: &mut dyn FnMut(&mut [f64], &[f64]));

    /// Restore the model's constraints after an optimizer step (default: none).
    fn project(&mut self) {}
}

/// Steps on the SIMD kernels of [`TrainWorkspace`] (bit-identical to
/// [`Mlp::loss_and_grad`] in `f64`).
impl Trainable for Mlp {
    type Workspace = TrainWorkspace;
    fn workspace(&self, batch: usize, precision: Precision) -> TrainWorkspace {
        TrainWorkspace::new(self, batch, precision)
    }
    fn param_count(&self) -> usize {
        Mlp::param_count(self)
    }
    fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad(self, x, y)
    }
    fn loss_and_grad_on(&self, batch: &mut Minibatch<'_>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad_at(self, batch.inputs(), batch.targets(), batch.cols())
    }
    fn visit_params(&mut self, ws: &TrainWorkspace, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        Mlp::visit_params(self, ws.gradient(), f)
    }
}

/// An [`Mlp`] trained through the reference forward/backward pass
/// ([`Mlp::loss_and_grad`] on an [`MlpWorkspace`]) instead of the SIMD kernels of
/// [`TrainWorkspace`]: the baseline those kernels are tested and benchmarked against.
/// Always `f64` (the `precision` of the workspace is ignored); in `f64`, [`train`] gives
/// the same bytes for both.
///
/// ```
/// use flowcert::nn::{Activation, Mlp, MlpConfig, ReferenceMlp, TrainConfig, train};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
/// let cfg = MlpConfig::new(1, vec![8], 1, Activation::Silu).check().unwrap();
/// let net = Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(0));
/// let x = DMatrix::from_fn(1, 32, |_, j| j as f64 / 16.0 - 1.0);
/// let tc = TrainConfig::new(50, 8, 1e-2).check().unwrap();
/// let (mut fast, mut slow) = (net.clone(), ReferenceMlp(net));
/// train(&mut fast, &x, &x, &tc, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
/// train(&mut slow, &x, &x, &tc, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
/// assert_eq!(fast, slow.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceMlp(pub Mlp);

impl FlowMap for ReferenceMlp {
    fn dim_in(&self) -> usize {
        self.0.dim_in()
    }
    fn dim_out(&self) -> usize {
        self.0.dim_out()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        self.0.map_point(x)
    }
    fn map_batch(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        self.0.map_batch(x)
    }
}

impl Trainable for ReferenceMlp {
    type Workspace = MlpWorkspace;
    fn workspace(&self, batch: usize, _precision: Precision) -> MlpWorkspace {
        self.0.workspace(batch)
    }
    fn param_count(&self) -> usize {
        self.0.param_count()
    }
    fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut MlpWorkspace) -> f64 {
        self.0.loss_and_grad(x, y, ws)
    }
    fn visit_params(&mut self, ws: &MlpWorkspace, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        self.0.visit_params(ws.gradient(), f)
    }
}

/// Raw training settings; validate with [`TrainConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of Adam steps, `>= 1`.
    pub steps: usize,
    /// Columns per minibatch, `>= 1` (may exceed the data size: points repeat).
    pub batch_size: usize,
    /// Base learning rate, finite and `> 0`.
    pub lr: f64,
    /// Adam first-moment decay, in `[0, 1)`.
    pub beta1: f64,
    /// Adam second-moment decay, in `[0, 1)`.
    pub beta2: f64,
    /// Adam denominator guard, `> 0`.
    pub eps: f64,
    /// Learning-rate decay over the run.
    pub schedule: LrSchedule,
    /// Record the mean minibatch loss every `log_every` steps, `>= 1`.
    pub log_every: usize,
    /// Precision of the forward and backward passes (parameters stay `f64`).
    #[serde(default)]
    pub precision: Precision,
}

impl TrainConfig {
    /// `steps` Adam steps at learning rate `lr` on minibatches of `batch_size`,
    /// default betas and eps, constant schedule, a record every `steps / 100` steps,
    /// `f64` steps.
    ///
    /// ```
    /// use flowcert::nn::{LrSchedule, TrainConfig};
    /// let cfg = TrainConfig {
    ///     schedule: LrSchedule::Cosine { final_fraction: 0.01 },
    ///     ..TrainConfig::new(2000, 256, 3e-3)
    /// };
    /// assert!(cfg.check().is_ok());
    /// ```
    pub fn new(steps: usize, batch_size: usize, lr: f64) -> Self {
        let adam = AdamConfig::default();
        Self {
            steps,
            batch_size,
            lr,
            beta1: adam.beta1,
            beta2: adam.beta2,
            eps: adam.eps,
            schedule: adam.schedule,
            log_every: (steps / 100).max(1),
            precision: Precision::F64,
        }
    }

    /// Validate every setting.
    ///
    /// ```
    /// use flowcert::nn::TrainConfig;
    /// let err = TrainConfig::new(100, 0, 1e-3).check().unwrap_err();
    /// assert!(err.to_string().contains("batch_size"));
    /// ```
    pub fn check(self) -> Result<ValidTrainConfig, NnError> {
        for (name, value) in [
            ("steps", self.steps),
            ("batch_size", self.batch_size),
            ("log_every", self.log_every),
        ] {
            if value == 0 {
                return Err(NnError::InvalidParameter {
                    name,
                    value: 0.0,
                    fix: "use at least 1",
                });
            }
        }
        let adam = AdamConfig {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            schedule: self.schedule,
        }
        .check()?;
        Ok(ValidTrainConfig { cfg: self, adam })
    }
}

/// A [`TrainConfig`] that passed [`TrainConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidTrainConfig {
    cfg: TrainConfig,
    adam: ValidAdamConfig,
}

impl Deref for ValidTrainConfig {
    type Target = TrainConfig;
    fn deref(&self) -> &TrainConfig {
        &self.cfg
    }
}

impl ValidTrainConfig {
    /// The Adam part of the settings.
    ///
    /// ```
    /// use flowcert::nn::TrainConfig;
    /// let cfg = TrainConfig::new(10, 4, 2e-3).check().unwrap();
    /// assert_eq!(cfg.adam().lr, 2e-3);
    /// ```
    pub fn adam(&self) -> &ValidAdamConfig {
        &self.adam
    }
}

/// One minibatch: the columns `cols` of a training set (`d_in x N` inputs, `d_out x N`
/// targets), as [`train`] draws them.
#[derive(Debug, Clone)]
pub struct Minibatch<'a> {
    inputs: &'a DMatrix<f64>,
    targets: &'a DMatrix<f64>,
    cols: Vec<usize>,
    /// The columns gathered, for [`Minibatch::gathered`].
    x: DMatrix<f64>,
    y: DMatrix<f64>,
}

impl<'a> Minibatch<'a> {
    /// Room for `batch` columns of `inputs` and `targets` (the first ones until set).
    fn new(inputs: &'a DMatrix<f64>, targets: &'a DMatrix<f64>, batch: usize) -> Self {
        Minibatch {
            inputs,
            targets,
            cols: (0..batch).map(|j| j % inputs.ncols().max(1)).collect(),
            x: DMatrix::zeros(inputs.nrows(), batch),
            y: DMatrix::zeros(targets.nrows(), batch),
        }
    }

    /// The whole training set's inputs.
    pub fn inputs(&self) -> &DMatrix<f64> {
        self.inputs
    }

    /// The whole training set's targets.
    pub fn targets(&self) -> &DMatrix<f64> {
        self.targets
    }

    /// The columns of the training set in the minibatch, in order.
    pub fn cols(&self) -> &[usize] {
        &self.cols
    }

    /// The minibatch's inputs and targets gathered (`d_in x B`, `d_out x B`).
    pub fn gathered(&mut self) -> (&DMatrix<f64>, &DMatrix<f64>) {
        let (d_in, d_out) = (self.inputs.nrows(), self.targets.nrows());
        gather_columns(
            self.x.as_mut_slice(),
            self.inputs.as_slice(),
            d_in,
            &self.cols,
        );
        gather_columns(
            self.y.as_mut_slice(),
            self.targets.as_slice(),
            d_out,
            &self.cols,
        );
        (&self.x, &self.y)
    }
}

/// Mean minibatch loss over the steps since the previous record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossRecord {
    /// Steps completed when the record was taken.
    pub step: usize,
    /// Mean of the minibatch MSEs of those steps.
    pub loss: f64,
}

/// Outcome of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// MSE on the whole training set after the last step.
    pub final_loss: f64,
    /// Sparse loss curve, one record every `log_every` steps and at the end.
    pub loss_history: Vec<LossRecord>,
    /// Steps taken.
    pub steps: usize,
}

/// Fit `model` to `targets` (`d_out x N`) at `inputs` (`d_in x N`) by Adam on
/// minibatch MSE (see the module docs). Deterministic in `rng`.
///
/// Errors on mismatched shapes, empty or non-finite data, and divergence
/// (a non-finite minibatch loss).
///
/// ```
/// use flowcert::nn::{Activation, Mlp, MlpConfig, TrainConfig, train};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
///
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let x = DMatrix::from_fn(1, 64, |_, j| j as f64 / 32.0 - 1.0);
/// let y = x.map(|v| 2.0 * v + 1.0);
/// let cfg = MlpConfig::new(1, vec![], 1, Activation::Identity).check().unwrap();
/// let mut net = Mlp::new(&cfg, &mut rng);
/// let report = train(&mut net, &x, &y, &TrainConfig::new(500, 16, 0.05).check().unwrap(), &mut rng)
///     .unwrap();
/// assert!(report.final_loss < 1e-3);
/// ```
pub fn train<M: Trainable>(
    model: &mut M,
    inputs: &DMatrix<f64>,
    targets: &DMatrix<f64>,
    cfg: &ValidTrainConfig,
    rng: &mut ChaCha8Rng,
) -> Result<TrainReport, NnError> {
    check_data(model, inputs, targets)?;
    let n = inputs.ncols();
    let batch = cfg.batch_size;
    let mut minibatch = Minibatch::new(inputs, targets, batch);
    let mut ws = model.workspace(batch, cfg.precision);
    let mut adam = Adam::new(model.param_count(), cfg.adam());
    let mut perm: Vec<usize> = (0..n).collect();
    let mut cursor = n;
    let mut history = Vec::with_capacity(cfg.steps / cfg.log_every + 1);
    let (mut window_sum, mut window_len) = (0.0, 0usize);

    for step in 0..cfg.steps {
        for c in minibatch.cols.iter_mut() {
            if cursor == n {
                shuffle(&mut perm, rng);
                cursor = 0;
            }
            *c = perm[cursor];
            cursor += 1;
        }
        let lr = adam.lr_at(step, cfg.steps);
        let loss = model.loss_and_grad_on(&mut minibatch, &mut ws);
        if !loss.is_finite() {
            return Err(NnError::Diverged { step, loss, lr });
        }
        adam.step_with(lr, |update| model.visit_params(&ws, update));
        model.project();
        window_sum += loss;
        window_len += 1;
        if (step + 1) % cfg.log_every == 0 || step + 1 == cfg.steps {
            history.push(LossRecord {
                step: step + 1,
                loss: window_sum / window_len as f64,
            });
            (window_sum, window_len) = (0.0, 0);
        }
    }

    // Inputs and targets were checked against the model's dimensions, so an evaluation
    // error is a failure of the model itself: reported as divergence below.
    let final_loss = mse(model, inputs, targets).unwrap_or(f64::NAN);
    if !final_loss.is_finite() {
        return Err(NnError::Diverged {
            step: cfg.steps,
            loss: final_loss,
            lr: adam.lr_at(cfg.steps, cfg.steps),
        });
    }
    Ok(TrainReport {
        final_loss,
        loss_history: history,
        steps: cfg.steps,
    })
}

/// `(1/N) sum_j |map(x_j) - y_j|^2`, evaluated in chunks of columns so that
/// large data sets do not allocate `width x N` activations.
///
/// # Panics
/// If `x` is not `dim_in x N` or `y` is not `dim_out x N`.
///
/// ```
/// use flowcert::nn::{Activation, Mlp, MlpConfig, train::mse};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
/// let cfg = MlpConfig::new(2, vec![4], 2, Activation::Silu).check().unwrap();
/// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
/// let x = DMatrix::from_fn(2, 10, |i, j| (i * j) as f64);
/// assert!((mse(&net, &x, &x).unwrap() - net.mse(&x, &x)).abs() < 1e-12);
/// ```
pub fn mse<M: FlowMap + ?Sized>(
    map: &M,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> Result<f64, MapError> {
    assert_eq!(
        x.ncols(),
        y.ncols(),
        "mse: inputs and targets differ in columns"
    );
    assert_eq!(
        y.nrows(),
        map.dim_out(),
        "mse: targets have the wrong dimension"
    );
    let n = x.ncols();
    let mut sum = 0.0;
    let mut start = 0;
    while start < n {
        let len = EVAL_CHUNK.min(n - start);
        let out = map.map_batch(&x.columns(start, len).into_owned())?;
        let target = y.columns(start, len);
        sum += out
            .iter()
            .zip(target.iter())
            .map(|(o, t)| (o - t) * (o - t))
            .sum::<f64>();
        start += len;
    }
    Ok(sum / n.max(1) as f64)
}

/// `dst[:, j] = src[:, cols[j]]` rounded to `E`, for column-major matrices of `d` rows
/// (`dst` holds `cols.len()` columns): copies of a fixed size for the small dimensions of
/// flow maps (a call to `memcpy` per column would cost more than the copy itself).
///
/// # Panics
/// If a column is out of range of `src`.
#[inline(always)]
pub(crate) fn gather_columns<E: Elem>(dst: &mut [E], src: &[f64], d: usize, cols: &[usize]) {
    #[inline(always)]
    fn fixed<E: Elem, const D: usize>(dst: &mut [E], src: &[f64], cols: &[usize]) {
        for (out, &i) in dst.chunks_exact_mut(D).zip(cols) {
            let out: &mut [E; D] = out.try_into().expect("chunks of D entries");
            let col: &[f64; D] = src[i * D..(i + 1) * D]
                .try_into()
                .expect("a column has D entries");
            out.iter_mut()
                .zip(col)
                .for_each(|(o, &v)| *o = E::from_f64(v));
        }
    }
    match d {
        1 => fixed::<E, 1>(dst, src, cols),
        2 => fixed::<E, 2>(dst, src, cols),
        3 => fixed::<E, 3>(dst, src, cols),
        4 => fixed::<E, 4>(dst, src, cols),
        8 => fixed::<E, 8>(dst, src, cols),
        _ => {
            for (out, &i) in dst.chunks_exact_mut(d).zip(cols) {
                let col = &src[i * d..(i + 1) * d];
                out.iter_mut()
                    .zip(col)
                    .for_each(|(o, &v)| *o = E::from_f64(v));
            }
        }
    }
}

/// Fisher-Yates shuffle driven by `rng`.
fn shuffle(perm: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..perm.len()).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
}

fn check_data<M: FlowMap>(
    model: &M,
    inputs: &DMatrix<f64>,
    targets: &DMatrix<f64>,
) -> Result<(), NnError> {
    if inputs.nrows() != model.dim_in() {
        return Err(NnError::ShapeMismatch {
            what: "inputs",
            expected: format!("{} rows (dim_in)", model.dim_in()),
            found: format!("{} rows", inputs.nrows()),
            fix: "store one input point per column",
        });
    }
    if targets.nrows() != model.dim_out() {
        return Err(NnError::ShapeMismatch {
            what: "targets",
            expected: format!("{} rows (dim_out)", model.dim_out()),
            found: format!("{} rows", targets.nrows()),
            fix: "store one target point per column",
        });
    }
    if inputs.ncols() != targets.ncols() || inputs.ncols() == 0 {
        return Err(NnError::ShapeMismatch {
            what: "the training set",
            expected: "as many target columns as input columns, at least one".into(),
            found: format!("{} inputs and {} targets", inputs.ncols(), targets.ncols()),
            fix: "pass one (input, target) pair per column",
        });
    }
    for (what, m) in [("inputs", inputs), ("targets", targets)] {
        if let Some(column) = m
            .column_iter()
            .position(|c| !c.iter().all(|v| v.is_finite()))
        {
            return Err(NnError::NonFiniteData { what, column });
        }
    }
    Ok(())
}
