//! The capacity and training budget of a student: what every segment of a distilled
//! sampler gets (theory/04-composition-and-grids.md: fixed capacity per segment is the
//! point of the grid comparison; theory/05-mismatch.md: the Lipschitz-budgeted students).
//!
//! ```text
//! network    d -> width x depth (activation) -> d,  residual Psi(x) = x + f(x) or plain f(x)
//! training   `steps` Adam steps of `batch` pairs out of `samples` teacher pairs,
//!            learning rate `lr` with `schedule`
//! ```
//! Raw [`StudentBudget`] -> [`StudentBudget::check`] -> [`ValidStudentBudget`], which
//! builds the network and training configurations for a dimension `d`.

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::{
    Activation, LrSchedule, MlpConfig, NnError, Precision, TrainConfig, ValidMlpConfig,
    ValidTrainConfig,
};

/// Raw student budget; validate with [`StudentBudget::check`].
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
    /// Learning-rate decay over the run.
    pub schedule: LrSchedule,
    /// Hidden activation.
    pub activation: Activation,
    /// Residual form `Psi(x) = x + f(x)`, else plain `f(x)`.
    pub residual: bool,
    /// Precision of the training steps (students are evaluated in `f64` either way).
    /// `f32` for the distillation experiment's default: on the two-mode mixtures, 5 seeds,
    /// every grid and N, the relative MSE moves by at most 0.71% in any cell against a seed
    /// spread of about 10% (theory/04-composition-and-grids.md, "Precision of the
    /// students"), and training is about twice as fast.
    /// Budgets stored before the field existed read as `f64`.
    #[serde(default = "f64_precision")]
    pub precision: Precision,
    /// Factor on the initial read-out weights (theory/04-composition-and-grids.md, "The
    /// student's start"): small values start a residual student near the identity
    /// `Psi(x) = x`; `1` is the plain He draw of every layer (the initialisation before the
    /// field existed, which budgets stored without it read as).
    #[serde(default = "unit_readout_scale")]
    pub readout_scale: f64,
}

fn f64_precision() -> Precision {
    Precision::F64
}

fn unit_readout_scale() -> f64 {
    1.0
}

/// The distillation students' default read-out initial scale, chosen by the sweep over
/// `{1, 0.3, 0.1, 0.03, 0}` in theory/04-composition-and-grids.md ("The student's start"):
/// 0.03 and 0 tie (geometric-mean relative MSE 0.51x that of 1, 0.1 gives 0.54x, 0.3
/// 0.63x); 0.03 keeps a random read-out, so every layer gets a gradient from the first
/// step.
pub const DEFAULT_READOUT_SCALE: f64 = 0.03;

impl Default for StudentBudget {
    /// The distillation experiment's student: a residual MLP with two hidden layers of 64
    /// SiLU units, 1500 Adam steps of 128 on 4096 teacher pairs, constant `lr = 2e-3`,
    /// trained in `f32`, read-out initialised at [`DEFAULT_READOUT_SCALE`] (a near-identity
    /// start).
    fn default() -> Self {
        StudentBudget {
            width: 64,
            depth: 2,
            steps: 1500,
            batch: 128,
            samples: 4096,
            lr: 2e-3,
            schedule: LrSchedule::Constant,
            activation: Activation::Silu,
            residual: true,
            precision: Precision::F32,
            readout_scale: DEFAULT_READOUT_SCALE,
        }
    }
}

/// A [`StudentBudget`] that passed [`StudentBudget::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidStudentBudget(StudentBudget);

impl Deref for ValidStudentBudget {
    type Target = StudentBudget;
    fn deref(&self) -> &StudentBudget {
        &self.0
    }
}

impl StudentBudget {
    /// Validate: every count `>= 1`, `batch <= samples`, `lr` finite and `> 0`, the read-out
    /// scale finite and `>= 0`. Settings
    /// are named as the command-line flags of `flowcert distill`.
    ///
    /// ```
    /// use flowcert::nn::StudentBudget;
    /// assert!(StudentBudget::default().check().is_ok());
    /// let e = StudentBudget { width: 0, ..StudentBudget::default() }.check().unwrap_err();
    /// assert_eq!(e.to_string(), "--width 0 must be at least 1");
    /// let e = StudentBudget { batch: 100, samples: 10, ..StudentBudget::default() }.check().unwrap_err();
    /// assert!(e.to_string().starts_with("--batch 100 exceeds --samples 10"));
    /// ```
    pub fn check(self) -> Result<ValidStudentBudget, NnError> {
        for (setting, v) in [
            ("--width", self.width),
            ("--depth", self.depth),
            ("--steps", self.steps),
            ("--batch", self.batch),
            ("--samples", self.samples),
        ] {
            if v == 0 {
                return Err(NnError::Budget {
                    setting,
                    value: "0".into(),
                    problem: "must be at least 1".into(),
                });
            }
        }
        if self.batch > self.samples {
            return Err(NnError::Budget {
                setting: "--batch",
                value: self.batch.to_string(),
                problem: format!(
                    "exceeds --samples {}: give a batch no larger than the sample budget",
                    self.samples
                ),
            });
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(NnError::Budget {
                setting: "--lr",
                value: self.lr.to_string(),
                problem: "must be a finite number > 0".into(),
            });
        }
        if !(self.readout_scale.is_finite() && self.readout_scale >= 0.0) {
            return Err(NnError::Budget {
                setting: "--readout-scale",
                value: self.readout_scale.to_string(),
                problem: "must be a finite number >= 0 (1 = plain initialisation, 0 = the \
                          residual student starts at the identity)"
                    .into(),
            });
        }
        // The schedule and the network shape are checked by the configurations they
        // build; build both once here so a valid budget always builds.
        let valid = ValidStudentBudget(self);
        valid.mlp(1)?;
        valid.training()?;
        Ok(valid)
    }
}

impl ValidStudentBudget {
    /// The (unchecked) network configuration of a student on `R^d`, e.g. to wrap in a
    /// [`super::LipschitzConfig`].
    ///
    /// ```
    /// let b = flowcert::nn::StudentBudget::default().check().unwrap();
    /// assert_eq!(b.network(2).hidden, vec![64, 64]);
    /// ```
    pub fn network(&self, d: usize) -> MlpConfig {
        MlpConfig::new(d, vec![self.width; self.depth], d, self.activation)
            .with_residual(self.residual)
            .with_readout_scale(self.readout_scale)
    }

    /// The validated network of a student on `R^d`.
    ///
    /// ```
    /// let b = flowcert::nn::StudentBudget::default().check().unwrap();
    /// let m = b.mlp(3).unwrap();
    /// assert_eq!((m.dim_in, m.hidden.clone(), m.residual), (3, vec![64, 64], true));
    /// ```
    pub fn mlp(&self, d: usize) -> Result<ValidMlpConfig, NnError> {
        self.network(d).check()
    }

    /// The training run of one segment.
    ///
    /// ```
    /// let b = flowcert::nn::StudentBudget::default().check().unwrap();
    /// assert_eq!(b.training().unwrap().steps, 1500);
    /// ```
    pub fn training(&self) -> Result<ValidTrainConfig, NnError> {
        TrainConfig {
            schedule: self.schedule,
            precision: self.precision,
            ..TrainConfig::new(self.steps, self.batch, self.lr)
        }
        .check()
    }
}
