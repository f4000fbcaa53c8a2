//! Capability traits for the things the harness compares: score fields and
//! PF-ODE velocity fields. The exact mixture, learned networks and user-supplied
//! approximations all sit behind these.

use nalgebra::DMatrix;

use super::marginal::Marginal;
use super::mixture::Mixture;
use super::process::PathCoeffs;

/// A (possibly approximate) score `s(x, t) ≈ grad log p_t(x)`.
pub trait ScoreField: Sync {
    /// The dimension d.
    fn dim(&self) -> usize;

    /// `s(x, t)` into `out` (length d).
    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]);

    /// Scores of the columns of a d x N matrix (override for speed).
    fn score_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        let d = self.dim();
        let mut out = DMatrix::zeros(d, xs.ncols());
        for (xc, oc) in xs
            .as_slice()
            .chunks(d)
            .zip(out.as_mut_slice().chunks_mut(d))
        {
            self.score_into(xc, t, oc);
        }
        out
    }
}

/// The exact mixture score. `t` must be > 0 (checked by callers at the boundary).
///
/// ```
/// use flowcert::model::{builtin, ScoreField};
/// let mix = builtin::two_mode(0.1);
/// let mut s = [1.0; 2];
/// mix.score_into(&[0.0, 0.0], 1.0, &mut s);
/// assert!(s[0].abs() < 1e-12);
/// ```
impl ScoreField for Mixture {
    fn dim(&self) -> usize {
        Mixture::dim(self)
    }

    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        match Marginal::new(self, t) {
            Ok(mut m) => m.score_into(x, out),
            Err(_) => out.iter_mut().for_each(|v| *v = f64::NAN),
        }
    }

    fn score_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        match Marginal::new(self, t) {
            Ok(mut m) => m.score_batch(xs),
            Err(_) => DMatrix::from_element(xs.nrows(), xs.ncols(), f64::NAN),
        }
    }
}

/// A time-dependent velocity field `v(x, t)` with its Jacobian, as integrated by
/// the flow-map solver. `&mut self` lets implementations reuse scratch buffers.
pub trait VelocityField {
    /// The dimension d.
    fn dim(&self) -> usize;
    /// `v(x, t)` into `out`.
    fn velocity_into(&mut self, x: &[f64], t: f64, out: &mut [f64]);
    /// `J = dv/dx` into `jac` (d x d) and `v(x, t)` into `out`.
    fn jacobian_into(&mut self, x: &[f64], t: f64, jac: &mut DMatrix<f64>, out: &mut [f64]);
    /// Move to the time `c.t` with the path's coefficients `c` as given (rather than
    /// recomputed from `c.t`), for the next `velocity_into`/`jacobian_into` at `c.t`. The
    /// default does nothing: the field then evaluates at `c.t` on its own.
    fn set_coeffs(&mut self, c: &PathCoeffs) {
        let _ = c;
    }
}

/// The exact PF-ODE velocity `-x - s(x, t)` of a mixture.
///
/// ```
/// use flowcert::model::{builtin, Marginal, VelocityField};
/// let mix = builtin::two_mode(0.1);
/// let mut p = Marginal::new(&mix, 1.0).unwrap();
/// let mut v = [0.0; 2];
/// VelocityField::velocity_into(&mut p, &[0.0, 0.0], 0.5, &mut v);
/// assert_eq!(p.time(), 0.5);
/// ```
impl VelocityField for Marginal<'_> {
    fn dim(&self) -> usize {
        self.mixture().dim()
    }

    #[inline]
    fn velocity_into(&mut self, x: &[f64], t: f64, out: &mut [f64]) {
        if t != self.time() {
            self.set_time(t);
        }
        Marginal::velocity_into(self, x, out);
    }

    fn jacobian_into(&mut self, x: &[f64], t: f64, jac: &mut DMatrix<f64>, out: &mut [f64]) {
        if t != self.time() {
            self.set_time(t);
        }
        Marginal::jacobian_into(self, x, jac, out);
    }

    #[inline]
    fn set_coeffs(&mut self, c: &PathCoeffs) {
        if c != self.coeffs() {
            Marginal::set_coeffs(self, *c);
        }
    }
}

/// The PF-ODE velocity `-x - s_theta(x, t)` of any score field, with a central
/// finite-difference Jacobian (a learned or user-supplied score).
///
/// ```
/// use flowcert::model::{builtin, PfOde, VelocityField};
/// let mix = builtin::two_mode(0.1);
/// let mut v = PfOde(&mix);
/// let mut out = [0.0; 2];
/// v.velocity_into(&[1.0, 0.0], 1.0, &mut out);
/// assert!(out[0].is_finite());
/// ```
pub struct PfOde<'a, F: ScoreField + ?Sized>(pub &'a F);

impl<F: ScoreField + ?Sized> VelocityField for PfOde<'_, F> {
    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn velocity_into(&mut self, x: &[f64], t: f64, out: &mut [f64]) {
        self.0.score_into(x, t, out);
        for (o, xi) in out.iter_mut().zip(x) {
            *o = -xi - *o;
        }
    }

    fn jacobian_into(&mut self, x: &[f64], t: f64, jac: &mut DMatrix<f64>, out: &mut [f64]) {
        let d = x.len();
        self.velocity_into(x, t, out);
        let mut xp = x.to_vec();
        let (mut fp, mut fm) = (vec![0.0; d], vec![0.0; d]);
        for c in 0..d {
            let h = crate::tolerance::FINITE_DIFF_STEP * x[c].abs().max(1.0);
            xp[c] = x[c] + h;
            self.velocity_into(&xp, t, &mut fp);
            xp[c] = x[c] - h;
            self.velocity_into(&xp, t, &mut fm);
            xp[c] = x[c];
            for r in 0..d {
                jac[(r, c)] = (fp[r] - fm[r]) / (2.0 * h);
            }
        }
    }
}
