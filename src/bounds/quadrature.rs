//! Globally adaptive Gauss-Kronrod 7-15 quadrature (the QUADPACK `qag` scheme).
//!
//! Each panel `[a, b]` is integrated by the 15-point Kronrod rule `K15`; the embedded
//! 7-point Gauss rule `G7` gives the error estimate `|K15 - G7|`, which is conservative
//! for smooth integrands (`K15` is exact for degree 22, `G7` for degree 13). The panel
//! with the largest estimate is bisected until the summed estimate is below
//! `max(abs_tol, rel_tol |I|)`. The bounds `L(t)` are continuous but have kinks where a
//! `max` switches branch; there `|K15 - G7| = O(h^2)` and bisection simply zooms in on
//! the kink, so no kink locations are needed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Kronrod nodes on `[-1, 1]` (non-negative half, descending; the last is the centre).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights for [`XGK`].
const WGK: [f64; 8] = [
    0.022_935_322_010_529_225,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];
/// Gauss weights for the odd Kronrod nodes `XGK[1], XGK[3], XGK[5], XGK[7]`.
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// Most panels one integration may create before it stops refining.
pub const MAX_PANELS: usize = 4000;

/// An integral with its (conservative) error estimate.
///
/// ```
/// let r = flowcert::bounds::quadrature::integrate(|x: f64| x.exp(), 0.0, 1.0, 0.0, 1e-13);
/// assert!((r.value - (1f64.exp() - 1.0)).abs() < 1e-14);
/// assert!(r.error <= 1e-13 * r.value && r.evals >= 15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadResult {
    /// The integral.
    pub value: f64,
    /// Sum of the panels' `|K15 - G7|`.
    pub error: f64,
    /// Integrand evaluations.
    pub evals: usize,
}

/// One accepted panel of an adaptive partition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Panel {
    /// Left end.
    pub a: f64,
    /// Right end.
    pub b: f64,
    /// `K15` on `[a, b]`.
    pub value: f64,
    /// `|K15 - G7|` on `[a, b]`.
    pub error: f64,
    /// `K15` of `|f|` on `[a, b]` (the scale of the relative tolerance).
    pub abs_value: f64,
}

impl Eq for Panel {}

impl PartialOrd for Panel {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Largest error first; ties broken by position so the order is deterministic.
impl Ord for Panel {
    fn cmp(&self, other: &Self) -> Ordering {
        self.error
            .total_cmp(&other.error)
            .then_with(|| other.a.total_cmp(&self.a))
    }
}

/// `K15` and `|K15 - G7|` on one panel.
///
/// ```
/// // Exact for polynomials of degree <= 13 in both rules: zero error estimate.
/// let p = flowcert::bounds::quadrature::kronrod15(|x: f64| x.powi(13) + 1.0, -1.0, 2.0);
/// let exact = (2f64.powi(14) - 1.0) / 14.0 + 3.0;
/// assert!((p.value - exact).abs() < 1e-12 && p.error < 1e-10);
/// ```
pub fn kronrod15<F: FnMut(f64) -> f64>(mut f: F, a: f64, b: f64) -> Panel {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let fc = f(centre);
    let mut kron = WGK[7] * fc;
    let mut gauss = WG[3] * fc;
    let mut kron_abs = WGK[7] * fc.abs();
    for i in 0..7 {
        let dx = half * XGK[i];
        let (fl, fr) = (f(centre - dx), f(centre + dx));
        kron += WGK[i] * (fl + fr);
        kron_abs += WGK[i] * (fl.abs() + fr.abs());
        if i % 2 == 1 {
            gauss += WG[i / 2] * (fl + fr);
        }
    }
    Panel {
        a,
        b,
        value: kron * half,
        error: ((kron - gauss) * half).abs(),
        abs_value: kron_abs * half.abs(),
    }
}

/// The adaptive partition of `[breaks[0], breaks[last]]`, started from the panels between
/// consecutive `breaks` (ascending), refined until the summed error estimate is at most
/// `max(abs_tol, rel_tol |I|)`, the panel budget [`MAX_PANELS`] is spent, a panel cannot be
/// split in floating point, or the integrand is not finite. `|I|` is measured as the
/// integral of `|f|` (so a sign-changing integrand with a tiny integral still converges).
/// Panels are returned in order.
///
/// ```
/// use flowcert::bounds::quadrature::partition;
/// // |x - 1/3| has a kink off every dyadic point: bisection zooms in on it.
/// let (panels, r) = partition(|x: f64| (x - 1.0 / 3.0).abs(), &[0.0, 1.0], 0.0, 1e-12);
/// assert!((r.value - 5.0 / 18.0).abs() < 1e-12);
/// assert!(panels.windows(2).all(|w| w[0].b == w[1].a));
/// ```
pub fn partition<F: FnMut(f64) -> f64>(
    mut f: F,
    breaks: &[f64],
    abs_tol: f64,
    rel_tol: f64,
) -> (Vec<Panel>, QuadResult) {
    let mut heap = BinaryHeap::new();
    let mut done = Vec::new();
    let mut evals = 0;
    let (mut scale, mut error) = (0.0, 0.0);
    for w in breaks.windows(2) {
        let p = kronrod15(&mut f, w[0], w[1]);
        evals += 15;
        scale += p.abs_value;
        error += p.error;
        heap.push(p);
    }
    let mut finite = scale.is_finite() && error.is_finite();
    while finite && heap.len() + done.len() < MAX_PANELS {
        if error <= abs_tol.max(rel_tol * scale) {
            // Running sums drift; confirm with exact sums before stopping.
            scale = heap.iter().chain(&done).map(|p: &Panel| p.abs_value).sum();
            error = heap.iter().chain(&done).map(|p: &Panel| p.error).sum();
            if error <= abs_tol.max(rel_tol * scale) {
                break;
            }
        }
        let Some(worst) = heap.pop() else { break };
        let mid = 0.5 * (worst.a + worst.b);
        if !(worst.a < mid && mid < worst.b) {
            done.push(worst);
            continue;
        }
        let left = kronrod15(&mut f, worst.a, mid);
        let right = kronrod15(&mut f, mid, worst.b);
        evals += 30;
        scale += left.abs_value + right.abs_value - worst.abs_value;
        error += left.error + right.error - worst.error;
        finite = scale.is_finite() && error.is_finite();
        heap.push(left);
        heap.push(right);
    }
    let mut panels: Vec<Panel> = heap.into_vec();
    panels.extend(done);
    panels.sort_by(|p, q| p.a.total_cmp(&q.a));
    let value = panels.iter().map(|p| p.value).sum();
    let error = panels.iter().map(|p| p.error).sum();
    (
        panels,
        QuadResult {
            value,
            error,
            evals,
        },
    )
}

/// `int_a^b f` by [`partition`] from the single panel `[a, b]` (`a < b`; for `a >= b` the
/// result is 0 or the negated integral over `[b, a]`).
///
/// ```
/// let r = flowcert::bounds::quadrature::integrate(|x: f64| 1.0 / x, 1e-6, 1.0, 0.0, 1e-13);
/// assert!((r.value - 1e6f64.ln()).abs() < 1e-12);
/// ```
pub fn integrate<F: FnMut(f64) -> f64>(
    f: F,
    a: f64,
    b: f64,
    abs_tol: f64,
    rel_tol: f64,
) -> QuadResult {
    match a.partial_cmp(&b) {
        Some(Ordering::Less) => partition(f, &[a, b], abs_tol, rel_tol).1,
        Some(Ordering::Greater) => {
            let r = partition(f, &[b, a], abs_tol, rel_tol).1;
            QuadResult {
                value: -r.value,
                ..r
            }
        }
        _ => QuadResult {
            value: if a == b { 0.0 } else { f64::NAN },
            error: 0.0,
            evals: 0,
        },
    }
}
