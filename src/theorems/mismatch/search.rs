//! The search for pairs that straddle mode boundaries (sup-norm bound).
//!
//! Samples `x ~ p_T` are labelled by the nearest mode centre of `Phi(x)`; the closest pairs
//! of samples with different labels give segments that straddle a boundary, bisection finds
//! a boundary point `b` on each, and pairs `(b - h u, b + h u)` are evaluated for `h`
//! log-spaced in `[h_min, h_max]`, with `u` along the segment and, where the map offers a
//! Jacobian, along the top right-singular vector of `DPhi(b)` (the locally steepest
//! direction). Random close pairs `(x, x + h z)` complete the set. Pairs closer than the
//! teacher's solver error resolve nothing, so `h_min` bounds the Lipschitz constant a search
//! can see: about `|mode gap| / (2 h_min)`.

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::pairs::{PairKind, PairSet};
use super::{MismatchError, invalid};
use crate::dynamics::flow::spectral_norm;
use crate::flowmap::FlowMap;

/// Bisection stops when the bracketing segment is shorter than `h_min * BISECT_FRACTION`.
const BISECT_FRACTION: f64 = 1e-2;
/// Cap on bisection steps.
const BISECT_MAX_STEPS: usize = 80;

/// Settings of [`search_pairs`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairSearch {
    /// Samples `x ~ p_T` whose images are labelled.
    pub search_samples: usize,
    /// Straddling segments to bisect.
    pub boundary_points: usize,
    /// Smallest half-distance `h` of a pair (keep it well above the teacher's solver error).
    pub h_min: f64,
    /// Largest half-distance `h`.
    pub h_max: f64,
    /// Number of log-spaced `h` per boundary point and direction.
    pub h_count: usize,
    /// Random close pairs `(x, x + h z)`, `h` log-uniform in `[h_min, h_max]`.
    pub random_pairs: usize,
}

impl Default for PairSearch {
    /// 1024 samples, 16 boundary points, `h` in `[1e-6, 2]` (32 values), 512 random pairs.
    fn default() -> Self {
        PairSearch {
            search_samples: 1024,
            boundary_points: 16,
            h_min: 1e-6,
            h_max: 2.0,
            h_count: 32,
            random_pairs: 512,
        }
    }
}

impl PairSearch {
    /// Part of [`super::MismatchConfig::check`].
    pub(crate) fn validate(&self) -> Result<(), MismatchError> {
        if self.search_samples < 2 {
            return Err(invalid(
                "search.search_samples",
                self.search_samples,
                "use at least 2 samples",
            ));
        }
        if self.h_count == 0 {
            return Err(invalid("search.h_count", 0, "use at least 1 value of h"));
        }
        if !(self.h_min.is_finite() && self.h_min > 0.0) {
            return Err(invalid(
                "search.h_min",
                self.h_min,
                "use a finite h > 0, e.g. 1e-6",
            ));
        }
        if !(self.h_max.is_finite() && self.h_max >= self.h_min) {
            return Err(invalid(
                "search.h_max",
                self.h_max,
                "use a finite h_max >= h_min, e.g. 2",
            ));
        }
        Ok(())
    }

    /// The `h` values, log-spaced from `h_min` to `h_max`.
    ///
    /// ```
    /// let s = flowcert::theorems::mismatch::PairSearch { h_min: 1e-4, h_max: 1.0, h_count: 5, ..Default::default() };
    /// let h = s.h_values();
    /// assert!((h[0] - 1e-4).abs() < 1e-16 && (h[4] - 1.0).abs() < 1e-12 && (h[2] - 1e-2).abs() < 1e-14);
    /// ```
    pub fn h_values(&self) -> Vec<f64> {
        if self.h_count == 1 {
            return vec![self.h_min];
        }
        let (a, b) = (self.h_min.ln(), self.h_max.ln());
        (0..self.h_count)
            .map(|i| (a + (b - a) * i as f64 / (self.h_count - 1) as f64).exp())
            .collect()
    }
}

fn nearest(centres: &[DVector<f64>], y: &DVector<f64>) -> usize {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centres.iter().enumerate() {
        let d = (y - c).norm_squared();
        if d < best.1 {
            best = (k, d);
        }
    }
    best.0
}

fn collect<T>(results: Vec<Result<T, MismatchError>>) -> Result<Vec<T>, MismatchError> {
    results.into_iter().collect()
}

/// Closest pairs of samples with different labels, each sample used at most once.
fn straddling_pairs(xs: &DMatrix<f64>, labels: &[usize], count: usize) -> Vec<(usize, usize)> {
    let n = xs.ncols();
    let mut cands: Vec<(f64, usize, usize)> = (0..n)
        .filter_map(|i| {
            (0..n)
                .filter(|&j| labels[j] != labels[i])
                .map(|j| ((xs.column(i) - xs.column(j)).norm(), i.min(j), i.max(j)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))))
        })
        .collect();
    cands.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let mut used = vec![false; n];
    let mut out = Vec::new();
    for (_, i, j) in cands {
        if out.len() == count {
            break;
        }
        if !used[i] && !used[j] {
            used[i] = true;
            used[j] = true;
            out.push((i, j));
        }
    }
    out
}

type Pair = (
    DVector<f64>,
    DVector<f64>,
    DVector<f64>,
    DVector<f64>,
    PairKind,
);

/// Pairs across one boundary point.
struct Crossing {
    pairs: Vec<Pair>,
    point: DVector<f64>,
    jacobian_norm: Option<f64>,
}

/// Bisect the segment `[a, b]` (labels differ) for a boundary point, then evaluate pairs
/// across it along the segment and the steepest direction.
fn boundary_pairs<F: FlowMap>(
    map: &F,
    centres: &[DVector<f64>],
    a: DVector<f64>,
    b: DVector<f64>,
    search: &PairSearch,
) -> Result<Crossing, MismatchError> {
    let label_a = nearest(centres, &map.map_point(a.as_slice())?);
    let (mut lo, mut hi) = (a.clone(), b.clone());
    for _ in 0..BISECT_MAX_STEPS {
        if (&hi - &lo).norm() <= search.h_min * BISECT_FRACTION {
            break;
        }
        let mid = (&lo + &hi) * 0.5;
        if nearest(centres, &map.map_point(mid.as_slice())?) == label_a {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let point = (&lo + &hi) * 0.5;
    let mut dirs = vec![((&b - &a).normalize(), PairKind::Segment)];
    let mut jac_norm = None;
    if let Some(j) = map.jacobian(point.as_slice())? {
        jac_norm = Some(spectral_norm(&j));
        let svd = j.svd(false, true);
        if let Some(v_t) = svd.v_t {
            let top = svd.singular_values.imax();
            let v: DVector<f64> = v_t.row(top).transpose();
            if v.iter().all(|c| c.is_finite()) && v.norm() > 0.0 {
                dirs.push((v.normalize(), PairKind::Steepest));
            }
        }
    }
    let mut out = Vec::new();
    for (u, kind) in dirs {
        for h in search.h_values() {
            let (p, q) = (&point - &u * h, &point + &u * h);
            let (fp, fq) = (map.map_point(p.as_slice())?, map.map_point(q.as_slice())?);
            out.push((p, q, fp, fq, kind));
        }
    }
    Ok(Crossing {
        pairs: out,
        point,
        jacobian_norm: jac_norm,
    })
}

fn pairs_to_set(pairs: Vec<Pair>, d: usize) -> PairSet {
    let n = pairs.len();
    let (mut x, mut y) = (DMatrix::zeros(d, n), DMatrix::zeros(d, n));
    let (mut fx, mut fy) = (DMatrix::zeros(d, n), DMatrix::zeros(d, n));
    let mut kind = Vec::with_capacity(n);
    for (j, (p, q, fp, fq, k)) in pairs.into_iter().enumerate() {
        x.set_column(j, &p);
        y.set_column(j, &q);
        fx.set_column(j, &fp);
        fy.set_column(j, &fq);
        kind.push(k);
    }
    PairSet::new(x, y, fx, fy, kind)
}

/// Search the pairs of the sup-norm bound (see the module docs): `starts` holds samples
/// `x ~ p_T` as columns, `centres` the mode centres at `t_min` that label `Phi(x)`.
/// Deterministic in `rng`; the work is parallel over samples and boundary points.
///
/// ```
/// use flowcert::flowmap::FnMap;
/// use flowcert::theorems::mismatch::{PairSearch, search_pairs};
/// use nalgebra::{DMatrix, DVector};
/// use rand::SeedableRng;
/// // A step map in 1-D: sign(x). Its boundary is 0; E_M -> 1 as M h -> 0.
/// let sign = FnMap::new(1, |x: &[f64]| vec![x[0].signum()]);
/// let starts = DMatrix::from_row_slice(1, 4, &[-1.0, -0.5, 0.3, 1.0]);
/// let centres = [DVector::from_element(1, -1.0), DVector::from_element(1, 1.0)];
/// let search = PairSearch { boundary_points: 1, random_pairs: 0, ..PairSearch::default() };
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let pairs = search_pairs(&sign, &starts, &centres, &search, &mut rng).unwrap();
/// assert!(pairs.boundary[0][0].abs() < 1e-7);
/// assert!((pairs.sup_lower_bound(10.0) - 1.0).abs() < 1e-4);
/// ```
pub fn search_pairs<F: FlowMap>(
    map: &F,
    starts: &DMatrix<f64>,
    centres: &[DVector<f64>],
    search: &PairSearch,
    rng: &mut ChaCha8Rng,
) -> Result<PairSet, MismatchError> {
    let (d, n) = starts.shape();
    let cols: Vec<DVector<f64>> = starts.column_iter().map(|c| c.into_owned()).collect();
    let images = collect(
        cols.par_iter()
            .map(|x| map.map_point(x.as_slice()).map_err(MismatchError::from))
            .collect(),
    )?;
    let labels: Vec<usize> = images.iter().map(|y| nearest(centres, y)).collect();
    let chosen = straddling_pairs(starts, &labels, search.boundary_points);
    let found = collect(
        chosen
            .par_iter()
            .map(|&(i, j)| boundary_pairs(map, centres, cols[i].clone(), cols[j].clone(), search))
            .collect(),
    )?;
    let mut pairs = Vec::new();
    let (mut boundary, mut norms) = (Vec::new(), Vec::new());
    for c in found {
        pairs.extend(c.pairs);
        boundary.push(c.point);
        norms.extend(c.jacobian_norm);
    }
    // Random close pairs: all draws first, then the parallel solves.
    let (ln_lo, ln_hi) = (search.h_min.ln(), search.h_max.ln());
    let draws: Vec<(usize, DVector<f64>)> = (0..search.random_pairs)
        .map(|_| {
            let i = rng.random_range(0..n);
            let z = DVector::<f64>::from_fn(d, |_, _| rng.sample(StandardNormal));
            let h = (ln_lo + (ln_hi - ln_lo) * rng.random::<f64>()).exp();
            let z = if z.norm() > 0.0 {
                z.normalize()
            } else {
                DVector::from_element(d, 1.0 / (d as f64).sqrt())
            };
            (i, &cols[i] + z * h)
        })
        .collect();
    let mapped = collect(
        draws
            .par_iter()
            .map(|(_, y)| map.map_point(y.as_slice()).map_err(MismatchError::from))
            .collect(),
    )?;
    for ((i, y), fy) in draws.into_iter().zip(mapped) {
        pairs.push((cols[i].clone(), y, images[i].clone(), fy, PairKind::Random));
    }
    let mut set = pairs_to_set(pairs, d);
    set.boundary = boundary;
    set.boundary_jacobian_norms = norms;
    Ok(set)
}
