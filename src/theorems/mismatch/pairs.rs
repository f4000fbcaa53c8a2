//! Tested pairs and the two lower bounds of the mismatch theorem.
//!
//! ```text
//! bracket(x, y; M) = (|Phi(x) - Phi(y)| - M |x - y|) / 2
//! E_M              = max(0, max over tested pairs of bracket)                   (sup norm)
//! LB_p(M)          = ( mean_j (|Phi(x_j) - Phi(R x_j)| - M |x_j - R x_j|)_+^p )^{1/p} / 2   (L^p)
//! ```
//! Both are pure arithmetic on the stored values `Phi(x), Phi(y)`: for any `Psi` with
//! `Lip(Psi) <= M`, `max(|Psi(x) - Phi(x)|, |Psi(y) - Phi(y)|) >= bracket(x, y; M)` by the
//! triangle inequality, whatever the stored values are. A student evaluated on the same
//! pairs therefore checks the theorem exactly (see `report.rs`). The pairs themselves come
//! from `search.rs` (boundary crossings, random close pairs) and from a reflection
//! (`symmetry.rs`).

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Where a tested pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PairKind {
    /// `b -+ h u` with `u` along a segment that straddles a mode boundary.
    Segment,
    /// `b -+ h v` with `v` the top right-singular vector of `DPhi(b)`.
    Steepest,
    /// A random close pair `(x, x + h z)`.
    Random,
    /// `(x, R x)` for a `p_T`-preserving reflection `R`.
    Reflection,
}

/// Tested pairs `(x_j, y_j)` with their images, as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct PairSet {
    /// First points, d x P.
    pub x: DMatrix<f64>,
    /// Second points, d x P.
    pub y: DMatrix<f64>,
    /// `Phi(x_j)`.
    pub phi_x: DMatrix<f64>,
    /// `Phi(y_j)`.
    pub phi_y: DMatrix<f64>,
    /// Origin of each pair.
    pub kind: Vec<PairKind>,
    /// Boundary points found by bisection.
    pub boundary: Vec<DVector<f64>>,
    /// `||DPhi(b)||_2` at each boundary point (empty without Jacobians).
    pub boundary_jacobian_norms: Vec<f64>,
    gap: Vec<f64>,
    dist: Vec<f64>,
}

impl PairSet {
    /// Pairs from their points and images (all d x P).
    ///
    /// # Panics
    /// If the four matrices or `kind` disagree in shape (a programming error).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let x = DMatrix::from_row_slice(1, 1, &[0.0]);
    /// let y = DMatrix::from_row_slice(1, 1, &[0.1]);
    /// let (fx, fy) = (DMatrix::from_row_slice(1, 1, &[-1.0]), DMatrix::from_row_slice(1, 1, &[1.0]));
    /// let p = PairSet::new(x, y, fx, fy, vec![PairKind::Random]);
    /// // (|2| - 10 * 0.1) / 2 = 0.5
    /// assert!((p.sup_lower_bound(10.0) - 0.5).abs() < 1e-12);
    /// assert_eq!(p.sup_lower_bound(20.0), 0.0);
    /// ```
    pub fn new(
        x: DMatrix<f64>,
        y: DMatrix<f64>,
        phi_x: DMatrix<f64>,
        phi_y: DMatrix<f64>,
        kind: Vec<PairKind>,
    ) -> Self {
        assert!(
            x.shape() == y.shape() && phi_x.shape() == phi_y.shape() && x.ncols() == phi_x.ncols(),
            "PairSet::new: shapes disagree"
        );
        assert_eq!(kind.len(), x.ncols(), "PairSet::new: one kind per pair");
        let gap = (0..x.ncols())
            .map(|j| (phi_x.column(j) - phi_y.column(j)).norm())
            .collect();
        let dist = (0..x.ncols())
            .map(|j| (x.column(j) - y.column(j)).norm())
            .collect();
        PairSet {
            x,
            y,
            phi_x,
            phi_y,
            kind,
            boundary: Vec::new(),
            boundary_jacobian_norms: Vec::new(),
            gap,
            dist,
        }
    }

    /// Number of pairs.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert_eq!(p.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// True without pairs.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert!(!p.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// `|Phi(x_j) - Phi(y_j)|` per pair.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert_eq!(p.image_gaps(), &[2.0, 0.5]);
    /// ```
    pub fn image_gaps(&self) -> &[f64] {
        &self.gap
    }

    /// `|x_j - y_j|` per pair.
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert_eq!(p.distances(), &[0.1, 1.0]);
    /// ```
    pub fn distances(&self) -> &[f64] {
        &self.dist
    }

    /// `(|Phi(x_j) - Phi(y_j)| - lip |x_j - y_j|) / 2` (may be negative).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert!((p.bracket(0, 10.0) - 0.5).abs() < 1e-12);
    /// assert!(p.bracket(1, 1.0) < 0.0);
    /// ```
    pub fn bracket(&self, j: usize, lip: f64) -> f64 {
        (self.gap[j] - lip * self.dist[j]) / 2.0
    }

    /// `E_lip = max(0, max_j bracket(j, lip))`: every map with `Lip <= lip` has sup error
    /// at least this on the pairs (example at [`PairSet::new`]).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert!((p.sup_lower_bound(2.0) - 0.9).abs() < 1e-12);
    /// ```
    pub fn sup_lower_bound(&self, lip: f64) -> f64 {
        (0..self.len())
            .map(|j| self.bracket(j, lip))
            .fold(0.0, f64::max)
    }

    /// The pair attaining [`PairSet::sup_lower_bound`] (`None` if the bound is 0).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert_eq!(p.best_pair(2.0), Some(0));
    /// assert_eq!(p.best_pair(100.0), None);
    /// ```
    pub fn best_pair(&self, lip: f64) -> Option<usize> {
        let mut best = None;
        let mut top = 0.0;
        for j in 0..self.len() {
            let b = self.bracket(j, lip);
            if b > top {
                (best, top) = (Some(j), b);
            }
        }
        best
    }

    /// `max_j |Phi(x_j) - Phi(y_j)| / |x_j - y_j|`: the Lipschitz constant of `Phi`
    /// measured on the pairs (`E_lip = 0` for every `lip` at or above it).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert!((p.empirical_lipschitz() - 20.0).abs() < 1e-12);
    /// assert!(p.sup_lower_bound(p.empirical_lipschitz()) < 1e-12);
    /// ```
    pub fn empirical_lipschitz(&self) -> f64 {
        self.gap
            .iter()
            .zip(&self.dist)
            .filter(|(_, d)| **d > 0.0)
            .map(|(g, d)| g / d)
            .fold(0.0, f64::max)
    }

    /// `(mean_j (gap_j - lip dist_j)_+^p)^{1/p} / 2`: see [`lp_lower_bound`].
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// // ((2 - 0.2)^2 + 0) / 2 = 1.62, sqrt / 2
    /// assert!((p.lp_lower_bound(2.0, 2.0) - 1.62f64.sqrt() / 2.0).abs() < 1e-12);
    /// ```
    pub fn lp_lower_bound(&self, lip: f64, p: f64) -> f64 {
        lp_lower_bound(&self.gap, &self.dist, lip, p)
    }

    /// `(|Phi(x_j) - Phi(y_j)| - lip |x_j - y_j|)_+` per pair: twice the positive part of
    /// [`PairSet::bracket`], the per-draw terms of [`PairSet::lp_lower_bound`].
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// assert_eq!(p.brackets(10.0), vec![1.0, 0.0]);
    /// ```
    pub fn brackets(&self, lip: f64) -> Vec<f64> {
        self.gap
            .iter()
            .zip(&self.dist)
            .map(|(g, d)| (g - lip * d).max(0.0))
            .collect()
    }

    /// Pairs whose student errors violate the bracket: `max(ex_j, ey_j) < bracket(j, lip)`
    /// beyond a relative `slack` (rounding).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// // a "student" with zero error everywhere cannot be 2-Lipschitz here
    /// assert_eq!(p.violations(&[0.0, 0.0], &[0.0, 0.0], 2.0, 1e-6), 1);
    /// assert_eq!(p.violations(&[0.9, 0.0], &[0.0, 0.0], 2.0, 1e-6), 0);
    /// ```
    pub fn violations(&self, err_x: &[f64], err_y: &[f64], lip: f64, slack: f64) -> usize {
        (0..self.len())
            .filter(|&j| {
                let b = self.bracket(j, lip);
                err_x[j].max(err_y[j]) < b - slack * (self.gap[j] + lip * self.dist[j])
            })
            .count()
    }

    /// Append another set's pairs (boundary data included).
    ///
    /// ```
    /// use flowcert::theorems::mismatch::{PairKind, PairSet};
    /// use nalgebra::DMatrix;
    /// let m = |v: &[f64]| DMatrix::from_row_slice(1, v.len(), v);
    /// // pairs (0, 0.1) -> (-1, 1) and (0, 1) -> (0, 0.5)
    /// let p = PairSet::new(m(&[0.0, 0.0]), m(&[0.1, 1.0]), m(&[-1.0, 0.0]), m(&[1.0, 0.5]),
    ///     vec![PairKind::Segment, PairKind::Random]);
    /// let mut q = p.clone();
    /// q.append(p);
    /// assert_eq!(q.len(), 4);
    /// ```
    pub fn append(&mut self, other: PairSet) {
        let cat = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
            let mut out = DMatrix::zeros(a.nrows().max(b.nrows()), a.ncols() + b.ncols());
            out.columns_mut(0, a.ncols()).copy_from(a);
            out.columns_mut(a.ncols(), b.ncols()).copy_from(b);
            out
        };
        self.x = cat(&self.x, &other.x);
        self.y = cat(&self.y, &other.y);
        self.phi_x = cat(&self.phi_x, &other.phi_x);
        self.phi_y = cat(&self.phi_y, &other.phi_y);
        self.kind.extend(other.kind);
        self.gap.extend(other.gap);
        self.dist.extend(other.dist);
        self.boundary.extend(other.boundary);
        self.boundary_jacobian_norms
            .extend(other.boundary_jacobian_norms);
    }
}

/// The L^p lower bound on Monte Carlo pairs `(x_j, R x_j)`:
///
/// ```text
/// LB_p = ( mean_j (gap_j - lip dist_j)_+^p )^{1/p} / 2,   gap_j = |Phi(x_j) - Phi(R x_j)|,  dist_j = |x_j - R x_j|
/// ```
/// With `e = |Psi - Phi|` and `(gap - lip dist)_+ <= e(x) + e(Rx)`, convexity gives
/// `((mean e(x)^p + mean e(Rx)^p) / 2)^{1/p} >= LB_p` on the very same samples; if `R`
/// preserves `p_T`, both means estimate `E_{p_T} e^p`.
///
/// ```
/// use flowcert::theorems::mismatch::lp_lower_bound;
/// // gaps 2, 0; distances 0, 0: mean of (2^2, 0) = 2, sqrt(2) / 2
/// assert!((lp_lower_bound(&[2.0, 0.0], &[0.0, 0.0], 1.0, 2.0) - 0.5f64.sqrt()).abs() < 1e-12);
/// assert_eq!(lp_lower_bound(&[], &[], 1.0, 2.0), 0.0);
/// ```
pub fn lp_lower_bound(gaps: &[f64], dists: &[f64], lip: f64, p: f64) -> f64 {
    if gaps.is_empty() {
        return 0.0;
    }
    let mean = gaps
        .iter()
        .zip(dists)
        .map(|(g, d)| (g - lip * d).max(0.0).powf(p))
        .sum::<f64>()
        / gaps.len() as f64;
    mean.powf(1.0 / p) / 2.0
}
