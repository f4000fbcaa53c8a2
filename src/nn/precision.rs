//! Arithmetic precision of the students' training steps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::NnError;

/// Precision of the forward and backward passes of a training step.
///
/// Parameters, Adam's moments and every evaluation of a trained network stay in
/// `f64`; `F32` rounds the parameters and the minibatch to `f32` for each step's
/// gradient (twice the SIMD lanes, half the memory traffic). Same seed, same bytes
/// holds within each precision.
///
/// ```
/// use flowcert::nn::Precision;
/// assert_eq!(Precision::default(), Precision::F64);
/// assert_eq!("f32".parse::<Precision>().unwrap(), Precision::F32);
/// assert_eq!(Precision::F32.to_string(), "f32");
/// assert!("f16".parse::<Precision>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Precision {
    /// Double precision throughout (bit-identical to [`Mlp::forward`](super::Mlp::forward)
    /// and [`Mlp::backward`](super::Mlp::backward)).
    #[default]
    F64,
    /// Single-precision forward and backward passes.
    F32,
}

impl Precision {
    /// `"f64"` or `"f32"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = NnError;
    fn from_str(s: &str) -> Result<Self, NnError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f64" => Ok(Precision::F64),
            "f32" => Ok(Precision::F32),
            _ => Err(NnError::UnknownPrecision(s.to_string())),
        }
    }
}
