//! Checker of the flow-map stability estimate (theory/03-stability.md): for `s < t` and `x` whose trajectory stays where the bounds
//! hold,
//!
//! ```text
//! ||DPhi_{t->s}(x)||_2 <= exp( int_s^t mu(u) du ) <= exp( int_s^t L(u) du )
//! ```
//! (Gronwall on the variational equation, run backwards in time). Per segment
//! `[t_{i-1}, t_i]` of a grid, and for the whole interval `[t_0, t_N]`, the checker measures
//! `max_x ||DPhi_{t_i -> t_{i-1}}(x)||_2` from the variational equation
//! ([`crate::dynamics::flow_point`]) over
//!
//! - `samples` exact draws of `p_{t_i}` (seeded; one ChaCha8 stream per segment),
//! - the component means `m_k(t_i)`,
//! - for every pair of components, the midpoint `(m_k + m_j) / 2` and the point of the
//!   segment `[m_k, m_j]` where `pi_k N(x; m_k, S_k) = pi_j N(x; m_j, S_j)` (bisection): points
//!   on the boundary between two modes at time `t_i`. For two equal-weight modes with a
//!   shared isotropic covariance the midpoint trajectory stays on the midpoint and attains
//!   the one-sided bound exactly;
//! - separatrix points: the boundary at `t_i` is not invariant, so for every pair of
//!   destination modes (the dominant component at `t_{i-1}`) reached from the points above,
//!   bisection on the chords between the [`SEPARATRIX_CHORDS`] closest pairs of starting
//!   points that land in them, for the switch of destination. Trajectories from there
//!   follow the boundary between two modes for most of the segment, where the backward
//!   flow expands at the rate `mu`.
//!
//! `DPhi` is integrated in pieces of two-sided increment `int L <= PIECE_LAMBDA`, each from
//! the identity, and multiplied (chain rule): see [`PIECE_LAMBDA`] for why.
//!
//! The exponents are adaptive quadratures of the bounds themselves
//! ([`crate::bounds::lambda::integrate_bound`]); the one-sided one integrates `mu` unfloored,
//! so a contracting segment has `exp(int mu) < 1`.
//!
//! **Local bounds.** For heterogeneous covariances the bounds hold on a ball `B_R` only. A
//! point counts when every state the solver evaluates along its trajectory (stage and step
//! points) lies in `B_R`; the others are reported as `left_region` and not compared.
//!
//! **Violations.** A segment violates the estimate when
//! `ln max ||DPhi|| > int mu + slack`, with
//! `slack = ODE_GLOBAL_FACTOR max(rtol, atol) + QUAD_RTOL int L` (the solver's global
//! relative error in `DPhi`, and the quadrature tolerance; `|mu| <= L`).

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::bounds::lambda::integrate_bound;
use crate::bounds::{Bound, BoundsError, Domain, LambdaTable, Lipschitz};
use crate::dynamics::Teacher;
use crate::dynamics::flow::spectral_norm;
use crate::dynamics::solver::ValidSolverOptions;
use crate::dynamics::{FlowError, SolverError, flow_point};
use crate::grids::balanced::from_table;
use crate::grids::{GridError, TimeGrid};
use crate::model::{Marginal, Mixture, ModelError, OuCoeffs, VelocityField};
use crate::{limits, seed, tolerance};

/// What is wrong with a stability check request, or what failed while running it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StabilityError {
    /// Fewer than two times.
    #[error("the grid has {got} times: give at least two (t_min and T)")]
    TooFewTimes {
        /// Times given.
        got: usize,
    },
    /// A time that is not finite and positive.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Times that do not strictly increase.
    #[error(
        "grid times must strictly increase: times[{index}] = {next} follows {prev}; sort them and drop duplicates"
    )]
    NotIncreasing {
        /// Index of the offending time.
        index: usize,
        /// The time before it.
        prev: f64,
        /// The offending time.
        next: f64,
    },
    /// The bounds could not be built or integrated.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// The stability coordinate of a segment is too large for the piecewise variational
    /// equation (covariances of very different scales, or a segment down to a tiny time).
    #[error(
        "the stability coordinate int L over [{lo}, {hi}] is {int_l:.3e}: the variational equation would need {pieces:.1e} pieces of int L <= {PIECE_LAMBDA} (the limit is {max}), and exp(int L) is far beyond any meaningful amplification; the mixture's modes are too far apart relative to their widths for this interval: raise t_min (--to) or give a less stiff mixture",
        max = limits::MAX_STABILITY_PIECES
    )]
    TooManyPieces {
        /// Start of the segment.
        lo: f64,
        /// End of the segment.
        hi: f64,
        /// `int_lo^hi L`.
        int_l: f64,
        /// Pieces it would need.
        pieces: f64,
    },
    /// A flow map failed.
    #[error("flow map from t = {from} to t = {to} failed: {error}")]
    Flow {
        /// Start time.
        from: f64,
        /// End time.
        to: f64,
        /// What went wrong.
        error: FlowError,
    },
}

/// Sample size, seed, solver and domain of the check.
///
/// ```
/// let cfg = flowcert::theorems::stability::StabilityConfig::default();
/// assert_eq!((cfg.samples, cfg.seed, cfg.domain, cfg.separatrix_steps), (64, 0, None, 60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StabilityConfig {
    /// Exact samples of `p_{t_i}` per segment (boundary points and means come on top).
    pub samples: usize,
    /// Seed of the samples ([`crate::seed::STABILITY`]: segment `i` uses stream `i`, the
    /// whole interval 0).
    pub seed: u64,
    /// The solver of the flow and its variational equation.
    pub teacher: Teacher,
    /// Domain of the bounds; `None` is [`Domain::auto`].
    pub domain: Option<Domain>,
    /// Bisection steps of the separatrix search (0 switches it off; 60 reaches adjacent
    /// floating-point numbers).
    pub separatrix_steps: usize,
}

impl Default for StabilityConfig {
    fn default() -> Self {
        StabilityConfig {
            samples: 64,
            seed: 0,
            teacher: Teacher::REFERENCE,
            domain: None,
            separatrix_steps: 60,
        }
    }
}

impl StabilityConfig {
    /// A cheaper check (`flowcert check`, property tests): 12 samples per segment.
    ///
    /// ```
    /// assert_eq!(flowcert::theorems::stability::StabilityConfig::quick().samples, 12);
    /// ```
    pub fn quick() -> Self {
        StabilityConfig {
            samples: 12,
            ..Default::default()
        }
    }
}

/// Measured amplification of one flow map `Phi_{t_hi -> t_lo}` against its bounds.
///
/// ```
/// use flowcert::theorems::stability::{StabilityConfig, measure_segments};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let r = measure_segments(&mix, &[0.1, 1.0], &StabilityConfig::quick()).unwrap();
/// let s = &r.segments[0];
/// assert_eq!((s.t_lo, s.t_hi), (0.1, 1.0));
/// assert!(s.holds && s.int_mu <= s.int_l);
/// assert!(s.measured.unwrap() <= s.bound_one_sided * (1.0 + r.log_slack));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRow {
    /// Start of the backward flow (the larger time).
    pub t_hi: f64,
    /// End of the backward flow (the smaller time).
    pub t_lo: f64,
    /// `max ||DPhi_{t_hi -> t_lo}(x)||_2` over the counted points (`None` if none counted).
    pub measured: Option<f64>,
    /// The starting point attaining `measured`.
    pub argmax: Vec<f64>,
    /// `int_{t_lo}^{t_hi} mu(u) du` (unfloored; may be negative).
    pub int_mu: f64,
    /// `int_{t_lo}^{t_hi} L(u) du` (two-sided).
    pub int_l: f64,
    /// `exp(int mu)` (may overflow to infinity: read `int_mu`).
    pub bound_one_sided: f64,
    /// `exp(int L)` (may overflow to infinity: read `int_l`).
    pub bound_two_sided: f64,
    /// `exp(int mu) / measured`: 1 means the one-sided estimate is attained.
    pub ratio: Option<f64>,
    /// `exp(int L) / measured`.
    pub ratio_two_sided: Option<f64>,
    /// Points compared with the bound.
    pub points: usize,
    /// Points whose trajectory left `B_R` (0 for global bounds); not compared.
    pub left_region: usize,
    /// `ln measured <= int mu + log_slack`.
    pub holds: bool,
}

/// The stability check of one mixture on one grid.
///
/// ```
/// use flowcert::grids::GridKind;
/// use flowcert::theorems::stability::{StabilityConfig, measure_grid};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let r = measure_grid(&mix, &GridKind::Balanced, 0.05, 2.0, 2, &StabilityConfig::quick()).unwrap();
/// assert_eq!((r.segments.len(), r.violations), (2, 0));
/// // Balanced grid: both segments carry the same exp(int L).
/// assert!((r.segments[0].int_l / r.segments[1].int_l - 1.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StabilityReport {
    /// The grid `t_0 < ... < t_N`.
    pub times: Vec<f64>,
    /// Segment `i` is `Phi_{t_i -> t_{i-1}}`, `i = 1..N`, in that order.
    pub segments: Vec<SegmentRow>,
    /// The whole interval `Phi_{t_N -> t_0}`.
    pub whole: SegmentRow,
    /// `R` when the bounds hold only on `B_R`, `None` for all of `R^d`.
    pub region_radius: Option<f64>,
    /// Segments (and the whole interval) violating the estimate.
    pub violations: usize,
    /// Allowance on `ln ||DPhi||` (see the module docs).
    pub log_slack: f64,
    /// Samples per segment.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
    /// Solver relative tolerance.
    pub rtol: f64,
    /// Solver absolute tolerance.
    pub atol: f64,
}

/// Check the stability estimate on the grid produced by `grid` for `[t_min, t_max]` with
/// `segments` segments (validated by [`TimeGrid::times`]).
///
/// ```
/// use flowcert::grids::GridKind;
/// use flowcert::theorems::stability::{StabilityConfig, measure_grid};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// assert!(measure_grid(&mix, &GridKind::Uniform, 1.0, 0.1, 2, &StabilityConfig::quick()).is_err());
/// let r = measure_grid(&mix, &GridKind::Uniform, 0.1, 1.0, 3, &StabilityConfig::quick()).unwrap();
/// assert_eq!(r.times.len(), 4);
/// ```
pub fn measure_grid<G: TimeGrid + ?Sized>(
    mix: &Mixture,
    grid: &G,
    t_min: f64,
    t_max: f64,
    segments: usize,
    cfg: &StabilityConfig,
) -> Result<StabilityReport, StabilityError> {
    let times = grid.times(mix, t_min, t_max, segments)?;
    measure_segments(mix, &times, cfg)
}

/// Check the stability estimate on explicit grid times (finite, `> 0`, strictly
/// increasing, at least two). Segments and the whole interval run in parallel; the result
/// is deterministic from `cfg.seed`.
///
/// ```
/// use flowcert::theorems::stability::{StabilityConfig, measure_segments};
/// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// assert!(measure_segments(&mix, &[0.5], &StabilityConfig::quick()).is_err());
/// assert!(measure_segments(&mix, &[0.5, 0.2], &StabilityConfig::quick()).is_err());
/// let r = measure_segments(&mix, &[0.2, 0.5], &StabilityConfig::quick()).unwrap();
/// assert_eq!(r.whole.int_mu, r.segments[0].int_mu);
/// ```
pub fn measure_segments(
    mix: &Mixture,
    times: &[f64],
    cfg: &StabilityConfig,
) -> Result<StabilityReport, StabilityError> {
    if times.len() < 2 {
        return Err(StabilityError::TooFewTimes { got: times.len() });
    }
    for (i, &t) in times.iter().enumerate() {
        Mixture::check_time(&format!("times[{i}]"), t)?;
        if i > 0 && t <= times[i - 1] {
            return Err(StabilityError::NotIncreasing {
                index: i,
                prev: times[i - 1],
                next: t,
            });
        }
    }
    let lip = match cfg.domain {
        None => Lipschitz::auto(mix),
        Some(domain) => Lipschitz::new(mix, domain)?,
    };
    let n = times.len() - 1;
    let log_slack_base = tolerance::ODE_GLOBAL_FACTOR * cfg.teacher.rtol().max(cfg.teacher.atol());
    // Job 0 is the whole interval, job i the segment [t_{i-1}, t_i].
    let jobs: Vec<(usize, f64, f64)> = std::iter::once((0, times[n], times[0]))
        .chain((1..=n).map(|i| (i, times[i], times[i - 1])))
        .collect();
    let mut rows: Vec<SegmentRow> = jobs
        .par_iter()
        .map(|&(stream, hi, lo)| segment(&lip, hi, lo, stream as u64, log_slack_base, cfg))
        .collect::<Result<_, _>>()?;
    let whole = rows.remove(0);
    // The reported slack is that of the whole interval (the largest int L).
    let log_slack = log_slack_base + tolerance::QUAD_RTOL * whole.int_l;
    let violations = rows.iter().chain([&whole]).filter(|r| !r.holds).count();
    Ok(StabilityReport {
        times: times.to_vec(),
        segments: rows,
        whole,
        region_radius: lip.region_radius(),
        violations,
        log_slack,
        samples: cfg.samples,
        seed: cfg.seed,
        rtol: cfg.teacher.rtol(),
        atol: cfg.teacher.atol(),
    })
}

/// The exact velocity field, recording the largest `|x|` it is evaluated at.
struct Tracked<'a> {
    inner: Marginal<'a>,
    max_norm: f64,
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
    let co = OuCoeffs::at(t);
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
            let comps = mix.components();
            let h = |u: f64| comps[k].log_joint(&co, &at(u)) - comps[j].log_joint(&co, &at(u));
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
fn dominant(mix: &Mixture, co: &OuCoeffs, x: &DVector<f64>) -> usize {
    (0..mix.n_components())
        .map(|k| (k, mix.components()[k].log_joint(co, x)))
        .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
        .0
}

/// One flow from a starting point: where it lands, how far out it went and `||DPhi||`.
struct Flown {
    x: Vec<f64>,
    destination: usize,
    max_norm: f64,
    norm: f64,
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
/// equation (see `SegmentFlow::run`).
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
struct SegmentFlow<'a> {
    field: Tracked<'a>,
    hi: f64,
    lo: f64,
    /// `lo = u_0 < ... < u_n = hi` with `int_{u_{k-1}}^{u_k} L <= PIECE_LAMBDA`.
    pieces: Vec<f64>,
    co_lo: OuCoeffs,
    solver: ValidSolverOptions,
}

impl SegmentFlow<'_> {
    /// Flow `x` (with the variational equation when `jacobian`). The derivative is the
    /// product of the derivatives over the pieces of [`Self::pieces`] (chain rule), each
    /// integrated from the identity.
    fn run(&mut self, x: &[f64], jacobian: bool) -> Result<Flown, StabilityError> {
        let (hi, lo) = (self.hi, self.lo);
        let fail = |e: SolverError| StabilityError::Flow {
            from: hi,
            to: lo,
            error: e.into(),
        };
        self.field.max_norm = 0.0;
        let (y, norm) = if jacobian {
            let d = x.len();
            let mut y = x.to_vec();
            let mut m = DMatrix::<f64>::identity(d, d);
            for w in self.pieces.windows(2).rev() {
                let p = flow_point(&mut self.field, &y, w[1], w[0], true, &self.solver)
                    .map_err(fail)?;
                if let Some(j) = &p.jacobian {
                    m = j * m;
                }
                y = p.y.as_slice().to_vec();
            }
            (DVector::from_vec(y), spectral_norm(&m))
        } else {
            let p = flow_point(&mut self.field, x, hi, lo, false, &self.solver).map_err(fail)?;
            (p.y, f64::NAN)
        };
        let mix = self.field.inner.mixture();
        Ok(Flown {
            x: x.to_vec(),
            destination: dominant(mix, &self.co_lo, &y),
            max_norm: self.field.max_norm,
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
    fn separatrix_points(
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
fn pieces(lip: &Lipschitz, lo: f64, hi: f64, int_l: f64) -> Result<Vec<f64>, StabilityError> {
    let n = (int_l / PIECE_LAMBDA).ceil();
    if !(n <= limits::MAX_STABILITY_PIECES as f64) {
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
    Ok(match LambdaTable::new(lip.clone(), Bound::TwoSided, lo, hi) {
        Ok(tab) => {
            let mut ts = from_table(&tab, n as usize);
            ts.dedup();
            ts
        }
        Err(_) => vec![lo, hi],
    })
}

fn segment(
    lip: &Lipschitz,
    hi: f64,
    lo: f64,
    stream: u64,
    log_slack_base: f64,
    cfg: &StabilityConfig,
) -> Result<SegmentRow, StabilityError> {
    let mix = lip.mixture();
    let int_mu = integrate_bound(lip, Bound::OneSided, lo, hi)?.value;
    let int_l = integrate_bound(lip, Bound::TwoSided, lo, hi)?.value;
    let log_slack = log_slack_base + tolerance::QUAD_RTOL * int_l;

    let mut rng = seed::rng(seed::STABILITY, cfg.seed, &[stream]);
    let xs = mix.sample(hi, cfg.samples, &mut rng);
    let mut starts: Vec<Vec<f64>> = xs
        .column_iter()
        .map(|c| c.iter().copied().collect())
        .collect();
    for x in boundary_points(mix, hi) {
        if !starts.contains(&x) {
            starts.push(x);
        }
    }

    let mut flow = SegmentFlow {
        field: Tracked {
            inner: Marginal::new(mix, hi)?,
            max_norm: 0.0,
        },
        hi,
        lo,
        co_lo: OuCoeffs::at(lo),
        solver: *cfg.teacher.options(),
        pieces: pieces(lip, lo, hi, int_l)?,
    };
    let mut flown: Vec<Flown> = starts
        .iter()
        .map(|x| flow.run(x, true))
        .collect::<Result<_, _>>()?;
    if cfg.separatrix_steps > 0 {
        for x in flow.separatrix_points(&flown, cfg.separatrix_steps)? {
            flown.push(flow.run(&x, true)?);
        }
    }

    let radius = lip.region_radius();
    let (mut best, mut argmax) = (None::<f64>, Vec::new());
    let (mut points, mut left) = (0, 0);
    for f in &flown {
        if let Some(r) = radius
            && (f.max_norm.is_nan() || f.max_norm > r)
        {
            left += 1;
            continue;
        }
        points += 1;
        if best.is_none_or(|b| f.norm > b || f.norm.is_nan()) {
            best = Some(f.norm);
            argmax.clone_from(&f.x);
        }
    }
    let ratio = best.map(|m| (int_mu - m.ln()).exp());
    let ratio_two_sided = best.map(|m| (int_l - m.ln()).exp());
    let holds = best.is_none_or(|m| m.ln() <= int_mu + log_slack);
    Ok(SegmentRow {
        t_hi: hi,
        t_lo: lo,
        measured: best,
        argmax,
        int_mu,
        int_l,
        bound_one_sided: int_mu.exp(),
        bound_two_sided: int_l.exp(),
        ratio,
        ratio_two_sided,
        points,
        left_region: left,
        holds,
    })
}
