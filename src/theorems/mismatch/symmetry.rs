//! A `p_T`-preserving map for the L^p bound: a reflection symmetry of the mixture.
//!
//! ```text
//! R_0(x) = x - 2 (n . x - c) n            (|n| = 1: reflection across the hyperplane n . x = c)
//! R_0 is a symmetry of p_0 when it permutes the components: pi_sigma(k) = pi_k,
//!     mu_sigma(k) = R_0(mu_k),  Sigma_sigma(k) = H Sigma_k H   (H = I - 2 n n^T)
//! then R_t(x) = x - 2 (n . x - alpha_t c) n preserves p_t for every t:
//!     X_t = alpha_t X_0 + sigma_t Z  =>  R_t(X_t) = alpha_t R_0(X_0) + sigma_t H Z  ~  p_t
//! ```
//! Candidates are the perpendicular bisectors of pairs of equal-weight means; a candidate
//! is kept if it maps the set of components onto itself (weights, means and covariances
//! within [`tolerance::MIXTURE_SYMMETRY_REL`]). For a two-mode mixture this is exactly:
//! equal weights, and the reflection across the bisector of the means leaves the covariance
//! invariant (`R Sigma R^T = Sigma`). Otherwise there is no usable symmetry (`None`).

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::MismatchError;
use crate::model::{Marginal, Mixture, Process};
use crate::tolerance;

/// A reflection symmetry of the data law (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Reflection {
    /// Unit normal `n`.
    pub normal: DVector<f64>,
    /// Offset `c` of the hyperplane `n . x = c` at `t = 0`.
    pub offset: f64,
    /// The permutation `sigma` of the components.
    pub permutation: Vec<usize>,
    /// The pair of components whose bisector the hyperplane is.
    pub bisected: (usize, usize),
    /// The mixture's path: the hyperplane at time `t` is `n . x = alpha_t c`.
    pub process: Process,
}

/// What the report says about the symmetry used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymmetryInfo {
    /// Always `"reflection"` for now.
    pub kind: String,
    /// Unit normal `n`.
    pub normal: Vec<f64>,
    /// Offset of the hyperplane at `T`: `alpha_T c`.
    pub offset_at_t: f64,
    /// The component permutation.
    pub permutation: Vec<usize>,
    /// A sentence for humans.
    pub description: String,
    /// `max |log p_T(Rx) - log p_T(x)| / (1 + |log p_T(x)|)` over the evaluation samples.
    pub density_defect: f64,
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= tolerance::MIXTURE_SYMMETRY_REL * scale.max(1.0)
}

impl Reflection {
    /// Find a reflection symmetry of `mix`, or `None` (no usable symmetry). Among several,
    /// the bisector of the farthest pair of means is chosen.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::Reflection;
    /// let r = Reflection::detect(&flowcert::model::builtin::two_mode(0.1)).unwrap();
    /// assert_eq!(r.permutation, vec![1, 0]);
    /// assert!((r.normal[0].abs() - 1.0).abs() < 1e-12 && r.offset.abs() < 1e-12);
    /// assert!(Reflection::detect(&flowcert::model::builtin::hetero3()).is_none());
    /// ```
    pub fn detect(mix: &Mixture) -> Option<Reflection> {
        let comps = mix.components();
        let k = comps.len();
        let mut best: Option<(f64, Reflection)> = None;
        for a in 0..k {
            for b in (a + 1)..k {
                if !close(comps[a].weight, comps[b].weight, 1.0) {
                    continue;
                }
                let diff = &comps[b].mean - &comps[a].mean;
                let dist = diff.norm();
                if dist == 0.0 || best.as_ref().is_some_and(|(d, _)| *d >= dist) {
                    continue;
                }
                let normal = diff / dist;
                let offset = normal.dot(&(&comps[a].mean + &comps[b].mean)) / 2.0;
                let cand = Reflection {
                    normal,
                    offset,
                    permutation: Vec::new(),
                    bisected: (a, b),
                    process: mix.process().clone(),
                };
                if let Some(perm) = cand.match_components(mix) {
                    best = Some((
                        dist,
                        Reflection {
                            permutation: perm,
                            ..cand
                        },
                    ));
                }
            }
        }
        best.map(|(_, r)| r)
    }

    /// The permutation if this reflection maps the components onto themselves.
    fn match_components(&self, mix: &Mixture) -> Option<Vec<usize>> {
        let comps = mix.components();
        let d = mix.dim();
        let h = DMatrix::identity(d, d) - &self.normal * self.normal.transpose() * 2.0;
        let mut perm = Vec::with_capacity(comps.len());
        let mut taken = vec![false; comps.len()];
        for c in comps {
            let m = self.apply_data(&c.mean);
            let cov = &h * &c.cov * &h;
            let mscale = m.amax();
            let cscale = cov.amax();
            let found = comps.iter().enumerate().position(|(j, o)| {
                !taken[j]
                    && close(o.weight, c.weight, 1.0)
                    && m.iter()
                        .zip(o.mean.iter())
                        .all(|(p, q)| close(*p, *q, mscale))
                    && cov
                        .iter()
                        .zip(o.cov.iter())
                        .all(|(p, q)| close(*p, *q, cscale))
            })?;
            taken[found] = true;
            perm.push(found);
        }
        Some(perm)
    }

    /// `R_0(x)` on data space (`t = 0`).
    fn apply_data(&self, x: &DVector<f64>) -> DVector<f64> {
        let s = self.normal.dot(x) - self.offset;
        x - &self.normal * (2.0 * s)
    }

    /// `R_t` applied to the columns of `xs`: `x - 2 (n . x - alpha_t c) n`.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::Reflection;
    /// let r = Reflection::detect(&flowcert::model::builtin::two_mode(0.1)).unwrap();
    /// let xs = nalgebra::DMatrix::from_row_slice(2, 1, &[0.7, 0.2]);
    /// let rx = r.apply_batch(&xs, 1.0);
    /// assert!((rx[(0, 0)] + 0.7).abs() < 1e-12 && (rx[(1, 0)] - 0.2).abs() < 1e-12);
    /// assert!((r.apply_batch(&rx, 1.0) - xs).norm() < 1e-12);
    /// ```
    pub fn apply_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        let c = self.process.coeffs(t).alpha * self.offset;
        let mut out = xs.clone();
        for mut col in out.column_iter_mut() {
            let s = self.normal.dot(&col) - c;
            col.axpy(-2.0 * s, &self.normal, 1.0);
        }
        out
    }

    /// `max_j |log p_t(R x_j) - log p_t(x_j)| / (1 + |log p_t(x_j)|)`: zero up to rounding
    /// when `R_t` preserves `p_t`.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::Reflection;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let r = Reflection::detect(&mix).unwrap();
    /// let xs = nalgebra::DMatrix::from_row_slice(2, 2, &[0.3, -1.0, 0.5, 2.0]);
    /// assert!(r.density_defect(&mix, 0.5, &xs).unwrap() < 1e-12);
    /// ```
    pub fn density_defect(
        &self,
        mix: &Mixture,
        t: f64,
        xs: &DMatrix<f64>,
    ) -> Result<f64, MismatchError> {
        let mut p = Marginal::new(mix, t)?;
        let a = p.log_density_batch(xs);
        let b = p.log_density_batch(&self.apply_batch(xs, t));
        Ok(a.iter()
            .zip(b.iter())
            .map(|(u, v)| (u - v).abs() / (1.0 + u.abs()))
            .fold(0.0, f64::max))
    }

    /// The report entry, with the measured density defect at `t` on `xs`.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::Reflection;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let r = Reflection::detect(&mix).unwrap();
    /// let info = r.info(&mix, 2.0, &nalgebra::DMatrix::zeros(2, 1)).unwrap();
    /// assert!(info.description.contains("bisector"));
    /// ```
    pub fn info(
        &self,
        mix: &Mixture,
        t: f64,
        xs: &DMatrix<f64>,
    ) -> Result<SymmetryInfo, MismatchError> {
        let offset_at_t = self.process.coeffs(t).alpha * self.offset;
        Ok(SymmetryInfo {
            kind: "reflection".into(),
            normal: self.normal.iter().copied().collect(),
            offset_at_t,
            permutation: self.permutation.clone(),
            description: format!(
                "reflection across the hyperplane n.x = {offset_at_t:.6} at T (perpendicular bisector \
                 of means {} and {}), permuting components {:?}",
                self.bisected.0, self.bisected.1, self.permutation
            ),
            density_defect: self.density_defect(mix, t, xs)?,
        })
    }
}
