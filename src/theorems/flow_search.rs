//! The flow maps behind the stability checker ([`super::stability`], theory/03-stability.md)
//! and the search for `max_x ||DPhi_{t->s}(x)||_2`: starting points (samples, means,
//! mode boundaries), separatrix points, and local maximisation of `ln ||DPhi||`.
//!
//! A measured maximum is a *lower estimate* of the supremum the estimate bounds. Samples
//! and boundary points alone miss it by up to a factor 1.8 on small random mixtures, so
//! the best starting points are refined by Nelder-Mead on `ln ||DPhi(x)||`
//! ([`crate::bounds::ascent::nelder_mead`]; a gradient would need the second-order
//! variational equation), and the maximisers of neighbouring flow maps, carried along the
//! flow, are tried as well.

use nalgebra::{DMatrix, DVector};

use super::stability::StabilityError;
use crate::bounds::ascent::{Objective, nelder_mead};
use crate::bounds::{Bound, LambdaTable, Lipschitz};
use crate::dynamics::flow::spectral_norm;
use crate::dynamics::solver::ValidSolverOptions;
use crate::dynamics::{SolverError, flow_point, flow_point_observed};
use crate::grids::balanced::from_table;
use crate::model::{Marginal, Mixture, PathCoeffs, VelocityField};
use crate::{limits, tolerance};

use super::path_bound::PathBound;

/// The exact velocity field, recording the largest `|x|` it is evaluated at.
pub(crate) struct Tracked<'a> {
    pub(crate) inner: Marginal<'a>,
    pub(crate) max_norm: f64,
}

impl Tracked<'_> {
    fn record(&mut self, x: &[f64]) {
        let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        // NaN counts as outside.
        if n.is_nan() || n > self.max_norm {
            self.max_norm = n;
        }
    }
}

impl VelocityField for Tracked<'_> {
    fn dim(&self) -> usize {
        VelocityField::dim(&self.inner)
    }

    fn velocity_into(&mut self, x: &[f64], t: f64, out: &mut [f64]) {
        self.record(x);
        VelocityField::velocity_into(&mut self.inner, x, t, out);
    }

    fn jacobian_into(&mut self, x: &[f64], t: f64, jac: &mut DMatrix<f64>, out: &mut [f64]) {
        self.record(x);
        VelocityField::jacobian_into(&mut self.inner, x, t, jac, out);
    }
}

/// The deterministic starting points at time `t`: means, pairwise midpoints and
/// equal-weight points on the segments between means.
///
/// ```
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let pts = flowcert::theorems::stability::boundary_points(&mix, 1.0);
/// // two means, one midpoint, one equal-weight point (the midpoint again, by symmetry)
/// assert_eq!(pts.len(), 4);
/// assert!(pts[2].iter().all(|v| v.abs() < 1e-15));
/// ```
pub fn boundary_points(mix: &Mixture, t: f64) -> Vec<Vec<f64>> {
    let co = mix.coeffs(t);
    let means: Vec<DVector<f64>> = mix
        .components()
        .iter()
        .map(|c| &c.mean * co.alpha)
        .collect();
    let mut pts: Vec<Vec<f64>> = means.iter().map(|m| m.as_slice().to_vec()).collect();
    for k in 0..means.len() {
        for j in (k + 1)..means.len() {
            let at = |u: f64| &means[k] + (&means[j] - &means[k]) * u;
            pts.push(at(0.5).as_slice().to_vec());
            let h = |u: f64| {
                mix.components()[k].log_joint(&co, &at(u))
                    - mix.components()[j].log_joint(&co, &at(u))
            };
            let (h0, h1) = (h(0.0), h(1.0));
            if h0.is_finite() && h1.is_finite() && (h0 > 0.0) != (h1 > 0.0) {
                let (mut lo, mut hi) = (0.0f64, 1.0f64);
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if !(lo < mid && mid < hi) {
                        break;
                    }
                    if (h(mid) > 0.0) == (h0 > 0.0) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                pts.push(at(0.5 * (lo + hi)).as_slice().to_vec());
            }
        }
    }
    pts
}

/// Index of the component with the largest log-weight at `x` (time `t`).
fn dominant(mix: &Mixture, co: &PathCoeffs, x: &DVector<f64>) -> usize {
    (0..mix.n_components())
        .map(|k| (k, mix.components()[k].log_joint(co, x)))
        .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
        .0
}

/// One flow from a starting point: where it lands, how far out it went and `||DPhi||`.
pub(crate) struct Flown {
    pub(crate) x: Vec<f64>,
    pub(crate) destination: usize,
    /// The largest `|x|` the trajectory can reach: every state the solver evaluated and,
    /// with a [`PathBound`], the bound along the continuous path between accepted states.
    pub(crate) max_norm: f64,
    pub(crate) norm: f64,
}

/// Chords bisected per pair of destination modes in the separatrix search (the closest
/// pairs of starting points that flow into the two modes).
pub const SEPARATRIX_CHORDS: usize = 4;

/// A pair of starting points `(i, j)` flowing into the destinations `key`, `|x_i - x_j|^2`.
struct Closest {
    key: (usize, usize),
    i: usize,
    j: usize,
    dist: f64,
}

/// Largest two-sided stability increment `int L` of one piece of the variational
/// equation (see [`SegmentFlow::run`]).
///
/// The solver's error test is component-wise, `atol + rtol |y_i|`. Where `DPhi` grows by
/// many orders of magnitude while some of its entries stay near zero (a trajectory leaving
/// the unstable centre of a symmetric mixture: `DPhi` is nearly a multiple of the identity),
/// the small entries are held to `atol` while their derivatives carry the large ones, and
/// the step size collapses. Restarting from the identity whenever the bound allows growth
/// by `e^2` keeps every entry within a factor `e^2` of the scale the tolerances are meant
/// for, at the cost of one extra step start per piece.
pub const PIECE_LAMBDA: f64 = 2.0;

/// The flow `Phi_{hi -> lo}` of one segment, with the bookkeeping of the search.
pub(crate) struct SegmentFlow<'a> {
    pub(crate) field: Tracked<'a>,
    pub(crate) hi: f64,
    pub(crate) lo: f64,
    /// `lo = u_0 < ... < u_n = hi` with `int_{u_{k-1}}^{u_k} L <= PIECE_LAMBDA`.
    pieces: Vec<f64>,
    co_lo: PathCoeffs,
    pub(crate) solver: ValidSolverOptions,
    /// The continuous-path containment bound (local bounds only).
    path: Option<PathBound>,
}

impl SegmentFlow<'_> {
    /// Flow `x` (with the variational equation when `jacobian`). The derivative is the
    /// product of the derivatives over the pieces of [`Self::pieces`] (chain rule), each
    /// integrated from the identity.
    pub(crate) fn run(&mut self, x: &[f64], jacobian: bool) -> Result<Flown, StabilityError> {
        let (hi, lo) = (self.hi, self.lo);
        let fail = |e: SolverError| StabilityError::Flow {
            from: hi,
            to: lo,
            error: e.into(),
        };
        self.field.max_norm = 0.0;
        let d = x.len();
        let norm_of = |y: &[f64]| y[..d].iter().map(|v| v * v).sum::<f64>().sqrt();
        // The continuous-path bound: from each accepted state over its step.
        let mut reach = 0.0f64;
        let mut last = norm_of(x);
        let path = self.path.as_ref();
        let mut observe = |t_a: f64, t_b: f64, y: &[f64]| {
            if let Some(pb) = path {
                reach = reach.max(pb.step(last, t_a, t_b));
                last = norm_of(y);
            }
        };
        let (y, norm) = if jacobian {
            let mut y = x.to_vec();
            let mut m = DMatrix::<f64>::identity(d, d);
            for w in self.pieces.windows(2).rev() {
                let p = flow_point_observed(
                    &mut self.field,
                    &y,
                    w[1],
                    w[0],
                    true,
                    &self.solver,
                    &mut observe,
                )
                .map_err(fail)?;
                if let Some(j) = &p.jacobian {
                    m = j * m;
                }
                y = p.y.as_slice().to_vec();
            }
            (DVector::from_vec(y), spectral_norm(&m))
        } else {
            let p = flow_point_observed(
                &mut self.field,
                x,
                hi,
                lo,
                false,
                &self.solver,
                &mut observe,
            )
            .map_err(fail)?;
            (p.y, f64::NAN)
        };
        let mix = self.field.inner.mixture();
        let evaluated = self.field.max_norm;
        Ok(Flown {
            x: x.to_vec(),
            destination: dominant(mix, &self.co_lo, &y),
            // NaN (a state the solver evaluated) stays NaN: it counts as outside.
            max_norm: if evaluated.is_nan() {
                evaluated
            } else {
                evaluated.max(reach)
            },
            norm,
        })
    }

    /// Separatrix points of `Phi_{hi -> lo}`: for every pair of destination modes reached
    /// by `flown`, the closest pair of starting points landing in them, then bisection on
    /// the chord between the two for the switch of destination (`steps` halvings, or down
    /// to adjacent floating-point numbers; a chord that crosses a third basin is dropped).
    /// Returns both ends of every final bracket.
    /// Trajectories from there follow the boundary between two modes for most of the
    /// interval, which is where the backward flow expands at the rate `mu`.
    pub(crate) fn separatrix_points(
        &mut self,
        flown: &[Flown],
        steps: usize,
    ) -> Result<Vec<Vec<f64>>, StabilityError> {
        // Per pair of destinations: the SEPARATRIX_CHORDS closest pairs of starting points.
        let mut chords: Vec<Closest> = Vec::new();
        for (i, a) in flown.iter().enumerate() {
            for (j, b) in flown.iter().enumerate().skip(i + 1) {
                if a.destination == b.destination {
                    continue;
                }
                let key = (
                    a.destination.min(b.destination),
                    a.destination.max(b.destination),
                );
                let dist: f64 = a.x.iter().zip(&b.x).map(|(u, v)| (u - v).powi(2)).sum();
                chords.push(Closest { key, i, j, dist });
            }
        }
        chords.sort_by(|p, q| p.key.cmp(&q.key).then(p.dist.total_cmp(&q.dist)));
        let mut closest: Vec<Closest> = Vec::new();
        let mut run = 0;
        for c in chords {
            run = match closest.last() {
                Some(last) if last.key == c.key => run + 1,
                _ => 0,
            };
            if run < SEPARATRIX_CHORDS {
                closest.push(c);
            }
        }
        let mut out = Vec::new();
        for Closest { i, j, .. } in closest {
            let (xa, xb) = (
                DVector::from_column_slice(&flown[i].x),
                DVector::from_column_slice(&flown[j].x),
            );
            let at = |u: f64| (&xa + (&xb - &xa) * u).as_slice().to_vec();
            let (from, to) = (flown[i].destination, flown[j].destination);
            let (mut a, mut b) = (0.0f64, 1.0f64);
            let mut third = false;
            for _ in 0..steps {
                let mid = 0.5 * (a + b);
                if !(a < mid && mid < b) {
                    break;
                }
                match self.run(&at(mid), false)?.destination {
                    dest if dest == from => a = mid,
                    dest if dest == to => b = mid,
                    // The chord crosses a third basin, whose own pairs cover its boundaries.
                    _ => {
                        third = true;
                        break;
                    }
                }
            }
            if !third {
                out.push(at(a));
                out.push(at(b));
            }
        }
        Ok(out)
    }
}

/// Times `lo = u_0 < ... < u_n = hi` with equal two-sided increments of at most
/// [`PIECE_LAMBDA`] (one piece when `L` is flat or the table cannot be built); more than
/// [`limits::MAX_STABILITY_PIECES`] pieces (or a non-finite `int L`) is an error, checked
/// before the times are allocated.
pub(crate) fn pieces(
    lip: &Lipschitz,
    lo: f64,
    hi: f64,
    int_l: f64,
) -> Result<Vec<f64>, StabilityError> {
    let n = (int_l / PIECE_LAMBDA).ceil();
    if n.is_nan() || n > limits::MAX_STABILITY_PIECES as f64 {
        return Err(StabilityError::TooManyPieces {
            lo,
            hi,
            int_l,
            pieces: n,
        });
    }
    if n <= 1.0 {
        return Ok(vec![lo, hi]);
    }
    Ok(
        match LambdaTable::new(lip.clone(), Bound::TwoSided, lo, hi) {
            Ok(tab) => {
                let mut ts = from_table(&tab, n as usize);
                ts.dedup();
                ts
            }
            Err(_) => vec![lo, hi],
        },
    )
}

/// The search of one flow map `Phi_{hi -> lo}`: the best counted point so far and the
/// effort spent.
pub(crate) struct Search<'a> {
    pub(crate) flow: SegmentFlow<'a>,
    /// `R` of a local bound: trajectories leaving `B_R` are not compared.
    pub(crate) radius: Option<f64>,
    /// The largest `||DPhi||` of a counted point, and the point.
    pub(crate) best: Option<(f64, Vec<f64>)>,
    pub(crate) points: usize,
    pub(crate) left: usize,
    pub(crate) evaluations: usize,
    pub(crate) starts: usize,
}

impl<'a> Search<'a> {
    /// A search over `Phi_{hi -> lo}` of the exact flow of `lip`'s mixture.
    pub(crate) fn new(
        lip: &Lipschitz<'a>,
        hi: f64,
        lo: f64,
        int_l: f64,
        solver: ValidSolverOptions,
    ) -> Result<Self, StabilityError> {
        Ok(Search {
            flow: SegmentFlow {
                field: Tracked {
                    inner: Marginal::new(lip.mixture(), hi)?,
                    max_norm: 0.0,
                },
                hi,
                lo,
                co_lo: lip.mixture().coeffs(lo),
                solver,
                pieces: pieces(lip, lo, hi, int_l)?,
                path: lip.region_radius().map(|_| PathBound::new(lip.mixture())),
            },
            radius: lip.region_radius(),
            best: None,
            points: 0,
            left: 0,
            evaluations: 0,
            starts: 0,
        })
    }

    /// Whether a trajectory counts (stayed in `B_R`), recording the verdict.
    fn inside(&self, f: &Flown) -> bool {
        match self.radius {
            Some(r) => !(f.max_norm.is_nan() || f.max_norm > r),
            None => true,
        }
    }

    /// Flow `x` with its derivative, count it and keep it if it is the best.
    pub(crate) fn evaluate(&mut self, x: &[f64]) -> Result<Flown, StabilityError> {
        self.evaluations += 1;
        let f = self.flow.run(x, true)?;
        self.consider(&f);
        Ok(f)
    }

    fn consider(&mut self, f: &Flown) {
        if !self.inside(f) {
            self.left += 1;
            return;
        }
        self.points += 1;
        if self
            .best
            .as_ref()
            .is_none_or(|(b, _)| f.norm > *b || f.norm.is_nan())
        {
            self.best = Some((f.norm, f.x.clone()));
        }
    }

    /// Nelder-Mead on `ln ||DPhi(x)||` from `x0` with `budget` solves and an initial
    /// simplex of edge `scale`, until the simplex agrees to a tenth of the solver's trusted
    /// accuracy on `ln ||DPhi||` (`ODE_GLOBAL_FACTOR max(rtol, atol)`). Points whose
    /// trajectory leaves `B_R` count as `-inf` (and are not compared); a solver failure
    /// ends the maximisation.
    pub(crate) fn maximise(&mut self, x0: &[f64], scale: f64, budget: usize) {
        self.starts += 1;
        let solver = &self.flow.solver;
        let ftol = 0.1 * tolerance::ODE_GLOBAL_FACTOR * solver.rtol().max(solver.atol());
        let mut obj = LogNorm {
            search: self,
            failed: false,
        };
        nelder_mead(&mut obj, x0, scale, budget, ftol);
    }
}

/// `ln ||DPhi(x)||` as an [`Objective`]: every point the maximiser tries is compared with
/// the bound like any other starting point ([`Search::consider`]).
struct LogNorm<'s, 'a> {
    search: &'s mut Search<'a>,
    failed: bool,
}

impl Objective for LogNorm<'_, '_> {
    fn value(&mut self, x: &mut [f64]) -> Option<f64> {
        if self.failed {
            return None;
        }
        self.search.evaluations += 1;
        match self.search.flow.run(x, true) {
            Ok(f) => {
                let inside = self.search.inside(&f);
                self.search.consider(&f);
                (inside && f.norm.is_finite() && f.norm > 0.0).then(|| f.norm.ln())
            }
            Err(_) => {
                self.failed = true;
                None
            }
        }
    }
}

/// Carry `x` from time `from` to time `to` along the exact flow (either direction):
/// a neighbouring flow map's maximiser as a starting point of this one.
pub(crate) fn carry(
    lip: &Lipschitz,
    x: &[f64],
    from: f64,
    to: f64,
    solver: &ValidSolverOptions,
) -> Option<Vec<f64>> {
    if from == to {
        return Some(x.to_vec());
    }
    let mut field = Marginal::new(lip.mixture(), from).ok()?;
    let p = flow_point(&mut field, x, from, to, false, solver).ok()?;
    let y: Vec<f64> = p.y.iter().copied().collect();
    y.iter().all(|v| v.is_finite()).then_some(y)
}
