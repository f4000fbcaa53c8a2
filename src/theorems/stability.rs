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
//! **Local bounds.** For heterogeneous covariances the bounds hold on a ball `B_R` only,
//! and the theorem needs the whole trajectory in `B_R`. A point counts when every state
//! the solver evaluates (stage and step points) lies in `B_R` *and* so does the continuous
//! path between accepted steps: from each accepted state `y_n` the exact trajectory over the
//! step `h` stays within `|y_n| e^{a h} + b h expm1(a h)/(a h)` of the origin (Gronwall with
//! `|v| <= a |x| + b`, `a = max_k ||S_k^{-1} - I||`, `b = alpha max_k ||S_k^{-1}|| |mu_k|`,
//! their largest values on the step). The others are reported as `left_region` and not
//! compared. (The numerical solution itself is trusted to the solver's accuracy, as
//! everywhere.)
//!
//! **Violations.** A segment violates the estimate when
//! `ln max ||DPhi|| > int mu + slack`, with
//! `slack = ODE_GLOBAL_FACTOR max(rtol, atol) + QUAD_RTOL int L` (the solver's global
//! relative error in `DPhi`, and the quadrature tolerance; `|mu| <= L`).

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

pub use super::flow_search::{PIECE_LAMBDA, SEPARATRIX_CHORDS, boundary_points};
use super::flow_search::{Search, carry};
use crate::bounds::lambda::integrate_bound;
use crate::bounds::{Bound, BoundsError, Domain, Lipschitz};
use crate::dynamics::{FlowError, Teacher};
use crate::grids::{GridError, TimeGrid};
use crate::model::{Mixture, ModelError};
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
    /// Local maximisations of `ln ||DPhi(x)||` (Nelder-Mead) per flow map, from the best
    /// distinct starting points (0 switches them off); the maximisers of the neighbouring
    /// flow maps, carried along the flow, are tried on top.
    pub ascent_starts: usize,
    /// Flow-map evaluations (variational solves) per local maximisation.
    pub ascent_evals: usize,
}

impl Default for StabilityConfig {
    fn default() -> Self {
        StabilityConfig {
            samples: 64,
            seed: 0,
            teacher: Teacher::REFERENCE,
            domain: None,
            separatrix_steps: 60,
            ascent_starts: 4,
            ascent_evals: 80,
        }
    }
}

impl StabilityConfig {
    /// A cheaper check (`flowcert check`, property tests): 12 samples per segment, two
    /// local maximisations of 40 solves per flow map.
    ///
    /// ```
    /// assert_eq!(flowcert::theorems::stability::StabilityConfig::quick().samples, 12);
    /// ```
    pub fn quick() -> Self {
        StabilityConfig {
            samples: 12,
            ascent_starts: 2,
            ascent_evals: 40,
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    /// Points whose trajectory may leave `B_R` (a solver state outside it, or the
    /// continuous-path bound between accepted steps above `R`; 0 for global bounds); not
    /// compared.
    pub left_region: usize,
    /// Local maximisations of `ln ||DPhi||` run (Nelder-Mead, from the best starting
    /// points and from the neighbouring flow maps' maximisers).
    pub starts: usize,
    /// Variational solves spent (starting points, separatrix points, maximisations).
    pub evaluations: usize,
    /// `ln measured <= int mu + log_slack`.
    pub holds: bool,
    /// `measured = exp(int mu)` to within the slack of the comparison (the solver's
    /// accuracy on `||DPhi||`, at least [`tolerance::ATTAINED_REL`]): the estimate is attained.
    pub attained: bool,
    /// `exp(int mu) > VACUOUS_FACTOR measured` ([`tolerance::VACUOUS_FACTOR`]): the bound
    /// holds but says nothing quantitative about the measured amplification.
    pub vacuous: bool,
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    let lip = match cfg.domain {
        None => Lipschitz::auto(mix),
        Some(domain) => Lipschitz::new(mix, domain)?,
    };
    measure_segments_on(&lip, times, cfg)
}

/// [`measure_segments`] against the bounds `lip` (any domain; `cfg.domain` is ignored), e.g. a
/// deliberately wrong bound ([`crate::bounds::Mutation`]) that the check must reject.
///
/// ```
/// use flowcert::bounds::{Lipschitz, Mutation};
/// use flowcert::theorems::stability::{StabilityConfig, measure_segments_on};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let lip = Lipschitz::auto(&mix).mutated(Mutation::Scale(1.0 - 1e-6));
/// let r = measure_segments_on(&lip, &[0.1, 1.0], &StabilityConfig::quick()).unwrap();
/// assert!(r.violations > 0); // attained estimate, bound lowered by 1e-6: caught
/// ```
pub fn measure_segments_on(
    lip: &Lipschitz,
    times: &[f64],
    cfg: &StabilityConfig,
) -> Result<StabilityReport, StabilityError> {
    if times.len() < 2 {
        return Err(StabilityError::TooFewTimes { got: times.len() });
    }
    for (i, &t) in times.iter().enumerate() {
        lip.mixture().check_path_time(&format!("times[{i}]"), t)?;
        if i > 0 && t <= times[i - 1] {
            return Err(StabilityError::NotIncreasing {
                index: i,
                prev: times[i - 1],
                next: t,
            });
        }
    }
    let n = times.len() - 1;
    let log_slack_base = tolerance::ODE_GLOBAL_FACTOR * cfg.teacher.rtol().max(cfg.teacher.atol());
    // Job 0 is the whole interval, job i the segment [t_{i-1}, t_i].
    let jobs: Vec<(usize, f64, f64)> = std::iter::once((0, times[n], times[0]))
        .chain((1..=n).map(|i| (i, times[i], times[i - 1])))
        .collect();
    let first: Vec<SegmentRow> = jobs
        .par_iter()
        .map(|&(stream, hi, lo)| {
            segment(lip, hi, lo, stream as u64, log_slack_base, cfg, None, &[])
        })
        .collect::<Result<_, _>>()?;
    // Pass 2: every flow map continues from its neighbours' maximisers carried along the
    // flow to its start time: segment i from segments i - 1, i + 1 and the whole interval,
    // the whole interval from every segment.
    let mut rows: Vec<SegmentRow> = jobs
        .par_iter()
        .enumerate()
        .map(|(i, &(stream, hi, lo))| {
            let sources: Vec<usize> = if cfg.ascent_starts == 0 {
                Vec::new()
            } else if i == 0 {
                (1..=n).collect()
            } else {
                let mut v = vec![0];
                if i > 1 {
                    v.push(i - 1);
                }
                if i < n {
                    v.push(i + 1);
                }
                v
            };
            let warm: Vec<Vec<f64>> = sources
                .into_iter()
                .filter(|&j| !first[j].argmax.is_empty())
                .filter_map(|j| {
                    carry(
                        lip,
                        &first[j].argmax,
                        first[j].t_hi,
                        hi,
                        cfg.teacher.options(),
                    )
                })
                .collect();
            if warm.is_empty() {
                return Ok(first[i].clone());
            }
            segment(
                lip,
                hi,
                lo,
                stream as u64,
                log_slack_base,
                cfg,
                Some(&first[i]),
                &warm,
            )
        })
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

/// Local maximisation of `||DPhi_{hi -> lo}(x)||` from `x0` alone (the Nelder-Mead stage of
/// the checker, `cfg.ascent_evals` solves, initial simplex a quarter of the narrowest
/// standard deviation at `hi`): the largest value found and where. Points whose trajectory
/// leaves the domain of the bounds of `lip` are not counted.
///
/// ```
/// use flowcert::bounds::Lipschitz;
/// use flowcert::theorems::stability::{StabilityConfig, maximise_from};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let lip = Lipschitz::auto(&mix);
/// let (m, x) = maximise_from(&lip, 1.0, 0.5, &[0.2, 0.1], &StabilityConfig::quick()).unwrap();
/// assert!(m > 1.0 && x[0].abs() < 0.2); // towards the bisector x_1 = 0
/// ```
pub fn maximise_from(
    lip: &Lipschitz,
    hi: f64,
    lo: f64,
    x0: &[f64],
    cfg: &StabilityConfig,
) -> Result<(f64, Vec<f64>), StabilityError> {
    lip.mixture().check_path_time("hi", hi)?;
    lip.mixture().check_path_time("lo", lo)?;
    lip.mixture().check_point("x0", x0)?;
    let int_l = integrate_bound(lip, Bound::TwoSided, lo.min(hi), hi.max(lo))?.value;
    let mut search = Search::new(lip, hi, lo, int_l, *cfg.teacher.options())?;
    search.evaluate(x0)?;
    search.maximise(x0, start_scale(lip.mixture(), hi), cfg.ascent_evals);
    Ok(search.best.unwrap_or((f64::NAN, x0.to_vec())))
}

/// Initial simplex edge of the local maximisations: a quarter of the narrowest standard
/// deviation of `p_t`'s components at the start time `t`.
fn start_scale(mix: &Mixture, t: f64) -> f64 {
    let co = mix.coeffs(t);
    0.25 * mix
        .components()
        .iter()
        .map(|c| c.s_range(co.alpha2, co.sigma2).0)
        .fold(f64::INFINITY, f64::min)
        .sqrt()
}

/// Search one flow map `Phi_{hi -> lo}` (job `stream`): samples, boundary and separatrix
/// points, then Nelder-Mead from the best distinct ones. With `prev` (pass 2), continue
/// that row's search from the `warm` points only.
#[allow(clippy::too_many_arguments)]
fn segment(
    lip: &Lipschitz,
    hi: f64,
    lo: f64,
    stream: u64,
    log_slack_base: f64,
    cfg: &StabilityConfig,
    prev: Option<&SegmentRow>,
    warm: &[Vec<f64>],
) -> Result<SegmentRow, StabilityError> {
    let mix = lip.mixture();
    let (int_mu, int_l) = match prev {
        Some(r) => (r.int_mu, r.int_l),
        None => (
            integrate_bound(lip, Bound::OneSided, lo, hi)?.value,
            integrate_bound(lip, Bound::TwoSided, lo, hi)?.value,
        ),
    };
    let log_slack = log_slack_base + tolerance::QUAD_RTOL * int_l;
    let mut search = Search::new(lip, hi, lo, int_l, *cfg.teacher.options())?;
    let scale = start_scale(mix, hi);
    if let Some(r) = prev {
        search.best = r.measured.map(|m| (m, r.argmax.clone()));
        (search.points, search.left) = (r.points, r.left_region);
        (search.evaluations, search.starts) = (r.evaluations, r.starts);
        // Evaluate every warm point; maximise from the best `ascent_starts` of them.
        let mut tried = Vec::with_capacity(warm.len());
        for x in warm {
            tried.push(search.evaluate(x)?);
        }
        tried.sort_by(|a, b| b.norm.total_cmp(&a.norm));
        for f in tried.iter().take(cfg.ascent_starts) {
            search.maximise(&f.x, scale, cfg.ascent_evals);
        }
        return Ok(finish(&search, int_mu, int_l, log_slack));
    }

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
    let mut flown = Vec::with_capacity(starts.len());
    for x in &starts {
        flown.push(search.evaluate(x)?);
    }
    if cfg.separatrix_steps > 0 {
        for x in search
            .flow
            .separatrix_points(&flown, cfg.separatrix_steps)?
        {
            flown.push(search.evaluate(&x)?);
        }
    }
    // Local maximisation from the best counted points at least `scale` apart.
    let mut order: Vec<usize> = (0..flown.len())
        .filter(|&i| {
            let f = &flown[i];
            f.norm.is_finite() && lip.region_radius().is_none_or(|r| f.max_norm <= r)
        })
        .collect();
    order.sort_by(|&a, &b| flown[b].norm.total_cmp(&flown[a].norm));
    let mut chosen: Vec<&[f64]> = Vec::new();
    for i in order {
        if chosen.len() >= cfg.ascent_starts {
            break;
        }
        let x = &flown[i].x;
        if chosen.iter().all(|y| {
            x.iter()
                .zip(y.iter())
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                >= scale * scale
        }) {
            chosen.push(x);
        }
    }
    let chosen: Vec<Vec<f64>> = chosen.into_iter().map(<[f64]>::to_vec).collect();
    for x0 in &chosen {
        search.maximise(x0, scale, cfg.ascent_evals);
    }
    Ok(finish(&search, int_mu, int_l, log_slack))
}

/// The row of a finished search.
fn finish(search: &Search, int_mu: f64, int_l: f64, log_slack: f64) -> SegmentRow {
    let best = search.best.as_ref().map(|b| b.0);
    let ratio = best.map(|m| (int_mu - m.ln()).exp());
    let ratio_two_sided = best.map(|m| (int_l - m.ln()).exp());
    let holds = best.is_none_or(|m| m.ln() <= int_mu + log_slack);
    let gap = best.map(|m| int_mu - m.ln());
    SegmentRow {
        t_hi: search.flow.hi,
        t_lo: search.flow.lo,
        measured: best,
        argmax: search
            .best
            .as_ref()
            .map(|b| b.1.clone())
            .unwrap_or_default(),
        int_mu,
        int_l,
        bound_one_sided: int_mu.exp(),
        bound_two_sided: int_l.exp(),
        ratio,
        ratio_two_sided,
        points: search.points,
        left_region: search.left,
        starts: search.starts,
        evaluations: search.evaluations,
        holds,
        attained: holds && gap.is_some_and(|g| g <= log_slack.max(tolerance::ATTAINED_REL)),
        vacuous: gap.is_some_and(|g| g > tolerance::VACUOUS_FACTOR.ln()),
    }
}
