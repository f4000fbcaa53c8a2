//! Elementwise activations of the hidden layers and their Lipschitz bounds.

use serde::{Deserialize, Serialize};

use super::elem::{relu_pair, silu_pair};

/// Upper bound on `sup_z |silu'(z)|`; the supremum is 1.0998393... at z = 2.3994.
const SILU_LIPSCHITZ: f64 = 1.1;

/// Elementwise activation of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Activation {
    /// `silu(z) = z / (1 + exp(-z))`: smooth, exp-based (cheaper than `tanh`;
    /// the `exp` is an inlined polynomial so whole layers vectorise).
    Silu,
    /// `relu(z) = max(z, 0)`, with `relu'(0) = 0`.
    Relu,
    /// `z`: the network is affine.
    Identity,
}

impl Activation {
    /// Value of the activation at `z`.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.eval(-1.0), 0.0);
    /// assert!((Activation::Silu.eval(1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
    /// ```
    pub fn eval(self, z: f64) -> f64 {
        self.eval_with_derivative(z).0
    }

    /// Derivative of the activation at `z`.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.derivative(2.0), 1.0);
    /// assert_eq!(Activation::Silu.derivative(0.0), 0.5);
    /// ```
    pub fn derivative(self, z: f64) -> f64 {
        self.eval_with_derivative(z).1
    }

    /// `(act(z), act'(z))` in one pass (one `exp` for SiLU).
    /// NaN inputs give NaN outputs, so divergence is never hidden.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Identity.eval_with_derivative(3.0), (3.0, 1.0));
    /// ```
    #[inline]
    pub fn eval_with_derivative(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Silu => silu_pair(z),
            Activation::Relu => relu_pair(z),
            Activation::Identity => (z, 1.0),
        }
    }

    /// A certified upper bound on the Lipschitz constant `sup |act'|`:
    /// 1 for ReLU and identity, 1.1 for SiLU (true value 1.09984).
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.lipschitz_bound(), 1.0);
    /// assert!(Activation::Silu.lipschitz_bound() > Activation::Silu.derivative(2.3994));
    /// ```
    pub fn lipschitz_bound(self) -> f64 {
        match self {
            Activation::Silu => SILU_LIPSCHITZ,
            Activation::Relu | Activation::Identity => 1.0,
        }
    }
}
