//! The exponential by range reduction and the softmax of the log-weights
//! (theory/06-score-approximation.md), each with a proven relative / `l^1` error.

use serde::Serialize;

use super::blocks::{ceil_log2, clip_below, max_tree, powers, product_nonneg, square_nonneg};
use super::builder::{Builder, Lin};
use super::reciprocal::RecipPlan;

/// `e^c` for `c in [-B, 0]` by range reduction: `w = c / 2^m in [-h, 0]` (`h = B/2^m`),
/// `p(w) = sum_{i<=q} w^i / i!`, then `m` exact squarings.
///
/// ```text
/// |e^w - p(w)| <= h^{q+1}/(q+1)!          (Lagrange remainder, e^xi <= 1 for xi <= 0)
/// p(w) = e^w (1 + eta),  |eta| <= r_T = e^h h^{q+1}/(q+1)!
/// p(w)^{2^m} = e^c (1 + eta)^{2^m},  relative error <= (1 + r_T)^{2^m} - 1
/// ```
/// `(m, q)` minimise the depth `ceil(log2 q) + m`, then `q`, subject to `h <= 1`: the Taylor
/// terms then sum to at most `e^h <= e` against a value `>= e^{-1}`, so the sum is well
/// conditioned; rounding grows by a factor 2 per squaring (relative `~ 2^m eps_mach`).
/// The powers of `v = c/B in [-1, 0]` are computed (bounded by 1) and scaled by `h^i / i!`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExpPlan {
    /// The clip level `B`: inputs lie in `[-B, 0]`.
    pub range: f64,
    /// Squarings `m`.
    pub squarings: usize,
    /// Taylor degree `q`.
    pub degree: usize,
    /// Proven relative error.
    pub rel_bound: f64,
}

impl ExpPlan {
    /// The shallowest plan with relative error `<= rel_target` on `[-range, 0]`.
    ///
    /// ```
    /// let p = flowcert::approx::ExpPlan::new(25.0, 1e-10);
    /// assert!(p.rel_bound <= 1e-10);
    /// ```
    pub fn new(range: f64, rel_target: f64) -> Self {
        let mut best: Option<(usize, usize, ExpPlan)> = None;
        for m in 0..=60usize {
            let h = range / (m as f64).exp2();
            if h > 1.0 {
                continue;
            }
            let mut fact = 1.0;
            let mut hp = h;
            for q in 1..=40usize {
                hp *= h; // h^{q+1}
                fact *= (q + 1) as f64; // (q+1)!
                let rt = h.exp() * hp / fact;
                if rt >= 1.0 {
                    continue;
                }
                let rel = ((m as f64).exp2() * rt.ln_1p()).exp_m1();
                if rel <= rel_target {
                    let depth = ceil_log2(q) + m;
                    let plan = ExpPlan {
                        range,
                        squarings: m,
                        degree: q,
                        rel_bound: rel,
                    };
                    if best.is_none_or(|(d, qq, _)| (depth, q) < (d, qq)) {
                        best = Some((depth, q, plan));
                    }
                    break;
                }
            }
        }
        best.expect("m = 60 with q = 40 meets any target above 1e-300")
            .2
    }

    /// Layers added above the argument.
    ///
    /// ```
    /// let p = flowcert::approx::ExpPlan::new(10.0, 1e-6);
    /// assert_eq!(p.depth(), flowcert::approx::blocks::ceil_log2(p.degree) + p.squarings);
    /// ```
    pub fn depth(&self) -> usize {
        ceil_log2(self.degree) + self.squarings
    }

    /// The network `c -> e^c` on top of `c` (which must lie in `[-range, 0]`).
    ///
    /// ```
    /// use flowcert::approx::{Builder, ExpPlan};
    /// let plan = ExpPlan::new(20.0, 1e-12);
    /// let mut b = Builder::new(1);
    /// let c = b.input(0);
    /// let e = plan.build(&mut b, &c);
    /// let net = b.finish(&[e]);
    /// let v = net.eval(&[-7.5])[0];
    /// assert!((v / (-7.5f64).exp() - 1.0).abs() < 1e-11);
    /// ```
    pub fn build(&self, b: &mut Builder, c: &Lin) -> Lin {
        let v = c * (1.0 / self.range);
        let h = self.range / (self.squarings as f64).exp2();
        let pw = powers(b, &v, self.degree);
        let mut p = Lin::constant(0.0);
        let mut coef = 1.0;
        for (i, vi) in pw.iter().enumerate() {
            if i > 0 {
                coef *= h / i as f64;
            }
            p = p.axpy(coef, vi);
        }
        // p(w) >= e^w (1 - r_T) > 0, and squares of positives stay positive.
        for _ in 0..self.squarings {
            p = square_nonneg(b, &p, 1.0);
        }
        p
    }
}

/// Softmax of `K >= 2` log-weights with a proven `l^1` error.
///
/// ```text
/// m = max_k l_k (ReLU tree),  c_k = max(l_k - m, -Bc),  E_k = exp(c_k)  (ExpPlan, rel. error rho_E)
/// S = sum_k E_k in [1, 1 + (K-1)(1 + rho_E)],  1/S by RecipPlan (rel. error rho_R),  r_k = E_k / S
/// |r_hat - softmax(l)|_1 <= 2 (K-1) e^{-Bc} + 2 rho_E / (1 - rho_E) + rho_R
/// ```
/// (clipping raises the weights `e^{l_k - m} <= e^{-Bc}` of at most K-1 terms by at most
/// `e^{-Bc}` while `sum_k e^{l_k - m} >= 1`; relative errors `eta_k` of the weights change
/// each ratio by a factor in `[(1-rho_E)/(1+rho_E), (1+rho_E)/(1-rho_E)]`.) The target
/// `eta` is split in three equal parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SoftmaxPlan {
    /// Number of components K.
    pub k: usize,
    /// Clip level `Bc`.
    pub clip: f64,
    /// The exponential.
    pub exp: ExpPlan,
    /// The reciprocal of the sum.
    pub recip: RecipPlan,
    /// Proven `l^1` error.
    pub bound: f64,
}

impl SoftmaxPlan {
    /// Size the softmax of `k >= 2` inputs for an `l^1` error `<= eta`.
    ///
    /// # Panics
    /// For `k < 2` (the softmax of one input is the constant 1: use no network).
    ///
    /// ```
    /// let p = flowcert::approx::SoftmaxPlan::new(3, 1e-8);
    /// assert!(p.bound <= 1e-8);
    /// ```
    pub fn new(k: usize, eta: f64) -> Self {
        assert!(k >= 2, "softmax of one input is the constant 1");
        let part = eta / 3.0;
        let clip = (2.0 * (k - 1) as f64 / part).ln();
        let exp = ExpPlan::new(clip, part / (2.0 + part));
        let hi = 1.0 + (k - 1) as f64 * (1.0 + exp.rel_bound);
        let recip = RecipPlan::new(1.0, hi, part);
        let bound = 2.0 * (k - 1) as f64 * (-clip).exp()
            + 2.0 * exp.rel_bound / (1.0 - exp.rel_bound)
            + recip.rel_bound;
        SoftmaxPlan {
            k,
            clip,
            exp,
            recip,
            bound,
        }
    }

    /// Layers added above the log-weights.
    ///
    /// ```
    /// let p = flowcert::approx::SoftmaxPlan::new(4, 1e-6);
    /// assert_eq!(p.depth(), 2 + 1 + p.exp.depth() + p.recip.depth());
    /// ```
    pub fn depth(&self) -> usize {
        ceil_log2(self.k) + 1 + self.exp.depth() + self.recip.depth()
    }

    /// The unnormalised weights `E_k`, their bound `1 + rho_E`, and `1/S`.
    ///
    /// ```
    /// use flowcert::approx::{Builder, SoftmaxPlan};
    /// let plan = SoftmaxPlan::new(2, 1e-9);
    /// let mut b = Builder::new(2);
    /// let l = [b.input(0), b.input(1)];
    /// let (e, _, inv_s) = plan.build_weights(&mut b, &l);
    /// let net = b.finish(&[e[0].clone(), e[1].clone(), inv_s]);
    /// let v = net.eval(&[0.0, -1.0]);
    /// assert!((v[0] - 1.0).abs() < 1e-12 && (v[1] - (-1.0f64).exp()).abs() < 1e-9);
    /// ```
    pub fn build_weights(&self, b: &mut Builder, logits: &[Lin]) -> (Vec<Lin>, f64, Lin) {
        let m = max_tree(b, logits);
        let e: Vec<Lin> = logits
            .iter()
            .map(|l| {
                let c = clip_below(b, &(l - &m), -self.clip);
                self.exp.build(b, &c)
            })
            .collect();
        let mut sum = Lin::constant(0.0);
        for ek in &e {
            sum = &sum + ek;
        }
        let inv_s = self.recip.build(b, &sum);
        (e, 1.0 + self.exp.rel_bound, inv_s)
    }

    /// The responsibilities `r_k = E_k (1/S)` (one more product layer).
    ///
    /// ```
    /// use flowcert::approx::{Builder, SoftmaxPlan};
    /// let plan = SoftmaxPlan::new(3, 1e-9);
    /// let mut b = Builder::new(3);
    /// let l: Vec<_> = (0..3).map(|i| b.input(i)).collect();
    /// let r = plan.build(&mut b, &l);
    /// let v = b.finish(&r).eval(&[1.0, 1.0, -900.0]);
    /// assert!((v[0] - 0.5).abs() < 1e-9 && v[2].abs() < 1e-9);
    /// ```
    pub fn build(&self, b: &mut Builder, logits: &[Lin]) -> Vec<Lin> {
        let (e, eb, inv_s) = self.build_weights(b, logits);
        e.iter()
            .map(|ek| product_nonneg(b, ek, eb, &inv_s, 1.0))
            .collect()
    }
}
