//! Forward pass with a cache, reverse-mode backward pass and the MSE loss of
//! an [`Mlp`], on pre-allocated buffers reused across steps.

use nalgebra::{DMatrix, DVector};

use super::{Mlp, kernels};
use crate::flowmap::FlowMap;

/// Gradient of a loss with respect to every parameter of an [`Mlp`],
/// laid out like the network (layer `l`: `weights[l]`, `biases[l]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpGradient {
    /// `dLoss/dW_l`, same shape as `W_l`.
    pub weights: Vec<DMatrix<f64>>,
    /// `dLoss/db_l`, same length as `b_l`.
    pub biases: Vec<DVector<f64>>,
}

impl MlpGradient {
    /// All entries in the order of [`Mlp::params`].
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![3], 1, Activation::Relu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(net.workspace(4).gradient().flat().len(), net.param_count());
    /// ```
    pub fn flat(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for (w, b) in self.weights.iter().zip(&self.biases) {
            out.extend_from_slice(w.as_slice());
            out.extend_from_slice(b.as_slice());
        }
        out
    }
}

/// Buffers for one batch size, reused across forward/backward calls
/// (nothing is allocated per step once the batch size is fixed).
///
/// Build it with [`Mlp::workspace`]; it is tied to that network's architecture.
#[derive(Debug, Clone)]
pub struct MlpWorkspace {
    batch: usize,
    /// Hidden activations `a_l` (width x B).
    act: Vec<DMatrix<f64>>,
    /// `act'(z_l)` of the hidden layers (width x B).
    dact: Vec<DMatrix<f64>>,
    /// Network output `Psi(x)` (d_out x B).
    out: DMatrix<f64>,
    /// `dLoss/dz_l` of every layer (n_l x B).
    delta: Vec<DMatrix<f64>>,
    /// Transposed layer inputs `a_{l-1}^T` (B x n_{l-1}).
    input_t: Vec<DMatrix<f64>>,
    /// Transposed weights `W_l^T` (n_{l-1} x n_l).
    w_t: Vec<DMatrix<f64>>,
    /// Scratch for transposed weight gradients (n_{l-1} x n_l).
    grad_t: Vec<DMatrix<f64>>,
    grad: MlpGradient,
}

impl MlpWorkspace {
    /// Buffers for `batch` columns; without `with_grad`, only what a
    /// forward pass needs.
    fn build(net: &Mlp, batch: usize, with_grad: bool) -> Self {
        let widths: Vec<usize> = net.weights.iter().map(|w| w.nrows()).collect();
        let hidden = &widths[..widths.len() - 1];
        let zeros = |n: &usize| DMatrix::zeros(*n, batch);
        let mut ws = Self {
            batch,
            act: hidden.iter().map(zeros).collect(),
            dact: Vec::new(),
            out: DMatrix::zeros(net.dim_out(), batch),
            delta: Vec::new(),
            input_t: Vec::new(),
            w_t: net.weights.iter().map(|w| w.transpose()).collect(),
            grad_t: Vec::new(),
            grad: MlpGradient {
                weights: Vec::new(),
                biases: Vec::new(),
            },
        };
        if with_grad {
            ws.dact = hidden.iter().map(zeros).collect();
            ws.delta = widths.iter().map(zeros).collect();
            ws.input_t = net
                .weights
                .iter()
                .map(|w| DMatrix::zeros(batch, w.ncols()))
                .collect();
            ws.grad_t = net.weights.iter().map(|w| w.transpose()).collect();
            ws.grad = MlpGradient {
                weights: net
                    .weights
                    .iter()
                    .map(|w| DMatrix::zeros(w.nrows(), w.ncols()))
                    .collect(),
                biases: net.biases.iter().map(|b| DVector::zeros(b.len())).collect(),
            };
        }
        ws
    }

    /// Batch size the buffers are sized for.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let mut ws = net.workspace(5);
    /// assert_eq!(ws.batch(), 5);
    /// net.forward(&DMatrix::zeros(2, 5), &mut ws);
    /// assert_eq!(ws.output().shape(), (3, 5));
    /// assert_eq!(ws.gradient().weights.len(), 2);
    /// ```
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Output of the last [`Mlp::forward`] (d_out x B).
    pub fn output(&self) -> &DMatrix<f64> {
        &self.out
    }

    /// Gradient left by the last [`Mlp::backward`] or [`Mlp::loss_and_grad`].
    pub fn gradient(&self) -> &MlpGradient {
        &self.grad
    }
}

impl Mlp {
    /// Buffers for forward/backward passes on batches of `batch` columns
    /// (see [`MlpWorkspace::batch`] for an example).
    pub fn workspace(&self, batch: usize) -> MlpWorkspace {
        MlpWorkspace::build(self, batch, true)
    }

    fn ensure_batch(&self, ws: &mut MlpWorkspace, batch: usize, need_grad: bool) {
        let same_shape = ws.w_t.len() == self.weights.len()
            && ws
                .w_t
                .iter()
                .zip(&self.weights)
                .all(|(t, w)| t.shape() == (w.ncols(), w.nrows()));
        if ws.batch != batch || !same_shape || (need_grad && ws.delta.is_empty()) {
            *ws = MlpWorkspace::build(self, batch, need_grad);
        }
    }

    /// Forward pass, caching what [`Mlp::backward`] needs; the output is
    /// `ws.output()`. Rebuilds `ws` if `x` has a different number of columns
    /// or `ws` belongs to a network of another shape.
    ///
    /// # Panics
    /// If `x.nrows() != self.dim_in()`.
    ///
    /// ```
    /// use flowcert::{flowmap::FlowMap, nn::{Activation, Mlp, MlpConfig}};
    /// use nalgebra::DMatrix;
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![5], 2, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let x = DMatrix::from_fn(2, 3, |i, j| (i + j) as f64);
    /// let mut ws = net.workspace(3);
    /// net.forward(&x, &mut ws);
    /// assert_eq!(ws.output(), &net.map_batch(&x).unwrap());
    /// ```
    pub fn forward(&self, x: &DMatrix<f64>, ws: &mut MlpWorkspace) {
        self.forward_impl(x, ws, true);
    }

    fn forward_impl(&self, x: &DMatrix<f64>, ws: &mut MlpWorkspace, need_grad: bool) {
        self.check_input(x);
        self.ensure_batch(ws, x.ncols(), need_grad);
        let last = self.weights.len() - 1;
        for l in 0..=last {
            let (done, todo) = ws.act.split_at_mut(l);
            let input = if l == 0 { x } else { &done[l - 1] };
            let z = if l == last { &mut ws.out } else { &mut todo[0] };
            self.weights[l].transpose_to(&mut ws.w_t[l]);
            kernels::mul(z, &self.weights[l], &ws.w_t[l], input);
            let b = self.biases[l].as_slice();
            let cols = z.as_mut_slice().chunks_exact_mut(b.len());
            if l == last {
                cols.for_each(|col| col.iter_mut().zip(b).for_each(|(zi, bi)| *zi += bi));
            } else if need_grad {
                let act = self.activation;
                let dcols = ws.dact[l].as_mut_slice().chunks_exact_mut(b.len());
                for (col, dcol) in cols.zip(dcols) {
                    for ((zi, di), bi) in col.iter_mut().zip(dcol).zip(b) {
                        (*zi, *di) = act.eval_with_derivative(*zi + bi);
                    }
                }
            } else {
                let act = self.activation;
                cols.for_each(|col| {
                    col.iter_mut()
                        .zip(b)
                        .for_each(|(zi, bi)| *zi = act.eval(*zi + bi))
                });
            }
        }
        if self.residual {
            ws.out += x;
        }
    }

    /// Backward pass after [`Mlp::forward`] on the same `x`: given
    /// `dout = dLoss/dPsi` (d_out x B), leaves `dLoss/dtheta` in `ws.gradient()`.
    ///
    /// # Panics
    /// If `dout` is not `d_out x B` with the `B` of the forward pass.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// // gradient of L = sum of all outputs
    /// let x = DMatrix::from_element(2, 4, 0.5);
    /// let mut ws = net.workspace(4);
    /// net.forward(&x, &mut ws);
    /// net.backward(&x, &DMatrix::from_element(3, 4, 1.0), &mut ws);
    /// assert_eq!(ws.gradient().biases[1].as_slice(), &[4.0, 4.0, 4.0]);
    /// ```
    pub fn backward(&self, x: &DMatrix<f64>, dout: &DMatrix<f64>, ws: &mut MlpWorkspace) {
        let last = self.weights.len() - 1;
        assert_eq!(dout.shape(), ws.out.shape(), "Mlp::backward: dout shape");
        ws.delta[last].copy_from(dout);
        self.backward_from_delta(x, ws);
    }

    fn backward_from_delta(&self, x: &DMatrix<f64>, ws: &mut MlpWorkspace) {
        for l in (0..self.weights.len()).rev() {
            let input = if l == 0 { x } else { &ws.act[l - 1] };
            let (grad, delta) = (&mut ws.grad.weights[l], &ws.delta[l]);
            kernels::mul_bt(grad, delta, input, &mut ws.input_t[l], &mut ws.grad_t[l]);
            row_sums(delta, &mut ws.grad.biases[l]);
            if l > 0 {
                // delta_{l-1} = (W_l^T delta_l) ⊙ act'(z_{l-1}); w_t[l] is fresh from forward
                let (lower, upper) = ws.delta.split_at_mut(l);
                let prev = &mut lower[l - 1];
                kernels::mul(prev, &ws.w_t[l], &self.weights[l], &upper[0]);
                prev.component_mul_assign(&ws.dact[l - 1]);
            }
        }
    }

    /// Mean squared error `(1/B) sum_j |Psi(x_j) - y_j|^2` and its gradient,
    /// left in `ws.gradient()`.
    ///
    /// # Panics
    /// If `x` is not `d_in x B` or `y` is not `d_out x B`.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use nalgebra::DMatrix;
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(1, vec![4], 1, Activation::Relu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let (x, y) = (DMatrix::from_element(1, 2, 0.3), DMatrix::from_element(1, 2, 1.0));
    /// let mut ws = net.workspace(2);
    /// let loss = net.loss_and_grad(&x, &y, &mut ws);
    /// assert_eq!(loss, net.mse(&x, &y));
    /// ```
    pub fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut MlpWorkspace) -> f64 {
        self.forward(x, ws);
        assert_eq!(y.shape(), ws.out.shape(), "Mlp: target shape");
        let last = self.weights.len() - 1;
        let scale = 2.0 / x.ncols() as f64;
        let mut sum = 0.0;
        let delta = ws.delta[last].as_mut_slice();
        for ((d, &o), &t) in delta.iter_mut().zip(ws.out.as_slice()).zip(y.as_slice()) {
            let r = o - t;
            sum += r * r;
            *d = scale * r;
        }
        self.backward_from_delta(x, ws);
        sum / x.ncols() as f64
    }

    /// Mean squared error `(1/N) sum_j |Psi(x_j) - y_j|^2` over all columns.
    ///
    /// # Panics
    /// If `x` is not `d_in x N` or `y` is not `d_out x N`.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let x = DMatrix::from_element(2, 6, 0.1);
    /// assert_eq!(net.mse(&x, &net.predict(&x)), 0.0);
    /// ```
    pub fn mse(&self, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        // The shapes are asserted first, so evaluation cannot fail here.
        crate::nn::train::mse(self, x, y).unwrap_or(f64::NAN)
    }

    /// `Psi` applied to every column of `x` (allocates a workspace).
    ///
    /// # Panics
    /// If `x.nrows() != self.dim_in()`.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use flowcert::nn::{Activation, Mlp, MlpConfig};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 3, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(net.predict(&DMatrix::zeros(2, 7)).shape(), (3, 7));
    /// ```
    pub fn predict(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        self.check_input(x);
        let mut ws = MlpWorkspace::build(self, x.ncols(), false);
        self.forward_impl(x, &mut ws, false);
        ws.out
    }
}

/// `out = delta 1` (sum of the columns).
fn row_sums(delta: &DMatrix<f64>, out: &mut DVector<f64>) {
    let n = out.len();
    let o = out.as_mut_slice();
    o.fill(0.0);
    for col in delta.as_slice().chunks_exact(n) {
        for (oi, ci) in o.iter_mut().zip(col) {
            *oi += ci;
        }
    }
}
