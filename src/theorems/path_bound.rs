//! How far the exact trajectory through an accepted solver state can go before the next
//! accepted state: the containment test of a local bound along the continuous path
//! (theory/03-stability.md, "How the checker measures the amplification").
//!
//! ```text
//! v(x, u) = -x - s(x, u) = sum_k r_k [ (S_k^{-1} - I) x - alpha_u S_k^{-1} mu_k ]
//! |v| <= a(u) |x| + b(u),   a = max_k ||S_k^{-1} - I||,   b = alpha_u max_k ||S_k^{-1}|| |mu_k|
//! Gronwall on d|x|/du:  |x(u)| <= |x(t_a)| e^{a h} + b h expm1(a h)/(a h)   over a step of size h
//! ```
//! with `a`, `alpha_u` and `max_k ||S_k^{-1}||` replaced by their largest values on the step:
//! the eigenvalues of `S_k^{-1}` are monotone in `alpha_u^2`, hence in `u`, so each maximum
//! sits at an end of the step (the product of the maxima bounds `b`).
//!
//! On another path (theory/07-gaussian-paths.md) `v = sum_k r_k [E_k x - h S_k^{-1} m_k]`
//! with `E_k = f I + h S_k^{-1}`, so `a = |f| + h / s_min` and `b = h alpha max_k |mu_k| /
//! s_min,k` bound it; over a step `|f|` and `h` are taken at their larger end (both are
//! non-decreasing in `t` on every built-in path) and `s` at its lower envelope
//! `alpha(t_b)^2 l + sigma(t_a)^2` (`alpha` non-increasing, `sigma` non-decreasing). A path of
//! a user's own has no such guarantee: its bound is infinite (nothing is certified).

use crate::model::process::PROCESS_NAMES;
use crate::model::{Mixture, OuCoeffs, Process};

/// The per-mixture constants of the path bound (module doc).
pub(crate) struct PathBound {
    /// Per component: smallest and largest covariance eigenvalue, `|mu_k|`.
    comps: Vec<(f64, f64, f64)>,
    /// The mixture's path.
    process: Process,
}

impl PathBound {
    pub(crate) fn new(mix: &Mixture) -> Self {
        PathBound {
            comps: mix
                .components()
                .iter()
                .map(|c| {
                    let lo = c.eigvals.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = c.eigvals.iter().copied().fold(0.0f64, f64::max);
                    (lo, hi, c.mean.norm())
                })
                .collect(),
            process: mix.process().clone(),
        }
    }

    /// `(a, b)` of the module doc on a path other than OU, over the step `[t_a, t_b]`.
    fn path_rates(&self, t_a: f64, t_b: f64) -> (f64, f64) {
        if !PROCESS_NAMES.contains(&self.process.name()) {
            return (f64::INFINITY, f64::INFINITY);
        }
        let (u0, u1) = (t_a.min(t_b), t_a.max(t_b));
        let (c0, c1) = (self.process.coeffs(u0), self.process.coeffs(u1));
        let f = c0.f.abs().max(c1.f.abs());
        let h = c0.h.max(c1.h);
        let (mut a, mut b) = (0.0f64, 0.0f64);
        for &(lo, _, m) in &self.comps {
            let s_min = c1.alpha2 * lo + c0.sigma2;
            a = a.max(f + h / s_min);
            b = b.max(h * c0.alpha * m / s_min);
        }
        (a, b)
    }

    /// `(a, max_k ||S_k^{-1}|| |mu_k|, alpha)` at time `t`.
    fn rates(&self, t: f64) -> (f64, f64, f64) {
        let co = OuCoeffs::at(t);
        let (mut a, mut b) = (0.0f64, 0.0f64);
        for &(lo, hi, m) in &self.comps {
            // 1/s - 1 decreases in lambda: its extremes are at the extreme eigenvalues.
            a = a
                .max(co.precision_excess(lo).abs())
                .max(co.precision_excess(hi).abs());
            b = b.max(m / co.s(lo));
        }
        (a, b, co.alpha)
    }

    /// The largest `|x(u)|` of the exact trajectory through a state of norm `r` at `t_a`,
    /// over the step to `t_b` (either direction), with a relative margin for rounding.
    pub(crate) fn step(&self, r: f64, t_a: f64, t_b: f64) -> f64 {
        let (a, b) = if self.process.is_ou() {
            let (a1, b1, al1) = self.rates(t_a);
            let (a2, b2, al2) = self.rates(t_b);
            (a1.max(a2), al1.max(al2) * b1.max(b2))
        } else {
            self.path_rates(t_a, t_b)
        };
        let h = (t_b - t_a).abs();
        let z = a * h;
        let phi = if z > 0.0 { z.exp_m1() / z } else { 1.0 };
        (r * z.exp() + b * h * phi) * (1.0 + 1e-12)
    }
}

#[cfg(test)]
mod tests {
    use super::PathBound;
    use crate::dynamics::solver::SolverOptions;
    use crate::dynamics::{flow_point, flow_point_observed};
    use crate::model::{Marginal, builtin};
    use crate::seed;

    /// Every accepted step of real trajectories (hetero3, whose bound is local, and a
    /// narrow two-mode mixture), sampled at 16 interior times by separate accurate solves
    /// from the step's start: the path never leaves the bound; and the path does grow
    /// beyond its starting norm somewhere, so a bound of `|y_n|` alone (`a = b = 0`, the
    /// old "solver states only" check) would be wrong there.
    #[test]
    fn exact_paths_between_accepted_steps_stay_within_the_bound() {
        let coarse = SolverOptions::default().check().unwrap();
        let fine = SolverOptions {
            rtol: 1e-12,
            atol: 1e-12,
            ..SolverOptions::default()
        }
        .check()
        .unwrap();
        let mut grew = 0usize;
        for mix in [builtin::hetero3(), builtin::two_mode(0.05)] {
            let pb = PathBound::new(&mix);
            let (hi, lo) = (2.0, 0.01);
            let starts = mix.sample(hi, 6, &mut seed::rng(seed::STABILITY, 11, &[]));
            let mut field = Marginal::new(&mix, hi).unwrap();
            for x in starts.column_iter() {
                let x: Vec<f64> = x.iter().copied().collect();
                let mut steps = Vec::new();
                let mut prev = x.clone();
                flow_point_observed(&mut field, &x, hi, lo, false, &coarse, |a, b, y| {
                    steps.push((a, b, prev.clone()));
                    prev = y.to_vec();
                })
                .unwrap();
                for (t_a, t_b, y_a) in steps {
                    let r = y_a.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let bound = pb.step(r, t_a, t_b);
                    for j in 1..=16 {
                        let u = t_a + (t_b - t_a) * j as f64 / 16.0;
                        let p = flow_point(&mut field, &y_a, t_a, u, false, &fine).unwrap();
                        let norm = p.y.norm();
                        assert!(
                            norm <= bound,
                            "|x({u})| = {norm} > {bound} (from |y| = {r} at {t_a})"
                        );
                        grew += usize::from(norm > r * (1.0 + 1e-9));
                    }
                }
            }
        }
        assert!(
            grew > 0,
            "no path grew between steps: the test would not see a = b = 0"
        );
    }
}
