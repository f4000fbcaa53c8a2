//! Feed-forward networks with per-neuron activations {Identity, ReLU, ReQU}
//! (theory/06-score-approximation.md): sparse layers, exact size counts, batched evaluation,
//! sequential and parallel combinators.
//!
//! ```text
//! h_0 = input,   h_l = act_l( W_l h_{l-1} + b_l )   (l = 1..L),   output = h_L
//! ReLU(z) = max(0, z),   ReQU(z) = max(0, z)^2,   Identity(z) = z
//! ```
//! Conventions for the counts:
//! - `depth` = L, the number of affine maps (hidden layers + the output layer);
//! - `width` = the largest number of neurons in any layer (the output layer included);
//! - `parameters` = the number of non-zero entries of all `W_l` and `b_l`.
//!
//! Identity neurons are a convenience: [`Network::to_relu_requ`] replaces each hidden
//! one by the ReLU pair `z = ReLU(z) - ReLU(-z)`, which is exact in floating point
//! (one of the two terms is exactly zero), so every network here is a ReLU-ReQU network.

use nalgebra::DMatrix;
use serde::Serialize;

use super::error::ApproxError;

/// The activation of one neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Activation {
    /// `z` (pass-through, and the output layer).
    Identity,
    /// `max(0, z)`.
    Relu,
    /// `max(0, z)^2`.
    Requ,
}

impl Activation {
    /// Apply the activation.
    ///
    /// ```
    /// use flowcert::approx::Activation;
    /// assert_eq!(Activation::Requ.apply(-2.0), 0.0);
    /// assert_eq!(Activation::Requ.apply(3.0), 9.0);
    /// assert_eq!(Activation::Relu.apply(-1.0), 0.0);
    /// assert_eq!(Activation::Identity.apply(-1.0), -1.0);
    /// ```
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::Requ => {
                let r = z.max(0.0);
                r * r
            }
        }
    }
}

/// One affine layer followed by per-neuron activations, stored row-compressed (CSR).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    n_in: usize,
    row_ptr: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
    bias: Vec<f64>,
    act: Vec<Activation>,
}

/// One neuron of a layer, as borrowed by [`Layer::row`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// Columns (indices into the previous layer) of the stored weights.
    pub cols: &'a [u32],
    /// The stored weights, aligned with `cols`.
    pub weights: &'a [f64],
    /// The bias.
    pub bias: f64,
    /// The activation.
    pub activation: Activation,
}

impl Layer {
    /// An empty layer reading `n_in` values; add neurons with [`Layer::push`].
    ///
    /// ```
    /// let l = flowcert::approx::Layer::new(3);
    /// assert_eq!((l.n_in(), l.n_out()), (3, 0));
    /// ```
    pub fn new(n_in: usize) -> Self {
        Layer {
            n_in,
            row_ptr: vec![0],
            cols: Vec::new(),
            vals: Vec::new(),
            bias: Vec::new(),
            act: Vec::new(),
        }
    }

    /// Append a neuron `act(sum_i w_i h[c_i] + bias)`; duplicate columns are summed,
    /// columns are sorted and zero weights dropped.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer};
    /// let mut l = Layer::new(2);
    /// l.push(&[(1, 2.0), (0, 0.0), (1, 1.0)], 0.5, Activation::Relu).unwrap();
    /// assert_eq!(l.row(0).cols, &[1]);
    /// assert_eq!(l.row(0).weights, &[3.0]);
    /// assert!(l.push(&[(5, 1.0)], 0.0, Activation::Relu).is_err());
    /// ```
    pub fn push(
        &mut self,
        weights: &[(usize, f64)],
        bias: f64,
        act: Activation,
    ) -> Result<(), ApproxError> {
        let mut w: Vec<(usize, f64)> = weights.to_vec();
        if let Some(&(c, _)) = w.iter().find(|(c, _)| *c >= self.n_in) {
            return Err(ApproxError::LayerColumn {
                column: c,
                n_in: self.n_in,
            });
        }
        w.sort_by_key(|&(c, _)| c);
        let mut merged: Vec<(usize, f64)> = Vec::with_capacity(w.len());
        for (c, v) in w {
            match merged.last_mut() {
                Some((lc, lv)) if *lc == c => *lv += v,
                _ => merged.push((c, v)),
            }
        }
        for (c, v) in merged {
            if v != 0.0 {
                self.cols.push(c as u32);
                self.vals.push(v);
            }
        }
        self.row_ptr.push(self.cols.len());
        self.bias.push(bias);
        self.act.push(act);
        Ok(())
    }

    /// Number of inputs (neurons of the previous layer).
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Layer::new(4).n_in(), 4);
    /// ```
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// Number of neurons.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Layer::new(4).n_out(), 0);
    /// ```
    pub fn n_out(&self) -> usize {
        self.bias.len()
    }

    /// Neuron `i`.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer};
    /// let mut l = Layer::new(1);
    /// l.push(&[(0, -1.0)], 2.0, Activation::Requ).unwrap();
    /// assert_eq!(l.row(0).bias, 2.0);
    /// ```
    pub fn row(&self, i: usize) -> Row<'_> {
        let (a, b) = (self.row_ptr[i], self.row_ptr[i + 1]);
        Row {
            cols: &self.cols[a..b],
            weights: &self.vals[a..b],
            bias: self.bias[i],
            activation: self.act[i],
        }
    }

    /// Non-zero weights plus non-zero biases.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer};
    /// let mut l = Layer::new(2);
    /// l.push(&[(0, 1.0), (1, 1.0)], 0.0, Activation::Relu).unwrap();
    /// l.push(&[(0, 1.0)], -1.0, Activation::Relu).unwrap();
    /// assert_eq!(l.parameters(), 4);
    /// ```
    pub fn parameters(&self) -> usize {
        self.vals.iter().filter(|v| **v != 0.0).count()
            + self.bias.iter().filter(|v| **v != 0.0).count()
    }

    /// Number of neurons with the given activation.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer};
    /// let mut l = Layer::new(1);
    /// l.push(&[(0, 1.0)], 0.0, Activation::Requ).unwrap();
    /// assert_eq!(l.count(Activation::Requ), 1);
    /// ```
    pub fn count(&self, act: Activation) -> usize {
        self.act.iter().filter(|a| **a == act).count()
    }

    /// The dense weight matrix (n_out x n_in) and bias: for checks and small networks.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer};
    /// let mut l = Layer::new(2);
    /// l.push(&[(1, 3.0)], 1.0, Activation::Identity).unwrap();
    /// let (w, b) = l.to_dense();
    /// assert_eq!((w[(0, 1)], b[0]), (3.0, 1.0));
    /// ```
    pub fn to_dense(&self) -> (DMatrix<f64>, Vec<f64>) {
        let mut w = DMatrix::zeros(self.n_out(), self.n_in);
        for i in 0..self.n_out() {
            let r = self.row(i);
            for (&c, &v) in r.cols.iter().zip(r.weights) {
                w[(i, c as usize)] = v;
            }
        }
        (w, self.bias.clone())
    }

    /// `act(W h + b)` for one input vector.
    fn forward(&self, h: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            let (a, b) = (self.row_ptr[i], self.row_ptr[i + 1]);
            let mut z = self.bias[i];
            for (&c, &v) in self.cols[a..b].iter().zip(&self.vals[a..b]) {
                z += v * h[c as usize];
            }
            *o = self.act[i].apply(z);
        }
    }

    /// The same for `n` inputs stored neuron-major (`h[c * n + p]`).
    fn forward_batch(&self, h: &[f64], n: usize, out: &mut [f64]) {
        for i in 0..self.n_out() {
            let (a, b) = (self.row_ptr[i], self.row_ptr[i + 1]);
            let o = &mut out[i * n..(i + 1) * n];
            o.iter_mut().for_each(|v| *v = self.bias[i]);
            for (&c, &v) in self.cols[a..b].iter().zip(&self.vals[a..b]) {
                let src = &h[c as usize * n..(c as usize + 1) * n];
                for (ov, sv) in o.iter_mut().zip(src) {
                    *ov += v * sv;
                }
            }
            let act = self.act[i];
            o.iter_mut().for_each(|v| *v = act.apply(*v));
        }
    }
}

/// A feed-forward network: a sequence of [`Layer`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    n_in: usize,
    layers: Vec<Layer>,
}

/// Depth, width and non-zero parameter count of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SizeCounts {
    /// Number of affine layers.
    pub depth: usize,
    /// Largest number of neurons in a layer.
    pub width: usize,
    /// Non-zero weights and biases.
    pub parameters: usize,
}

/// Batches are evaluated in chunks of this many points (neuron-major buffers).
const CHUNK: usize = 64;

impl Network {
    /// A network from its layers; each layer must read the previous layer's output.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Layer, Network};
    /// let mut l = Layer::new(1);
    /// l.push(&[(0, 1.0)], 0.0, Activation::Requ).unwrap();
    /// let net = Network::new(1, vec![l]).unwrap();
    /// assert_eq!(net.eval(&[3.0]), vec![9.0]);
    /// ```
    pub fn new(n_in: usize, layers: Vec<Layer>) -> Result<Self, ApproxError> {
        let mut prev = n_in;
        for (i, l) in layers.iter().enumerate() {
            if l.n_in() != prev {
                return Err(ApproxError::LayerShape {
                    layer: i,
                    expected: prev,
                    got: l.n_in(),
                });
            }
            prev = l.n_out();
        }
        Ok(Network { n_in, layers })
    }

    /// The identity map of `R^n` as `depth` layers of identity neurons.
    ///
    /// ```
    /// let id = flowcert::approx::Network::identity(2, 3);
    /// assert_eq!(id.eval(&[1.5, -2.0]), vec![1.5, -2.0]);
    /// assert_eq!(id.counts().depth, 3);
    /// ```
    pub fn identity(n: usize, depth: usize) -> Self {
        let layers = (0..depth).map(|_| identity_layer(n)).collect();
        Network { n_in: n, layers }
    }

    /// Input dimension.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Network::identity(2, 1).n_in(), 2);
    /// ```
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// Output dimension.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Network::identity(2, 1).n_out(), 2);
    /// ```
    pub fn n_out(&self) -> usize {
        self.layers.last().map_or(self.n_in, |l| l.n_out())
    }

    /// The layers.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Network::identity(2, 4).layers().len(), 4);
    /// ```
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Exact depth, width and non-zero parameter count (conventions in the module doc).
    ///
    /// ```
    /// let c = flowcert::approx::Network::identity(3, 2).counts();
    /// assert_eq!((c.depth, c.width, c.parameters), (2, 3, 6));
    /// ```
    pub fn counts(&self) -> SizeCounts {
        SizeCounts {
            depth: self.layers.len(),
            width: self.layers.iter().map(Layer::n_out).max().unwrap_or(0),
            parameters: self.layers.iter().map(Layer::parameters).sum(),
        }
    }

    /// Evaluate at one input.
    ///
    /// ```
    /// let id = flowcert::approx::Network::identity(1, 1);
    /// assert_eq!(id.eval(&[2.0]), vec![2.0]);
    /// ```
    pub fn eval(&self, input: &[f64]) -> Vec<f64> {
        let mut h = input.to_vec();
        for l in &self.layers {
            let mut out = vec![0.0; l.n_out()];
            l.forward(&h, &mut out);
            h = out;
        }
        h
    }

    /// Evaluate at the columns of an `n_in x N` matrix; returns `n_out x N`.
    ///
    /// ```
    /// let id = flowcert::approx::Network::identity(2, 2);
    /// let x = nalgebra::DMatrix::from_fn(2, 100, |r, c| (r + c) as f64);
    /// assert_eq!(id.eval_batch(&x), x);
    /// ```
    pub fn eval_batch(&self, inputs: &DMatrix<f64>) -> DMatrix<f64> {
        let n_pts = inputs.ncols();
        let mut out = DMatrix::zeros(self.n_out(), n_pts);
        let max_w = self
            .layers
            .iter()
            .map(Layer::n_out)
            .chain([self.n_in])
            .max()
            .unwrap_or(0);
        let (mut a, mut b) = (vec![0.0; max_w * CHUNK], vec![0.0; max_w * CHUNK]);
        let mut start = 0;
        while start < n_pts {
            let n = CHUNK.min(n_pts - start);
            for p in 0..n {
                for r in 0..self.n_in {
                    a[r * n + p] = inputs[(r, start + p)];
                }
            }
            let mut width = self.n_in;
            for l in &self.layers {
                l.forward_batch(&a[..width * n], n, &mut b[..l.n_out() * n]);
                std::mem::swap(&mut a, &mut b);
                width = l.n_out();
            }
            for p in 0..n {
                for r in 0..width {
                    out[(r, start + p)] = a[r * n + p];
                }
            }
            start += n;
        }
        out
    }

    /// Sequential composition `next o self` (the layers of `next` after those of `self`;
    /// depths add).
    ///
    /// ```
    /// use flowcert::approx::Network;
    /// let c = Network::identity(2, 1).compose(&Network::identity(2, 2)).unwrap();
    /// assert_eq!(c.counts().depth, 3);
    /// assert!(Network::identity(2, 1).compose(&Network::identity(3, 1)).is_err());
    /// ```
    pub fn compose(&self, next: &Network) -> Result<Network, ApproxError> {
        if next.n_in != self.n_out() {
            return Err(ApproxError::ComposeShape {
                outputs: self.n_out(),
                inputs: next.n_in,
            });
        }
        let mut layers = self.layers.clone();
        layers.extend(next.layers.iter().cloned());
        Ok(Network {
            n_in: self.n_in,
            layers,
        })
    }

    /// Parallel combination on a shared input: `x -> (self(x), other(x))`. The shorter
    /// network is padded after its output with identity layers so that depths match;
    /// layers are stacked block-diagonally (the first layers both read the input).
    ///
    /// ```
    /// use flowcert::approx::Network;
    /// let p = Network::identity(2, 1).parallel(&Network::identity(2, 3)).unwrap();
    /// assert_eq!(p.eval(&[1.0, 2.0]), vec![1.0, 2.0, 1.0, 2.0]);
    /// assert_eq!(p.counts().depth, 3);
    /// ```
    pub fn parallel(&self, other: &Network) -> Result<Network, ApproxError> {
        if self.n_in != other.n_in {
            return Err(ApproxError::ParallelShape {
                left: self.n_in,
                right: other.n_in,
            });
        }
        let depth = self.layers.len().max(other.layers.len());
        let a = self.padded(depth);
        let b = other.padded(depth);
        let mut layers = Vec::with_capacity(depth);
        for l in 0..depth {
            let (la, lb) = (&a.layers[l], &b.layers[l]);
            let shift = if l == 0 { 0 } else { la.n_in() };
            let n_in = if l == 0 {
                self.n_in
            } else {
                la.n_in() + lb.n_in()
            };
            let mut out = Layer::new(n_in);
            for (src, off) in [(la, 0usize), (lb, shift)] {
                for i in 0..src.n_out() {
                    let r = src.row(i);
                    let w: Vec<(usize, f64)> = r
                        .cols
                        .iter()
                        .zip(r.weights)
                        .map(|(&c, &v)| (c as usize + off, v))
                        .collect();
                    out.push(&w, r.bias, r.activation)?;
                }
            }
            layers.push(out);
        }
        Network::new(self.n_in, layers)
    }

    /// `self` followed by identity layers up to `depth` layers in total.
    fn padded(&self, depth: usize) -> Network {
        let mut layers = self.layers.clone();
        if layers.is_empty() && depth > 0 {
            layers.push(identity_layer(self.n_in));
        }
        while layers.len() < depth {
            layers.push(identity_layer(
                layers.last().map_or(self.n_in, Layer::n_out),
            ));
        }
        Network {
            n_in: self.n_in,
            layers,
        }
    }

    /// The same function with every hidden identity neuron replaced by the ReLU pair
    /// `z = ReLU(z) - ReLU(-z)` (exact in floating point): a pure ReLU-ReQU network with
    /// an affine output layer.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Network};
    /// let id = Network::identity(2, 3);
    /// let pure = id.to_relu_requ();
    /// assert_eq!(pure.eval(&[-1.0, 2.0]), vec![-1.0, 2.0]);
    /// assert_eq!(pure.layers()[0].count(Activation::Identity), 0);
    /// assert_eq!(pure.counts().width, 4);
    /// ```
    pub fn to_relu_requ(&self) -> Network {
        let n = self.layers.len();
        let mut layers: Vec<Layer> = Vec::with_capacity(n);
        // For the previous layer: original neuron -> (new index, sign pair?)
        let mut prev_map: Vec<(usize, bool)> = (0..self.n_in).map(|i| (i, false)).collect();
        let mut prev_n = self.n_in;
        for (li, l) in self.layers.iter().enumerate() {
            let hidden = li + 1 < n;
            let mut out = Layer::new(prev_n);
            let mut map = Vec::with_capacity(l.n_out());
            for i in 0..l.n_out() {
                let r = l.row(i);
                let mut w: Vec<(usize, f64)> = Vec::with_capacity(2 * r.cols.len());
                for (&c, &v) in r.cols.iter().zip(r.weights) {
                    let (j, pair) = prev_map[c as usize];
                    w.push((j, v));
                    if pair {
                        w.push((j + 1, -v));
                    }
                }
                let idx = out.n_out();
                if hidden && r.activation == Activation::Identity {
                    let neg: Vec<(usize, f64)> = w.iter().map(|&(c, v)| (c, -v)).collect();
                    out.push(&w, r.bias, Activation::Relu)
                        .expect("columns come from the previous layer");
                    out.push(&neg, -r.bias, Activation::Relu)
                        .expect("columns come from the previous layer");
                    map.push((idx, true));
                } else {
                    out.push(&w, r.bias, r.activation)
                        .expect("columns come from the previous layer");
                    map.push((idx, false));
                }
            }
            prev_n = out.n_out();
            prev_map = map;
            layers.push(out);
        }
        Network {
            n_in: self.n_in,
            layers,
        }
    }
}

fn identity_layer(n: usize) -> Layer {
    let mut l = Layer::new(n);
    for i in 0..n {
        l.push(&[(i, 1.0)], 0.0, Activation::Identity)
            .expect("column i < n");
    }
    l
}
