//! Fully connected network on batches of column vectors, with an optional
//! residual form, forward pass with a cache, and backward pass for any loss
//! given its gradient with respect to the output (MSE built in).
//!
//! ```text
//! a_0 = x                                   (d_in x B, points as columns)
//! a_l = act(W_l a_{l-1} + b_l)              l = 1 .. L-1   (hidden layers)
//! f(x) = W_L a_{L-1} + b_L                  (linear read-out)
//! Psi(x) = f(x)          (plain)   or   x + f(x)   (residual, d_out = d_in)
//! MSE(x, y) = (1/B) sum_j |Psi(x_j) - y_j|^2
//! ```
//!
//! Backward (reverse mode), with `delta_L = dMSE/dPsi = 2 (Psi - y) / B`:
//!
//! ```text
//! dW_l = delta_l a_{l-1}^T,   db_l = delta_l 1,
//! delta_{l-1} = (W_l^T delta_l) ⊙ act'(W_{l-1} a_{l-2} + b_{l-1})
//! ```
//!
//! All products go through `gemm` on owned, contiguous matrices: transposes
//! are materialised into workspace buffers first (nalgebra 0.35's `gemm` on
//! transposed or strided views with a dimension <= 5 is unsound, and
//! `tr_mul` skips the fast kernel).

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::{Activation, Init, NnError, ValidMlpConfig};
use crate::flowmap::{FlowMap, MapError};

mod backprop;
mod kernels;

pub use backprop::{MlpGradient, MlpWorkspace};

/// Fully connected network `Psi: R^d_in -> R^d_out` (see the module docs).
///
/// Serialises with serde; deserialising re-checks the layer shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MlpLayers")]
pub struct Mlp {
    weights: Vec<DMatrix<f64>>,
    biases: Vec<DVector<f64>>,
    activation: Activation,
    residual: bool,
}

impl Mlp {
    /// Random network: weights from `cfg.init`, the read-out layer's multiplied by
    /// `cfg.readout_scale` (exact zeros for 0), zero biases; deterministic in `rng`,
    /// and the draws do not depend on the scale.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// use rand_chacha::ChaCha8Rng;
    /// let cfg = MlpConfig::new(3, vec![16, 16], 3, Activation::Silu).check().unwrap();
    /// let a = Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(7));
    /// let b = Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(7));
    /// assert_eq!(a, b);
    /// assert_eq!(a.param_count(), (3 * 16 + 16) + (16 * 16 + 16) + (16 * 3 + 3));
    /// ```
    pub fn new(cfg: &ValidMlpConfig, rng: &mut ChaCha8Rng) -> Self {
        let mut sizes = vec![cfg.dim_in];
        sizes.extend_from_slice(&cfg.hidden);
        sizes.push(cfg.dim_out);
        let mut weights = Vec::with_capacity(sizes.len() - 1);
        let mut biases = Vec::with_capacity(sizes.len() - 1);
        let layers = sizes.len() - 1;
        for (l, pair) in sizes.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let var = match cfg.init {
                Init::He => 2.0 / fan_in as f64,
                Init::Glorot => 2.0 / (fan_in + fan_out) as f64,
            };
            let sd = var.sqrt();
            let mut w = DMatrix::from_fn(fan_out, fan_in, |_, _| {
                sd * rng.sample::<f64, _>(StandardNormal)
            });
            let scale = cfg.readout_scale;
            if l + 1 == layers && scale != 1.0 {
                w.apply(|v| *v = if scale == 0.0 { 0.0 } else { *v * scale });
            }
            weights.push(w);
            biases.push(DVector::zeros(fan_out));
        }
        Self {
            weights,
            biases,
            activation: cfg.activation,
            residual: cfg.residual,
        }
    }

    /// Network from explicit layers: `weights[l]` is `n_{l+1} x n_l`, `biases[l]`
    /// has `n_{l+1}` entries. Used by constructive (hand-built) networks.
    ///
    /// ```
    /// use flowcert::{flowmap::FlowMap, nn::{Activation, Mlp}};
    /// use nalgebra::{DMatrix, DVector};
    /// let w = DMatrix::from_row_slice(1, 2, &[1.0, -1.0]);
    /// let net = Mlp::from_layers(vec![w], vec![DVector::from_element(1, 0.5)], Activation::Relu, false)
    ///     .unwrap();
    /// assert_eq!(net.map_point(&[3.0, 1.0]).unwrap().as_slice(), &[2.5]);
    /// ```
    pub fn from_layers(
        weights: Vec<DMatrix<f64>>,
        biases: Vec<DVector<f64>>,
        activation: Activation,
        residual: bool,
    ) -> Result<Self, NnError> {
        if weights.is_empty() || weights.len() != biases.len() {
            return Err(NnError::ShapeMismatch {
                what: "the layer list",
                expected: "as many bias vectors as weight matrices, at least one".into(),
                found: format!("{} weights and {} biases", weights.len(), biases.len()),
                fix: "pass one (W_l, b_l) pair per layer",
            });
        }
        for (l, (w, b)) in weights.iter().zip(&biases).enumerate() {
            let fan_in_ok = l == 0 || weights[l - 1].nrows() == w.ncols();
            if !fan_in_ok || b.len() != w.nrows() || w.is_empty() {
                return Err(NnError::ShapeMismatch {
                    what: "a layer",
                    expected: "W_l of shape n_{l+1} x n_l, non-empty, with b_l of length n_{l+1}"
                        .into(),
                    found: format!("layer {l}: W {:?}, b {}", w.shape(), b.len()),
                    fix: "chain the layer shapes",
                });
            }
        }
        let (dim_in, dim_out) = (weights[0].ncols(), weights[weights.len() - 1].nrows());
        if residual && dim_in != dim_out {
            return Err(NnError::ResidualDims { dim_in, dim_out });
        }
        Ok(Self {
            weights,
            biases,
            activation,
            residual,
        })
    }

    /// Number of layers `L` (hidden layers + read-out).
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(net.depth(), 2);
    /// assert_eq!(net.activation(), Activation::Silu);
    /// assert!(!net.is_residual());
    /// assert_eq!(net.weights()[1].shape(), (3, 8));
    /// assert_eq!(net.biases()[0].len(), 8);
    /// ```
    pub fn depth(&self) -> usize {
        self.weights.len()
    }

    /// Activation of the hidden layers.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Whether the network is `x + f(x)`.
    pub fn is_residual(&self) -> bool {
        self.residual
    }

    /// Weight matrices `W_1 .. W_L`.
    pub fn weights(&self) -> &[DMatrix<f64>] {
        &self.weights
    }

    /// Bias vectors `b_1 .. b_L`.
    pub fn biases(&self) -> &[DVector<f64>] {
        &self.biases
    }

    pub(crate) fn weights_mut(&mut self) -> &mut [DMatrix<f64>] {
        &mut self.weights
    }

    /// Total number of trainable scalars.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(net.param_count(), (2 * 8 + 8) + (8 * 3 + 3));
    /// ```
    pub fn param_count(&self) -> usize {
        self.weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| w.len() + b.len())
            .sum()
    }

    /// All parameters, layer by layer: `W_l` (column-major), then `b_l`.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![3], 2, Activation::Relu).check().unwrap();
    /// let mut net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let mut p = net.params();
    /// p[0] += 1.0;
    /// net.set_params(&p).unwrap();
    /// assert_eq!(net.params(), p);
    /// ```
    pub fn params(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.param_count());
        for (w, b) in self.weights.iter().zip(&self.biases) {
            out.extend_from_slice(w.as_slice());
            out.extend_from_slice(b.as_slice());
        }
        out
    }

    /// Overwrite all parameters from a slice in the order of [`Mlp::params`].
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let mut net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert!(net.set_params(&[0.0; 3]).is_err());
    /// net.set_params(&vec![0.0; net.param_count()]).unwrap();
    /// assert!(net.params().iter().all(|&p| p == 0.0));
    /// ```
    pub fn set_params(&mut self, p: &[f64]) -> Result<(), NnError> {
        if p.len() != self.param_count() {
            return Err(NnError::ShapeMismatch {
                what: "the parameter slice",
                expected: format!("{} entries", self.param_count()),
                found: format!("{} entries", p.len()),
                fix: "pass a slice from params() of a network with the same architecture",
            });
        }
        let mut rest = p;
        for (w, b) in self.weights.iter_mut().zip(&mut self.biases) {
            let (pw, r) = rest.split_at(w.len());
            let (pb, r) = r.split_at(b.len());
            w.as_mut_slice().copy_from_slice(pw);
            b.as_mut_slice().copy_from_slice(pb);
            rest = r;
        }
        Ok(())
    }

    /// Visit `(parameter block, gradient block)` pairs in the order of
    /// [`Mlp::params`]; the optimizer updates parameters through this.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let mut net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let mut ws = net.workspace(4);
    /// net.loss_and_grad(&DMatrix::zeros(2, 4), &DMatrix::from_element(3, 4, 1.0), &mut ws);
    /// // plain gradient descent through the visitor
    /// net.visit_params(ws.gradient(), &mut |p, g| {
    ///     p.iter_mut().zip(g).for_each(|(pi, gi)| *pi -= 0.1 * gi)
    /// });
    /// ```
    pub fn visit_params(&mut self, grad: &MlpGradient, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        for l in 0..self.weights.len() {
            f(self.weights[l].as_mut_slice(), grad.weights[l].as_slice());
            f(self.biases[l].as_mut_slice(), grad.biases[l].as_slice());
        }
    }

    fn check_input(&self, x: &DMatrix<f64>) {
        assert_eq!(
            x.nrows(),
            self.dim_in(),
            "Mlp: input has {} rows, network dim_in is {}",
            x.nrows(),
            self.dim_in()
        );
    }
}

impl FlowMap for Mlp {
    fn dim_in(&self) -> usize {
        self.weights[0].ncols()
    }
    fn dim_out(&self) -> usize {
        self.weights[self.weights.len() - 1].nrows()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        let y = self.map_batch(&DMatrix::from_column_slice(x.len(), 1, x))?;
        Ok(y.column(0).into_owned())
    }
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        MapError::check_input(self.dim_in(), xs.nrows())?;
        Ok(self.predict(xs))
    }
}

/// Unchecked serde form of an [`Mlp`].
#[derive(Deserialize)]
struct MlpLayers {
    weights: Vec<DMatrix<f64>>,
    biases: Vec<DVector<f64>>,
    activation: Activation,
    residual: bool,
}

impl TryFrom<MlpLayers> for Mlp {
    type Error = NnError;
    fn try_from(raw: MlpLayers) -> Result<Self, NnError> {
        Mlp::from_layers(raw.weights, raw.biases, raw.activation, raw.residual)
    }
}
