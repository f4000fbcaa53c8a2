//! Building blocks of the score network, each with its error budget
//! (theory/06-score-approximation.md). All act on [`Lin`] expressions of a [`Builder`].
//!
//! ```text
//! square      z^2 = s^2 [ReQU(z/s) + ReQU(-z/s)]                        exact
//! product     x y = (X Y / 4) [(x/X + y/Y)^2 - (x/X - y/Y)^2]           exact
//! max         max(x, y) = y + ReLU(x - y)                                exact
//! clip        clip(x, lo, hi) = lo + ReLU(x - lo) - ReLU(x - hi)         exact
//! Chebyshev   T_2a = 2 T_a^2 - 1,  T_{a+b} = 2 T_a T_b - T_{a-b}         exact, depth ceil(log2 n)
//! ```
//! The approximate blocks, with their budgets, are in [`super::reciprocal`] (Newton) and
//! [`super::softmax`] (range-reduced exp, softmax).
//! The scales `s, X, Y` only condition the rounding (any positive value gives the same
//! exact-arithmetic result); the one-neuron squares ([`square_nonneg`]) need a sign
//! guaranteed by the construction, stated at each use.

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
/// # Panics
/// On an empty slice (a programming error: the maximum of nothing is undefined).
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
