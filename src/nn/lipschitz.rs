//! Lipschitz-budgeted students: an [`Mlp`] whose Lipschitz constant is
//! certified to be at most a budget `M`.
//!
//! For `f = W_L o act o W_{L-1} o ... o act o W_1` (biases do not matter),
//!
//! ```text
//! Lip(f) <= C(f) := prod_l ||W_l||_2 * Lip(act)^(L-1)
//! plain:     Psi = f,       Lip(Psi) <= C(f)          budget on C(f): M
//! residual:  Psi = x + f,   Lip(Psi) <= 1 + C(f)      budget on C(f): M - 1  (M > 1)
//! ```
//!
//! After every optimizer step, [`LipschitzMlp::project`] computes each
//! `||W_l||_2` exactly (largest singular value from an SVD, not power
//! iteration, which approaches it from below) and, when the product exceeds
//! the budget, scales every layer by the same factor so that the product
//! sits just under it. [`LipschitzMlp::certified_lipschitz`] returns the bound
//! from fresh SVDs. `Lip(act)` is 1 for ReLU/identity and 1.1 for SiLU
//! ([`Activation::lipschitz_bound`](super::Activation::lipschitz_bound)).
//!
//! The bound is what the stability theorems of `theory/` need from a student:
//! a certified `Lip(Psi)`, not an estimate.

use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{
    Minibatch, Mlp, MlpConfig, NnError, Precision, TrainWorkspace, Trainable, ValidMlpConfig,
};
use crate::flowmap::{FlowMap, MapError};
use crate::tolerance::{LIPSCHITZ_PROJECTION_MARGIN, SPECTRAL_NORM_REL};

/// Cap on the SVD's QR sweeps before falling back to the Frobenius norm.
const SVD_MAX_ITER: usize = 10_000;

/// Certified spectral norm `||W||_2 = sigma_max(W)`, from the singular values
/// of an SVD of an owned copy (the taller orientation), inflated by
/// `1 + SPECTRAL_NORM_REL` to cover the SVD's rounding, so that it is an upper
/// bound in floating point too.
///
/// Non-finite entries give `+inf`; an empty matrix gives 0; if the SVD does not
/// converge, the Frobenius norm (also an upper bound) is returned.
///
/// ```
/// use flowcert::nn::spectral_norm;
/// use nalgebra::DMatrix;
/// let w = DMatrix::from_row_slice(2, 2, &[3.0, 0.0, 0.0, -4.0]);
/// assert!((spectral_norm(&w) - 4.0).abs() < 1e-12);
/// ```
pub fn spectral_norm(w: &DMatrix<f64>) -> f64 {
    if w.is_empty() {
        return 0.0;
    }
    if !w.iter().all(|v| v.is_finite()) {
        return f64::INFINITY;
    }
    let tall = if w.nrows() >= w.ncols() {
        w.clone()
    } else {
        w.transpose()
    };
    match tall.try_svd_unordered(false, false, f64::EPSILON, SVD_MAX_ITER) {
        Some(svd) => svd.singular_values.max() * (1.0 + SPECTRAL_NORM_REL),
        None => w.norm() * (1.0 + SPECTRAL_NORM_REL),
    }
}

/// Raw settings of a [`LipschitzMlp`]; validate with [`LipschitzConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LipschitzConfig {
    /// Architecture; `mlp.residual` selects the residual form `x + f(x)`.
    pub mlp: MlpConfig,
    /// Budget `M` on `Lip(Psi)`: finite, `> 0` (plain) or `> 1` (residual).
    pub budget: f64,
}

/// A [`LipschitzConfig`] that passed [`LipschitzConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLipschitzConfig {
    mlp: ValidMlpConfig,
    budget: f64,
}

impl ValidLipschitzConfig {
    /// The validated architecture.
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzConfig, LipschitzMlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let mlp = MlpConfig::new(2, vec![8], 2, Activation::Relu).with_residual(true);
    /// let cfg = LipschitzConfig { mlp, budget: 1.5 }.check().unwrap();
    /// assert!(cfg.mlp().residual);
    /// assert_eq!(cfg.budget(), 1.5);
    /// ```
    pub fn mlp(&self) -> &ValidMlpConfig {
        &self.mlp
    }
    /// The budget `M` (see [`ValidLipschitzConfig::mlp`] for an example).
    pub fn budget(&self) -> f64 {
        self.budget
    }
}

impl LipschitzConfig {
    /// Validate the architecture and the budget.
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzConfig, MlpConfig};
    /// let mlp = MlpConfig::new(2, vec![16], 2, Activation::Relu).with_residual(true);
    /// let err = LipschitzConfig { mlp, budget: 0.5 }.check().unwrap_err();
    /// assert!(err.to_string().contains("budget"));
    /// ```
    pub fn check(self) -> Result<ValidLipschitzConfig, NnError> {
        let mlp = self.mlp.check()?;
        let floor = if mlp.residual { 1.0 } else { 0.0 };
        if !(self.budget.is_finite() && self.budget > floor) {
            return Err(NnError::InvalidParameter {
                name: "budget",
                value: self.budget,
                fix: if mlp.residual {
                    "a residual student x + f(x) needs a finite budget M > 1 (Lip(f) <= M - 1)"
                } else {
                    "use a finite budget M > 0"
                },
            });
        }
        Ok(ValidLipschitzConfig {
            mlp,
            budget: self.budget,
        })
    }
}

/// An [`Mlp`] kept inside `{Lip(Psi) <= M}` by projection (see the module docs).
///
/// Deserialising re-checks the budget and projects, so a loaded student is
/// always inside its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LipschitzParts")]
pub struct LipschitzMlp {
    net: Mlp,
    budget: f64,
}

impl LipschitzMlp {
    /// Random network from `cfg.mlp()`, projected into the budget.
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzConfig, LipschitzMlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let mlp = MlpConfig::new(2, vec![32, 32], 2, Activation::Relu);
    /// let cfg = LipschitzConfig { mlp, budget: 0.5 }.check().unwrap();
    /// let net = LipschitzMlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
    /// assert!(net.certified_lipschitz() <= 0.5);
    /// ```
    pub fn new(cfg: &ValidLipschitzConfig, rng: &mut ChaCha8Rng) -> Self {
        let mut out = Self {
            net: Mlp::new(cfg.mlp(), rng),
            budget: cfg.budget,
        };
        out.project();
        out
    }

    /// Wrap an existing network, projecting it into the budget `budget`.
    ///
    /// ```
    /// use flowcert::{flowmap::FlowMap, nn::{Activation, LipschitzMlp, Mlp}};
    /// use nalgebra::{DMatrix, DVector};
    /// let w = DMatrix::from_row_slice(1, 1, &[4.0]);
    /// let net = Mlp::from_layers(vec![w], vec![DVector::zeros(1)], Activation::Relu, false).unwrap();
    /// let lip = LipschitzMlp::from_mlp(net, 2.0).unwrap();
    /// assert!((lip.map_point(&[1.0]).unwrap()[0] - 2.0).abs() < 1e-8);
    /// ```
    pub fn from_mlp(net: Mlp, budget: f64) -> Result<Self, NnError> {
        let floor = if net.is_residual() { 1.0 } else { 0.0 };
        if !(budget.is_finite() && budget > floor) {
            return Err(NnError::InvalidParameter {
                name: "budget",
                value: budget,
                fix: "use a finite budget M > 0, or M > 1 for a residual network",
            });
        }
        let mut out = Self { net, budget };
        out.project();
        Ok(out)
    }

    /// The budget `M`.
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzConfig, LipschitzMlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let mlp = MlpConfig::new(2, vec![8], 2, Activation::Relu).with_residual(true);
    /// let cfg = LipschitzConfig { mlp, budget: 1.5 }.check().unwrap();
    /// let net = LipschitzMlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(net.budget(), 1.5);
    /// assert!(net.network().is_residual());
    /// let plain = net.into_network();
    /// assert_eq!(plain.depth(), 2);
    /// ```
    pub fn budget(&self) -> f64 {
        self.budget
    }

    /// The underlying network.
    pub fn network(&self) -> &Mlp {
        &self.net
    }

    /// Give up the budget and return the network.
    pub fn into_network(self) -> Mlp {
        self.net
    }

    /// Certified `||W_l||_2` of every layer (see [`spectral_norm`]).
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzConfig, LipschitzMlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let mlp = MlpConfig::new(2, vec![8], 2, Activation::Relu).with_residual(true);
    /// let cfg = LipschitzConfig { mlp, budget: 1.5 }.check().unwrap();
    /// let net = LipschitzMlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let c: f64 = net.layer_norms().iter().product();
    /// assert!((1.0 + c - net.certified_lipschitz()).abs() < 1e-12);
    /// ```
    pub fn layer_norms(&self) -> Vec<f64> {
        self.net.weights().iter().map(spectral_norm).collect()
    }

    /// Budget on `C(f) = prod ||W_l||_2 Lip(act)^(L-1)`: `M`, or `M - 1` if residual.
    fn budget_f(&self) -> f64 {
        if self.net.is_residual() {
            self.budget - 1.0
        } else {
            self.budget
        }
    }

    /// `Lip(act)^(number of hidden layers)`.
    fn activation_factor(&self) -> f64 {
        let hidden = self.net.depth() - 1;
        self.net.activation().lipschitz_bound().powi(hidden as i32)
    }

    /// Certified upper bound on `Lip(Psi)`: `C(f)`, or `1 + C(f)` if residual,
    /// from exact spectral norms. At most [`LipschitzMlp::budget`] after
    /// construction and after every training step.
    ///
    /// ```
    /// use flowcert::{flowmap::FlowMap, nn::{Activation, LipschitzMlp, Mlp}};
    /// use nalgebra::{DMatrix, DVector};
    /// let w1 = DMatrix::from_row_slice(2, 1, &[1.0, -1.0]);
    /// let w2 = DMatrix::from_row_slice(1, 2, &[1.0, 1.0]);
    /// let b = vec![DVector::zeros(2), DVector::zeros(1)];
    /// // |x| = relu(x) + relu(-x): Lipschitz 1, certificate sqrt(2) * sqrt(2) = 2
    /// let net = Mlp::from_layers(vec![w1, w2], b, Activation::Relu, false).unwrap();
    /// let lip = LipschitzMlp::from_mlp(net, 10.0).unwrap();
    /// assert!((lip.certified_lipschitz() - 2.0).abs() < 1e-9);
    /// assert_eq!(lip.map_point(&[-3.0]).unwrap().as_slice(), &[3.0]);
    /// ```
    pub fn certified_lipschitz(&self) -> f64 {
        let c: f64 = self.layer_norms().iter().product::<f64>() * self.activation_factor();
        if self.net.is_residual() { 1.0 + c } else { c }
    }

    /// Scale all layers by a common factor so that
    /// `prod ||W_l||_2 Lip(act)^(L-1) <= (1 - LIPSCHITZ_PROJECTION_MARGIN) * budget_f`;
    /// a no-op when the product is already under it.
    ///
    /// ```
    /// use flowcert::nn::{Activation, LipschitzMlp, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![32], 2, Activation::Relu).check().unwrap();
    /// let big = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let mut net = LipschitzMlp::from_mlp(big, 100.0).unwrap();
    /// let before = net.network().clone();
    /// net.project(); // already inside the budget: unchanged
    /// assert_eq!(net.network(), &before);
    /// ```
    pub fn project(&mut self) {
        let target = self.budget_f() * (1.0 - LIPSCHITZ_PROJECTION_MARGIN);
        let norms = self.layer_norms();
        let c: f64 = norms.iter().product::<f64>() * self.activation_factor();
        if !c.is_finite() || c <= target {
            // non-finite weights are left for the divergence check of `train`
            return;
        }
        let kappa = (target / c).powf(1.0 / norms.len() as f64);
        for w in self.net.weights_mut() {
            *w *= kappa;
        }
        // fresh SVDs of the scaled layers agree with kappa * norms to ~1e-14
        // relative, far inside the margin: the certificate stays <= budget
    }
}

impl FlowMap for LipschitzMlp {
    fn dim_in(&self) -> usize {
        self.net.dim_in()
    }
    fn dim_out(&self) -> usize {
        self.net.dim_out()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        self.net.map_point(x)
    }
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        self.net.map_batch(xs)
    }
}

impl Trainable for LipschitzMlp {
    type Workspace = TrainWorkspace;
    fn workspace(&self, batch: usize, precision: Precision) -> TrainWorkspace {
        TrainWorkspace::new(&self.net, batch, precision)
    }
    fn param_count(&self) -> usize {
        self.net.param_count()
    }
    fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad(&self.net, x, y)
    }
    fn loss_and_grad_on(&self, batch: &mut Minibatch<'_>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad_at(&self.net, batch.inputs(), batch.targets(), batch.cols())
    }
    fn visit_params(&mut self, ws: &TrainWorkspace, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        self.net.visit_params(ws.gradient(), f)
    }
    fn project(&mut self) {
        LipschitzMlp::project(self)
    }
}

/// Unchecked serde form of a [`LipschitzMlp`].
#[derive(Deserialize)]
struct LipschitzParts {
    net: Mlp,
    budget: f64,
}

impl TryFrom<LipschitzParts> for LipschitzMlp {
    type Error = NnError;
    fn try_from(raw: LipschitzParts) -> Result<Self, NnError> {
        LipschitzMlp::from_mlp(raw.net, raw.budget)
    }
}
