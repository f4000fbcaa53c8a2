//! Building blocks of the score network, each with its error budget
//! (theory-brief section 7). All act on [`Lin`] expressions of a [`Builder`].
//!
//! ```text
//! square      z^2 = s^2 [ReQU(z/s) + ReQU(-z/s)]                        exact
//! product     x y = (X Y / 4) [(x/X + y/Y)^2 - (x/X - y/Y)^2]           exact
//! max         max(x, y) = y + ReLU(x - y)                                exact
//! clip        clip(x, lo, hi) = lo + ReLU(x - lo) - ReLU(x - hi)         exact
//! Chebyshev   T_2a = 2 T_a^2 - 1,  T_{a+b} = 2 T_a T_b - T_{a-b}         exact, depth ceil(log2 n)
//! reciprocal  1/a = y0 prod_{i<N} (1 + e0^{2^i}) + rel. error e0^{2^N}   (Goldschmidt form of Newton)
//! exp         e^c = p(c / 2^m)^{2^m},  p = Taylor polynomial of degree q  rel. error (1 + r_T)^{2^m} - 1
//! ```
//! The scales `s, X, Y` only condition the rounding (any positive value gives the same
//! exact-arithmetic result); the one-neuron squares ([`square_nonneg`]) need a sign
//! guaranteed by the construction, stated at each use.

use serde::Serialize;

use super::builder::{Builder, Lin};

/// `x^2` with two ReQU neurons; `scale` should be about `sup |x|`.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let x = b.input(0);
/// let s = blocks::square(&mut b, &x, 4.0);
/// assert_eq!(b.finish(&[s]).eval(&[-3.0]), vec![9.0]);
/// ```
pub fn square(b: &mut Builder, x: &Lin, scale: f64) -> Lin {
    let z = x * (1.0 / scale);
    let p = b.requ(&z);
    let n = b.requ(&-&z);
    (p + n) * (scale * scale)
}

/// `x^2` with one ReQU neuron, valid only where `x >= 0` (the caller guarantees it).
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let x = b.input(0);
/// let s = blocks::square_nonneg(&mut b, &x, 4.0);
/// assert_eq!(b.finish(&[s]).eval(&[3.0]), vec![9.0]);
/// ```
pub fn square_nonneg(b: &mut Builder, x: &Lin, scale: f64) -> Lin {
    let z = x * (1.0 / scale);
    b.requ(&z) * (scale * scale)
}

/// `x y` with four ReQU neurons; `xs`, `ys` should be about `sup |x|`, `sup |y|`.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(2);
/// let (x, y) = (b.input(0), b.input(1));
/// let p = blocks::product(&mut b, &x, 10.0, &y, 0.1);
/// let v = b.finish(&[p]).eval(&[7.0, -0.05])[0];
/// assert!((v + 0.35).abs() < 1e-15);
/// ```
pub fn product(b: &mut Builder, x: &Lin, xs: f64, y: &Lin, ys: f64) -> Lin {
    let u = x * (1.0 / xs);
    let v = y * (1.0 / ys);
    let sum = &u + &v;
    let dif = &u - &v;
    let s2 = square(b, &sum, 1.0);
    let d2 = square(b, &dif, 1.0);
    (s2 - d2) * (0.25 * xs * ys)
}

/// `x y` for `x, y >= 0` (the caller guarantees it): three ReQU neurons.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(2);
/// let (x, y) = (b.input(0), b.input(1));
/// let p = blocks::product_nonneg(&mut b, &x, 2.0, &y, 2.0);
/// assert_eq!(b.finish(&[p]).eval(&[1.5, 0.5]), vec![0.75]);
/// ```
pub fn product_nonneg(b: &mut Builder, x: &Lin, xs: f64, y: &Lin, ys: f64) -> Lin {
    let u = x * (1.0 / xs);
    let v = y * (1.0 / ys);
    let sum = &u + &v;
    let dif = &u - &v;
    let s2 = square_nonneg(b, &sum, 1.0);
    let d2 = square(b, &dif, 1.0);
    (s2 - d2) * (0.25 * xs * ys)
}

/// `max(x, y) = y + ReLU(x - y)`.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(2);
/// let (x, y) = (b.input(0), b.input(1));
/// let m = blocks::max(&mut b, &x, &y);
/// assert_eq!(b.finish(&[m]).eval(&[-1.0, 2.0]), vec![2.0]);
/// ```
pub fn max(b: &mut Builder, x: &Lin, y: &Lin) -> Lin {
    let r = b.relu(&(x - y));
    y + &r
}

/// The maximum of several values by a balanced tree of [`max`]: depth `ceil(log2 K)`.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(3);
/// let xs: Vec<_> = (0..3).map(|i| b.input(i)).collect();
/// let m = blocks::max_tree(&mut b, &xs);
/// let net = b.finish(&[m]);
/// assert_eq!(net.eval(&[1.0, 5.0, -2.0]), vec![5.0]);
/// assert_eq!(net.counts().depth, 3);
/// ```
pub fn max_tree(b: &mut Builder, xs: &[Lin]) -> Lin {
    assert!(!xs.is_empty(), "max of nothing");
    let mut level: Vec<Lin> = xs.to_vec();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            next.push(if pair.len() == 2 {
                max(b, &pair[0], &pair[1])
            } else {
                pair[0].clone()
            });
        }
        level = next;
    }
    level.pop().expect("non-empty")
}

/// `clip(x, lo, hi) = lo + ReLU(x - lo) - ReLU(x - hi)` (`lo < hi`).
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let x = b.input(0);
/// let c = blocks::clip(&mut b, &x, -1.0, 2.0);
/// let net = b.finish(&[c]);
/// assert_eq!((net.eval(&[-5.0])[0], net.eval(&[0.5])[0], net.eval(&[3.0])[0]), (-1.0, 0.5, 2.0));
/// ```
pub fn clip(b: &mut Builder, x: &Lin, lo: f64, hi: f64) -> Lin {
    let p = b.relu(&(x.clone() + (-lo)));
    let q = b.relu(&(x.clone() + (-hi)));
    (p - q) + lo
}

/// `max(x, lo) = lo + ReLU(x - lo)` (one-sided clip).
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let x = b.input(0);
/// let c = blocks::clip_below(&mut b, &x, -1.0);
/// assert_eq!(b.finish(&[c]).eval(&[-5.0]), vec![-1.0]);
/// ```
pub fn clip_below(b: &mut Builder, x: &Lin, lo: f64) -> Lin {
    let p = b.relu(&(x.clone() + (-lo)));
    p + lo
}

/// Chebyshev polynomials `T_0(u), ..., T_n(u)` of `u in [-1, 1]`: `T_k` at depth
/// `ceil(log2 k)` above `u` (`T_{2^m} = 2 T_{2^{m-1}}^2 - 1`, otherwise with
/// `a = 2^m < k < 2a`: `T_k = 2 T_a T_{k-a} - T_{2a-k}`), exact in exact arithmetic.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let u = b.input(0);
/// let t = blocks::chebyshev_basis(&mut b, &u, 7);
/// let net = b.finish(&t);
/// let v = net.eval(&[0.3]);
/// assert!((v[7] - (7.0 * 0.3f64.acos()).cos()).abs() < 1e-14);
/// assert_eq!(net.counts().depth, 4); // ceil(log2 7) = 3 product layers + output
/// ```
pub fn chebyshev_basis(b: &mut Builder, u: &Lin, n: usize) -> Vec<Lin> {
    let mut t: Vec<Lin> = vec![Lin::constant(1.0)];
    if n >= 1 {
        t.push(u.clone());
    }
    for k in 2..=n {
        let a = 1usize << (usize::BITS - 1 - k.leading_zeros());
        let tk = if a == k {
            let sq = square(b, &t[k / 2], 1.0);
            sq * 2.0 + (-1.0)
        } else {
            let p = product(b, &t[a], 1.0, &t[k - a], 1.0);
            p * 2.0 - t[2 * a - k].clone()
        };
        t.push(tk);
    }
    t
}

/// Powers `v^0, ..., v^q` of `v in [-1, 1]`: `v^k` at depth `ceil(log2 k)` above `v`.
///
/// ```
/// use flowcert::approx::{blocks, Builder};
/// let mut b = Builder::new(1);
/// let v = b.input(0);
/// let p = blocks::powers(&mut b, &v, 5);
/// let out = b.finish(&p).eval(&[-0.5]);
/// assert!((out[5] + 0.03125).abs() < 1e-16);
/// ```
pub fn powers(b: &mut Builder, v: &Lin, q: usize) -> Vec<Lin> {
    let mut p: Vec<Lin> = vec![Lin::constant(1.0)];
    if q >= 1 {
        p.push(v.clone());
    }
    for k in 2..=q {
        let a = 1usize << (usize::BITS - 1 - k.leading_zeros());
        let pk = if a == k {
            square(b, &p[k / 2], 1.0)
        } else {
            product(b, &p[a], 1.0, &p[k - a], 1.0)
        };
        p.push(pk);
    }
    p
}

/// `ceil(log2 n)` (0 for `n <= 1`): the depth of the power / Chebyshev trees.
///
/// ```
/// assert_eq!(flowcert::approx::blocks::ceil_log2(9), 4);
/// ```
pub fn ceil_log2(n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

/// Reciprocal of `a in [lo, hi]` (`lo > 0`) by Newton's iteration in Goldschmidt form.
///
/// ```text
/// y0 = c1 - c2 a          (minimax linear start: c2 = 1/(lo hi + (hi-lo)^2/8), c1 = c2 (lo+hi))
/// e0 = 1 - a y0,  |e0| <= E = (hi-lo)^2 / (8 lo hi + (hi-lo)^2)   (equioscillation at lo, mid, hi)
/// y_{i+1} = y_i (1 + e_i),  e_{i+1} = e_i^2     =>  y_N = (1 - e0^{2^N}) / a
/// ```
/// so the relative error is `|e0|^{2^N} <= E^{2^N}` (Newton's `y <- y(2 - a y)` has the same
/// iterates; this form takes one layer per step because `y` and `e` update in parallel).
/// Depth: 1 (for `a^2`) + N. Rounding: the products are scaled to `1/lo`, so the relative
/// rounding error is about `N (hi/lo) eps_mach`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecipPlan {
    /// Lower end of the argument range.
    pub lo: f64,
    /// Upper end of the argument range.
    pub hi: f64,
    /// Start coefficient `c1`.
    pub c1: f64,
    /// Start coefficient `c2`.
    pub c2: f64,
    /// `E = sup |e0|`.
    pub start_error: f64,
    /// Number of steps N.
    pub steps: usize,
    /// Proven relative error `E^{2^N}`.
    pub rel_bound: f64,
}

impl RecipPlan {
    /// The fewest steps with relative error `<= rel_target` on `[lo, hi]` (`0 < lo <= hi`).
    ///
    /// ```
    /// let p = flowcert::approx::RecipPlan::new(0.03, 1.0, 1e-12);
    /// assert!(p.rel_bound <= 1e-12 && p.steps == 7);
    /// ```
    pub fn new(lo: f64, hi: f64, rel_target: f64) -> Self {
        let w = hi - lo;
        let c2 = 1.0 / (lo * hi + w * w / 8.0);
        let c1 = c2 * (lo + hi);
        let e = w * w / (8.0 * lo * hi + w * w);
        let mut steps = 0;
        let mut rel = e;
        while rel > rel_target && steps < 64 {
            steps += 1;
            rel = rel * rel;
        }
        RecipPlan {
            lo,
            hi,
            c1,
            c2,
            start_error: e,
            steps,
            rel_bound: rel,
        }
    }

    /// Layers added above the argument.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::RecipPlan::new(1.0, 1.0, 1e-9).depth(), 0);
    /// ```
    pub fn depth(&self) -> usize {
        if self.lo == self.hi {
            0
        } else {
            1 + self.steps
        }
    }

    /// The network `a -> 1/a` on top of the expression `a` (which must lie in `[lo, hi]`).
    ///
    /// ```
    /// use flowcert::approx::{Builder, RecipPlan};
    /// let plan = RecipPlan::new(0.5, 4.0, 1e-13);
    /// let mut b = Builder::new(1);
    /// let a = b.input(0);
    /// let r = plan.build(&mut b, &a);
    /// let net = b.finish(&[r]);
    /// assert!((net.eval(&[0.7])[0] - 1.0 / 0.7).abs() < 1e-12);
    /// ```
    pub fn build(&self, b: &mut Builder, a: &Lin) -> Lin {
        if self.lo == self.hi {
            return Lin::constant(1.0 / self.lo);
        }
        // a >= lo > 0, so the one-neuron square is exact.
        let a2 = square_nonneg(b, a, self.hi);
        let y0 = (a * (-self.c2)) + self.c1;
        let e0 = (a * (-self.c1)).axpy(self.c2, &a2) + 1.0;
        let mut y = y0;
        let mut e = e0;
        let mut e_bound = self.start_error;
        let mut y_bound = (1.0 + self.start_error) / self.lo;
        for i in 0..self.steps {
            // y_i = (1 - e0^{2^i})/a > 0 and 1 + e_i >= 1 - E > 0: non-negative product.
            let one_plus_e = e.clone() + 1.0;
            let y_next = product_nonneg(b, &y, y_bound, &one_plus_e, 1.0 + e_bound);
            if i + 1 < self.steps {
                e = if i == 0 {
                    square(b, &e, e_bound)
                } else {
                    // e_i = e0^{2^i} >= 0 for i >= 1
                    square_nonneg(b, &e, e_bound)
                };
                e_bound *= e_bound;
            }
            y = y_next;
            y_bound = 1.0 / self.lo;
        }
        y
    }
}

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
