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
//! student.rs    StudentBudget -> check() -> ValidStudentBudget: capacity and training
//!               budget of a student (network and training run for a dimension d)
//! ```
//!
//! Every student implements [`FlowMap`](crate::flowmap::FlowMap), so students, exact
//! flows, their compositions and users' maps are evaluated the same way: a `d x N` matrix
//! of points as columns in, a `d' x N` matrix out.
//!
//! All randomness (initialisation, minibatches) comes from a `ChaCha8Rng` passed
//! in by the caller: the same seed gives bit-identical parameters.

pub mod activation;
pub mod adam;
pub mod architecture;
mod elem;
pub mod engine;
pub mod lipschitz;
pub mod mlp;
pub mod precision;
pub mod student;
pub mod train;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig, LrSchedule, ValidAdamConfig};
pub use architecture::{Init, MlpConfig, ValidMlpConfig};
pub use engine::{SimdBackend, TrainWorkspace};
pub use lipschitz::{LipschitzConfig, LipschitzMlp, ValidLipschitzConfig, spectral_norm};
pub use mlp::{Mlp, MlpGradient, MlpWorkspace};
pub use precision::Precision;
pub use student::{DEFAULT_READOUT_SCALE, StudentBudget, ValidStudentBudget};
pub use train::{
    LossRecord, Minibatch, ReferenceMlp, TrainConfig, TrainReport, Trainable, ValidTrainConfig,
    mse, train,
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
    /// A student budget setting is out of range.
    #[error("{setting} {value} {problem}")]
    Budget {
        /// The setting, named as the command-line flag (`--width`, `--batch`, ...).
        setting: &'static str,
        /// The rejected value.
        value: String,
        /// What is wrong and how to fix it.
        problem: String,
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
