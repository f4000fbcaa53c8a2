//! Architecture of an [`Mlp`](super::Mlp): raw [`MlpConfig`], validated into
//! [`ValidMlpConfig`] by [`MlpConfig::check`].

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::{Activation, NnError};

/// Random initialisation of the weights (biases start at zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Init {
    /// He: `W_ij ~ N(0, 2 / fan_in)`; suits ReLU and SiLU.
    He,
    /// Glorot: `W_ij ~ N(0, 2 / (fan_in + fan_out))`; suits identity.
    Glorot,
}

/// Raw architecture of an [`Mlp`](super::Mlp); validate it with [`MlpConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Input dimension `d_in >= 1`.
    pub dim_in: usize,
    /// Widths of the hidden layers (may be empty: an affine map), each `>= 1`.
    pub hidden: Vec<usize>,
    /// Output dimension `d_out >= 1`.
    pub dim_out: usize,
    /// Activation of the hidden layers.
    pub activation: Activation,
    /// Residual form `Psi(x) = x + f(x)` (needs `d_out == d_in`).
    pub residual: bool,
    /// Weight initialisation.
    pub init: Init,
    /// Factor on the initial read-out weights `W_L` (finite, `>= 0`; biases still start
    /// at zero). `1` is the plain `init` draw; `0` starts the read-out at zero, so a
    /// residual network starts exactly at the identity `Psi(x) = x`.
    #[serde(default = "unit_readout_scale")]
    pub readout_scale: f64,
}

fn unit_readout_scale() -> f64 {
    1.0
}

/// An [`MlpConfig`] that passed [`MlpConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidMlpConfig(MlpConfig);

impl Deref for ValidMlpConfig {
    type Target = MlpConfig;
    fn deref(&self) -> &MlpConfig {
        &self.0
    }
}

impl MlpConfig {
    /// Plain (non-residual) network with He initialisation.
    ///
    /// ```
    /// use flowcert::nn::{Activation, MlpConfig};
    /// let cfg = MlpConfig::new(2, vec![64, 64], 2, Activation::Silu).with_residual(true);
    /// assert!(cfg.check().is_ok());
    /// ```
    pub fn new(dim_in: usize, hidden: Vec<usize>, dim_out: usize, activation: Activation) -> Self {
        Self {
            dim_in,
            hidden,
            dim_out,
            activation,
            residual: false,
            init: Init::He,
            readout_scale: 1.0,
        }
    }

    /// Set the residual flag.
    ///
    /// ```
    /// use flowcert::nn::{Activation, MlpConfig};
    /// assert!(MlpConfig::new(2, vec![4], 2, Activation::Relu).with_residual(true).residual);
    /// ```
    pub fn with_residual(mut self, residual: bool) -> Self {
        self.residual = residual;
        self
    }

    /// Set the initialisation.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Init, MlpConfig};
    /// let cfg = MlpConfig::new(2, vec![4], 2, Activation::Identity).with_init(Init::Glorot);
    /// assert_eq!(cfg.init, Init::Glorot);
    /// ```
    pub fn with_init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Set the read-out initial scale (see [`MlpConfig::readout_scale`]).
    ///
    /// ```
    /// use flowcert::nn::{Activation, MlpConfig};
    /// let cfg = MlpConfig::new(2, vec![4], 2, Activation::Silu).with_readout_scale(0.1);
    /// assert_eq!(cfg.readout_scale, 0.1);
    /// assert!(cfg.with_readout_scale(-1.0).check().unwrap_err().to_string().contains("readout_scale"));
    /// ```
    pub fn with_readout_scale(mut self, scale: f64) -> Self {
        self.readout_scale = scale;
        self
    }

    /// Validate: positive dimensions and widths, equal dimensions if residual, a finite
    /// read-out scale `>= 0`.
    ///
    /// ```
    /// use flowcert::nn::{Activation, MlpConfig};
    /// let err = MlpConfig::new(2, vec![4], 3, Activation::Relu).with_residual(true).check();
    /// assert!(err.unwrap_err().to_string().contains("dim_out == dim_in"));
    /// ```
    pub fn check(self) -> Result<ValidMlpConfig, NnError> {
        let positive = |name, v: usize| {
            if v == 0 {
                Err(NnError::InvalidParameter {
                    name,
                    value: 0.0,
                    fix: "use at least 1",
                })
            } else {
                Ok(())
            }
        };
        positive("dim_in", self.dim_in)?;
        positive("dim_out", self.dim_out)?;
        for &w in &self.hidden {
            positive("hidden width", w)?;
        }
        if !(self.readout_scale.is_finite() && self.readout_scale >= 0.0) {
            return Err(NnError::InvalidParameter {
                name: "readout_scale",
                value: self.readout_scale,
                fix: "use a finite scale >= 0 (1 = plain initialisation, 0 = read-out starts at zero)",
            });
        }
        if self.residual && self.dim_in != self.dim_out {
            return Err(NnError::ResidualDims {
                dim_in: self.dim_in,
                dim_out: self.dim_out,
            });
        }
        Ok(ValidMlpConfig(self))
    }
}
