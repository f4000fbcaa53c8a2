//! Local maximisers behind the empirical suprema of theory/02 and theory/03: the
//! searches are lower estimates of a supremum, so they must climb to the local maxima
//! they start near, not stop at the best sample.
//!
//! - [`bfgs_ascent`]: quasi-Newton ascent (BFGS on the inverse Hessian, backtracking
//!   Armijo line search that also *expands* a successful step, so it follows
//!   exponentially flat tails such as `||J|| -> L` far out along a mode boundary) for
//!   objectives with an analytic gradient (`||J(x, t)||`, `lambda_max(-J)`, whose gradient
//!   is `v^T (dJ/dx) v` at the eigenvector `v`).
//! - [`nelder_mead`]: the derivative-free simplex method (adaptive parameters of Gao and
//!   Han for dimension `d`), for `ln ||DPhi(x)||`, where a gradient would need the
//!   second-order variational equation.
//! - [`es_polish`]: a (1+1) evolution strategy (step doubled on success, shrunk by
//!   `2^{-1/4}` on failure) that finishes either at kinks where two eigenvalues cross.
//!
//! An objective may move `x` into its domain (a ball `B_R`) before evaluating it; the
//! methods keep the moved point. Every method is deterministic (the ES from the caller's
//! seeded generator) and spends at most its evaluation budget.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// A function to maximise.
pub trait Objective {
    /// The value at `x` (which the objective may project into its domain), or `None` where
    /// it is not finite.
    fn value(&mut self, x: &mut [f64]) -> Option<f64>;

    /// The value and its gradient at `x` (projected as in [`Objective::value`]). The
    /// default has no gradient: `None`.
    fn value_grad(&mut self, x: &mut [f64], grad: &mut [f64]) -> Option<f64> {
        let _ = (x, grad);
        None
    }
}

/// Where a local ascent ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Ascent {
    /// The best point reached.
    pub x: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Objective evaluations spent.
    pub evals: usize,
}

/// The ascent stops once a step changes the value by less than this fraction of it and
/// moves `x` by less than [`STEP_REL`] of `1 + |x|`: the 13th digit, below what the
/// `ATTAINED_REL = 1e-9` verdict needs.
pub const VALUE_REL: f64 = 1e-13;
/// See [`VALUE_REL`].
pub const STEP_REL: f64 = 1e-13;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

/// BFGS ascent from `x0` with initial step length `step0` along the gradient, at most
/// `budget` evaluations (each with the gradient).
///
/// ```
/// use flowcert::bounds::ascent::{Objective, bfgs_ascent};
/// // f(x) = -(x0 - 1)^2 - 10 (x1 + 2)^2, maximum 0 at (1, -2).
/// struct Quad;
/// impl Objective for Quad {
///     fn value(&mut self, x: &mut [f64]) -> Option<f64> {
///         Some(-(x[0] - 1.0).powi(2) - 10.0 * (x[1] + 2.0).powi(2))
///     }
///     fn value_grad(&mut self, x: &mut [f64], g: &mut [f64]) -> Option<f64> {
///         g[0] = -2.0 * (x[0] - 1.0);
///         g[1] = -20.0 * (x[1] + 2.0);
///         self.value(x)
///     }
/// }
/// let a = bfgs_ascent(&mut Quad, &[5.0, 3.0], 1.0, 200);
/// assert!((a.x[0] - 1.0).abs() < 1e-6 && (a.x[1] + 2.0).abs() < 1e-6 && a.evals <= 200);
/// ```
pub fn bfgs_ascent<O: Objective + ?Sized>(
    obj: &mut O,
    x0: &[f64],
    step0: f64,
    budget: usize,
) -> Ascent {
    let d = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; d];
    let mut evals = 1;
    let Some(mut f) = obj.value_grad(&mut x, &mut g) else {
        return Ascent {
            x,
            value: f64::NEG_INFINITY,
            evals,
        };
    };
    // Inverse Hessian of -f, started as a scaled identity (a first step of length step0).
    let reset = |h: &mut Vec<f64>, g: &[f64], len: f64| {
        let gn = norm(g).max(f64::MIN_POSITIVE);
        h.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..d {
            h[i * d + i] = len / gn;
        }
    };
    let mut h = vec![0.0; d * d];
    reset(&mut h, &g, step0);
    let (mut xn, mut gn) = (vec![0.0; d], vec![0.0; d]);
    let (mut xt, mut gt) = (vec![0.0; d], vec![0.0; d]);
    let mut p = vec![0.0; d];
    let mut last_len = step0;
    while evals < budget {
        for i in 0..d {
            p[i] = (0..d).map(|j| h[i * d + j] * g[j]).sum();
        }
        let mut slope = dot(&p, &g);
        if slope.is_nan() || slope <= 0.0 {
            reset(&mut h, &g, last_len);
            for i in 0..d {
                p[i] = h[i * d + i] * g[i];
            }
            slope = dot(&p, &g);
            if slope.is_nan() || slope <= 0.0 {
                break; // zero gradient
            }
        }
        // Backtracking (Armijo) line search; a full step that succeeds is then doubled
        // while the value keeps increasing (exponentially flat tails).
        let mut step = 1.0;
        let mut found: Option<f64> = None;
        for _ in 0..40 {
            if evals >= budget {
                break;
            }
            for i in 0..d {
                xn[i] = x[i] + step * p[i];
            }
            evals += 1;
            match obj.value_grad(&mut xn, &mut gn) {
                Some(v) if v >= f + 1e-4 * step * slope => {
                    found = Some(v);
                    break;
                }
                _ => step *= 0.25,
            }
        }
        let Some(mut fv) = found else {
            break;
        };
        if step == 1.0 {
            while evals < budget && step < 64.0 {
                for i in 0..d {
                    xt[i] = x[i] + 2.0 * step * p[i];
                }
                evals += 1;
                match obj.value_grad(&mut xt, &mut gt) {
                    Some(v) if v > fv => {
                        fv = v;
                        step *= 2.0;
                        xn.copy_from_slice(&xt);
                        gn.copy_from_slice(&gt);
                    }
                    _ => break,
                }
            }
        }
        // BFGS update for -f: s = xn - x, y = -(gn - g).
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g.iter().zip(&gn).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let moved = norm(&s);
        let small_step = moved <= STEP_REL * (1.0 + norm(&xn));
        let small_gain = fv - f <= VALUE_REL * fv.abs();
        last_len = moved.max(f64::MIN_POSITIVE);
        if sy > 1e-12 * norm(&s) * norm(&y) {
            let hy: Vec<f64> = (0..d)
                .map(|i| (0..d).map(|j| h[i * d + j] * y[j]).sum())
                .collect();
            let yhy = dot(&y, &hy);
            let rho = 1.0 / sy;
            for i in 0..d {
                for j in 0..d {
                    h[i * d + j] +=
                        (1.0 + rho * yhy) * rho * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
                }
            }
        } else {
            reset(&mut h, &gn, last_len);
        }
        x.copy_from_slice(&xn);
        g.copy_from_slice(&gn);
        f = fv;
        if small_step && small_gain {
            break;
        }
    }
    Ascent { x, value: f, evals }
}

/// Nelder-Mead maximisation from `x0` with an initial simplex of edge `scale` along the
/// coordinate axes, at most `budget` evaluations; stops when the simplex values agree to
/// `ftol` plus [`VALUE_REL`] of their size (`ftol`: the objective's own noise, e.g. the
/// accuracy of an ODE solve) or its diameter is below [`STEP_REL`] `(1 + |x|)`.
///
/// ```
/// use flowcert::bounds::ascent::{Objective, nelder_mead};
/// struct Bump;
/// impl Objective for Bump {
///     fn value(&mut self, x: &mut [f64]) -> Option<f64> {
///         Some(-(x[0] - 0.5).powi(2) - (x[1] + 0.25).powi(2) - (x[2] - 2.0).powi(2))
///     }
/// }
/// let a = nelder_mead(&mut Bump, &[0.0, 0.0, 0.0], 0.5, 600, 0.0);
/// assert!(a.value > -1e-10 && a.evals <= 600);
/// ```
pub fn nelder_mead<O: Objective + ?Sized>(
    obj: &mut O,
    x0: &[f64],
    scale: f64,
    budget: usize,
    ftol: f64,
) -> Ascent {
    let d = x0.len();
    let n = d as f64;
    // Adaptive coefficients (Gao & Han 2012): reflection 1, expansion 1 + 2/n,
    // contraction 3/4 - 1/(2n), shrink 1 - 1/n.
    let (ce, cc, cs) = (1.0 + 2.0 / n, 0.75 - 0.5 / n, 1.0 - 1.0 / n);
    let mut evals = 0;
    let mut eval = |x: &mut Vec<f64>, evals: &mut usize| {
        *evals += 1;
        obj.value(x).unwrap_or(f64::NEG_INFINITY)
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    let mut first = x0.to_vec();
    let f0 = eval(&mut first, &mut evals);
    simplex.push((first, f0));
    for i in 0..d {
        let mut v = simplex[0].0.clone();
        v[i] += scale;
        let fv = eval(&mut v, &mut evals);
        simplex.push((v, fv));
    }
    while evals + 2 <= budget {
        // Best first (maximisation).
        simplex.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        let diam = simplex
            .iter()
            .skip(1)
            .map(|(v, _)| {
                norm(
                    &v.iter()
                        .zip(&simplex[0].0)
                        .map(|(a, b)| a - b)
                        .collect::<Vec<_>>(),
                )
            })
            .fold(0.0, f64::max);
        if (best - worst).abs() <= ftol + VALUE_REL * best.abs()
            || diam <= STEP_REL * (1.0 + norm(&simplex[0].0))
        {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|i| simplex[..d].iter().map(|(v, _)| v[i]).sum::<f64>() / n)
            .collect();
        let along = |c: f64| -> Vec<f64> {
            (0..d)
                .map(|i| centroid[i] + c * (centroid[i] - simplex[d].0[i]))
                .collect()
        };
        let mut xr = along(1.0);
        let fr = eval(&mut xr, &mut evals);
        if fr > best {
            let mut xe = along(ce);
            let fe = eval(&mut xe, &mut evals);
            simplex[d] = if fe > fr { (xe, fe) } else { (xr, fr) };
        } else if fr > simplex[d - 1].1 {
            simplex[d] = (xr, fr);
        } else {
            let (mut xc, c) = if fr > worst {
                (along(cc), true)
            } else {
                (along(-cc), false)
            };
            let fc = eval(&mut xc, &mut evals);
            if (c && fc >= fr) || (!c && fc > worst) {
                simplex[d] = (xc, fc);
            } else {
                // Shrink towards the best vertex.
                let x_best = simplex[0].0.clone();
                for vertex in simplex.iter_mut().skip(1) {
                    if evals >= budget {
                        break;
                    }
                    let mut v: Vec<f64> = (0..d)
                        .map(|i| x_best[i] + cs * (vertex.0[i] - x_best[i]))
                        .collect();
                    let fv = eval(&mut v, &mut evals);
                    *vertex = (v, fv);
                }
            }
        }
    }
    simplex.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (x, value) = simplex.swap_remove(0);
    Ascent { x, value, evals }
}

/// (1+1) evolution strategy from `x0` (value `f0`) with initial step `step0`, at most
/// `budget` evaluations: a derivative-free finish that also crosses kinks.
///
/// ```
/// use flowcert::bounds::ascent::{Objective, es_polish};
/// use rand::SeedableRng;
/// struct Kink;
/// impl Objective for Kink {
///     fn value(&mut self, x: &mut [f64]) -> Option<f64> { Some(-(x[0] - 1.0).abs() - x[1].abs()) }
/// }
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let a = es_polish(&mut Kink, &[0.0, 0.5], -1.5, 0.1, 400, &mut rng);
/// assert!(a.value > -1e-6);
/// ```
pub fn es_polish<O: Objective + ?Sized>(
    obj: &mut O,
    x0: &[f64],
    f0: f64,
    step0: f64,
    budget: usize,
    rng: &mut ChaCha8Rng,
) -> Ascent {
    let d = x0.len();
    let (mut x, mut f, mut step) = (x0.to_vec(), f0, step0);
    let mut y = vec![0.0; d];
    let inv_sqrt_d = 1.0 / (d as f64).sqrt();
    let mut evals = 0;
    while evals < budget {
        for (yi, xi) in y.iter_mut().zip(&x) {
            let g: f64 = rng.sample(StandardNormal);
            *yi = xi + step * inv_sqrt_d * g;
        }
        evals += 1;
        match obj.value(&mut y) {
            Some(v) if v > f => {
                f = v;
                x.copy_from_slice(&y);
                step *= 2.0;
            }
            _ => step *= 0.840_896_415_253_714_5, // 2^{-1/4}
        }
        if step.is_nan() || step <= STEP_REL * (1.0 + norm(&x)) {
            break;
        }
    }
    Ascent { x, value: f, evals }
}
