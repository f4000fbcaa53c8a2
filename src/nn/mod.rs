//! Neural-network students: the learned flow maps that distillation trains.
//!
//! ```text
//! activation.rs Activation (SiLU, ReLU, identity) and its Lipschitz bound
//! elem.rs       f64 / f32 element types, the branch-free exp behind SiLU
//! architecture.rs MlpConfig -> check() -> ValidMlpConfig (widths, residual,
//!               read-out initial scale)
//! mlp.rs        Mlp: fully connected network on column batches, optional
//!               residual form Psi(x) = x + f(x); mlp/backprop.rs: cached
//!               forward, backward, MSE gradient on reused buffers (the reference)
//! engine/       TrainWorkspace: the training step on SIMD kernels (AVX-512,
//!               AVX2 + FMA, portable; chosen at run time), f64 or f32
//! precision.rs  Precision of the training steps (f64, f32)
//! adam.rs       Adam with bias correction and learning-rate schedules
//! lipschitz.rs  LipschitzMlp: prod_l ||W_l||_2 * Lip(act)^H <= M, certified
//!               with exact spectral norms (SVD)
//! train.rs      Trainable (the student capability), train(), TrainConfig
//! ```
//!
//! Every student implements [`VectorMap`], so students, teachers and their
//! compositions are evaluated the same way: a `d x N` matrix of points as
//! columns in, a `d' x N` matrix out.
//!
//! All randomness (initialisation, minibatches) comes from a `ChaCha8Rng` passed
//! in by the caller: the same seed gives bit-identical parameters.

use nalgebra::DMatrix;

pub mod activation;
pub mod adam;
pub mod architecture;
mod elem;
pub mod engine;
pub mod lipschitz;
pub mod mlp;
pub mod precision;
pub mod train;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig, LrSchedule, ValidAdamConfig};
pub use architecture::{Init, MlpConfig, ValidMlpConfig};
pub use engine::{SimdBackend, TrainWorkspace};
pub use lipschitz::{LipschitzConfig, LipschitzMlp, ValidLipschitzConfig, spectral_norm};
pub use mlp::{Mlp, MlpGradient, MlpWorkspace};
pub use precision::Precision;
pub use train::{
    LossRecord, ReferenceMlp, TrainConfig, TrainReport, Trainable, ValidTrainConfig, mse, train,
};

/// Errors of the `nn` module. Each message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
    /// A numeric setting is out of its allowed range.
    #[error("{name} = {value} is invalid: {fix}")]
    InvalidParameter {
        /// Name of the setting, as spelled in the config struct.
        name: &'static str,
        /// The rejected value (integers are shown as floats).
        value: f64,
        /// What an acceptable value looks like.
        fix: &'static str,
    },
    /// The residual form `x + f(x)` needs as many outputs as inputs.
    #[error(
        "residual network needs dim_out == dim_in, got dim_in = {dim_in}, dim_out = {dim_out}: \
         set residual = false or make the dimensions equal"
    )]
    ResidualDims {
        /// Input dimension.
        dim_in: usize,
        /// Output dimension.
        dim_out: usize,
    },
    /// Data or parameters do not have the shape the network expects.
    #[error("{what} has {found} but the network expects {expected}: {fix}")]
    ShapeMismatch {
        /// Which argument is wrong (e.g. "inputs").
        what: &'static str,
        /// What the network expects (e.g. "2 rows").
        expected: String,
        /// What was passed.
        found: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// A precision name other than `f64` or `f32`.
    #[error("unknown precision {0:?}: use f64 or f32")]
    UnknownPrecision(String),
    /// Training data contain NaN or infinity.
    #[error("{what} column {column} is not finite: remove or repair that sample")]
    NonFiniteData {
        /// "inputs" or "targets".
        what: &'static str,
        /// Index of the first offending column.
        column: usize,
    },
    /// The training loss stopped being finite.
    #[error(
        "training diverged: minibatch loss is {loss} at step {step} (lr {lr}): \
         lower lr, or rescale inputs and targets to order one"
    )]
    Diverged {
        /// Step at which the loss was first non-finite.
        step: usize,
        /// The loss value (inf or NaN).
        loss: f64,
        /// Learning rate in force at that step.
        lr: f64,
    },
}

/// A map from `R^dim_in` to `R^dim_out`, evaluated on batches stored as columns.
///
/// The capability shared by students (learned networks), teachers and user
/// maps: anything the harness compares implements it.
///
/// # Panics
/// Implementations may panic if `x.nrows() != self.dim_in()`: a dimension
/// mismatch between composed maps is a programming error, not user input.
///
/// ```
/// use flowcert::nn::{Activation, Mlp, MlpConfig, VectorMap};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
///
/// let cfg = MlpConfig::new(2, vec![8], 2, Activation::Silu).check().unwrap();
/// let net = Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(0));
/// let y = net.apply_batch(&DMatrix::zeros(2, 5));
/// assert_eq!(y.shape(), (2, 5));
/// assert_eq!(net.apply(&[0.0, 0.0]), y.column(0).iter().copied().collect::<Vec<_>>());
/// ```
pub trait VectorMap {
    /// Dimension of the input points.
    fn dim_in(&self) -> usize;
    /// Dimension of the output points.
    fn dim_out(&self) -> usize;
    /// Map every column of `x` (`dim_in x N`), giving a `dim_out x N` matrix.
    fn apply_batch(&self, x: &DMatrix<f64>) -> DMatrix<f64>;
    /// Map a single point. The default goes through [`VectorMap::apply_batch`].
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        let m = DMatrix::from_column_slice(x.len(), 1, x);
        self.apply_batch(&m).as_slice().to_vec()
    }
}

impl<T: VectorMap + ?Sized> VectorMap for &T {
    fn dim_in(&self) -> usize {
        (**self).dim_in()
    }
    fn dim_out(&self) -> usize {
        (**self).dim_out()
    }
    fn apply_batch(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        (**self).apply_batch(x)
    }
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        (**self).apply(x)
    }
}

impl<T: VectorMap + ?Sized> VectorMap for Box<T> {
    fn dim_in(&self) -> usize {
        (**self).dim_in()
    }
    fn dim_out(&self) -> usize {
        (**self).dim_out()
    }
    fn apply_batch(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        (**self).apply_batch(x)
    }
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        (**self).apply(x)
    }
}

/// Composition `second ∘ first`: apply `first`, then `second`.
///
/// Used to chain students over consecutive time segments
/// (`Psi_{s->u} = Psi_{t->u} ∘ Psi_{s->t}`).
///
/// ```
/// use flowcert::nn::{Activation, Compose, Mlp, MlpConfig, VectorMap};
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
///
/// let cfg = MlpConfig::new(2, vec![4], 2, Activation::Relu).check().unwrap();
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let (a, b) = (Mlp::new(&cfg, &mut rng), Mlp::new(&cfg, &mut rng));
/// let ab = Compose::new(&a, &b).unwrap();
/// assert_eq!(ab.apply(&[0.5, -1.0]), b.apply(&a.apply(&[0.5, -1.0])));
/// ```
#[derive(Debug, Clone)]
pub struct Compose<A, B> {
    first: A,
    second: B,
}

impl<A: VectorMap, B: VectorMap> Compose<A, B> {
    /// Compose two maps; fails if `first.dim_out() != second.dim_in()`
    /// (see [`Compose`] for an example).
    pub fn new(first: A, second: B) -> Result<Self, NnError> {
        if first.dim_out() != second.dim_in() {
            return Err(NnError::ShapeMismatch {
                what: "the first map's output",
                expected: format!("{} components", second.dim_in()),
                found: format!("{} components", first.dim_out()),
                fix: "compose maps whose dimensions chain",
            });
        }
        Ok(Self { first, second })
    }
}

impl<A: VectorMap, B: VectorMap> VectorMap for Compose<A, B> {
    fn dim_in(&self) -> usize {
        self.first.dim_in()
    }
    fn dim_out(&self) -> usize {
        self.second.dim_out()
    }
    fn apply_batch(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.second.apply_batch(&self.first.apply_batch(x))
    }
}
