//! Checker of the Lipschitz theorem (theory/02-lipschitz.md):
//! at each requested time, the three explicit bounds against empirical suprema of what
//! they claim to dominate,
//!
//! ```text
//! sup_x ||J(x, t)||_2        <= L(t) <= L_p(t)      (two-sided, paper-style)
//! sup_x lambda_max(-J(x, t)) <= mu(t)               (one-sided, may be negative)
//! ```
//! on the domain of the bounds (all of `R^d` for a shared covariance, the ball `B_R` of
//! [`crate::bounds::Region`] otherwise). The suprema come from
//! [`crate::bounds::empirical_sup`] (samples, mode boundaries on and beyond the segments
//! between means, rays along them, far probes, then BFGS ascents), continued from the
//! maximisers of the neighbouring times ([`crate::bounds::empirical::refine`]). They are
//! lower estimates of the suprema, so the ratios bound / empirical are upper estimates of
//! the slack: 1 means the bound is attained (`attained` when equal to
//! [`crate::tolerance::ATTAINED_REL`]), larger means slack, and above
//! [`crate::tolerance::VACUOUS_FACTOR`] the row is flagged `vacuous`. A time is a
//! *violation* when a bound lies below its empirical supremum by more than
//! [`crate::bounds::empirical::slack`] (relative to `L` itself).
//!
//! The report layer renders it as a table (3 significant digits) and as SVG plots
//! ([`LipschitzReport::bounds_plot_svg`], [`crate::report::bounds::lambda_plot_svg`]).

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::bounds::empirical::{refine, warm_starts};
use crate::bounds::{BoundsError, EmpiricalSup, Lipschitz, SearchConfig, Tightness, empirical_sup};
use crate::model::Mixture;

/// Times of the pinned report tables: from the sharp end (`0.01`) to nearly `N(0, I)` (`3`).
pub const REPORT_TIMES: [f64; 6] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

/// What is wrong with a Lipschitz check request.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum LipschitzCheckError {
    /// No time to check.
    #[error("the list of times is empty: give at least one OU time > 0, e.g. 0.01,0.1,1")]
    NoTimes,
    /// A bad time or region (from the bounds layer).
    #[error(transparent)]
    Bounds(#[from] BoundsError),
}

/// One time of the check: the bounds, the empirical suprema and their ratios.
///
/// ```
/// use flowcert::bounds::SearchConfig;
/// use flowcert::theorems::lipschitz::compare_bounds;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let r = compare_bounds(&mix, &[0.5], &SearchConfig::quick()).unwrap();
/// let row = &r.rows[0];
/// assert!(row.holds && row.ratio >= 1.0 - 1e-9 && row.ratio_paper >= row.ratio);
/// assert_eq!(row.region_radius, None); // shared covariance: global bound
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LipschitzRow {
    /// The time.
    pub t: f64,
    /// Two-sided `L(t)`.
    pub bound: f64,
    /// Paper-style `1 + max_k ||S_k^{-1}|| + c(t)`.
    pub bound_paper: f64,
    /// One-sided `mu(t)` (may be negative).
    pub one_sided: f64,
    /// Largest `||J(x, t)||_2` found on the domain.
    pub empirical_sup: f64,
    /// Largest `lambda_max(-J(x, t))` found on the domain.
    pub empirical_one_sided: f64,
    /// `bound / empirical_sup`.
    pub ratio: f64,
    /// `bound_paper / empirical_sup`.
    pub ratio_paper: f64,
    /// `one_sided / empirical_one_sided` when both are positive, else `None`.
    pub ratio_one_sided: Option<f64>,
    /// `one_sided - empirical_one_sided` (meaningful for either sign).
    pub one_sided_gap: f64,
    /// `R` when the bounds hold only on `B_R`; `None` (JSON `null`) for all of `R^d`.
    pub region_radius: Option<f64>,
    /// Search candidates moved onto the sphere of `B_R` (0 for global bounds).
    pub projected: usize,
    /// Jacobian evaluations spent by the search.
    pub evaluations: usize,
    /// Local ascents run by the search (from candidates and from the maximisers of the
    /// neighbouring times).
    pub starts: usize,
    /// Where `sup ||J||` was found.
    pub argmax: Vec<f64>,
    /// No bound lies below its empirical supremum beyond the rounding slack
    /// ([`crate::bounds::empirical::slack`], relative to `L`).
    pub holds: bool,
    /// The search found `||J|| = L` to [`crate::tolerance::ATTAINED_REL`].
    pub attained: bool,
    /// `L` exceeds the supremum found by more than [`crate::tolerance::VACUOUS_FACTOR`].
    pub vacuous: bool,
}

/// The Lipschitz check of one mixture at a list of times.
///
/// ```
/// use flowcert::bounds::SearchConfig;
/// let mix = flowcert::model::builtin::hetero3();
/// let r = flowcert::theorems::lipschitz::compare_bounds(&mix, &[0.1, 1.0], &SearchConfig::quick()).unwrap();
/// assert_eq!((r.rows.len(), r.violations), (2, 0));
/// assert!(r.rows[0].region_radius.is_some()); // heterogeneous: bounds on a ball
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LipschitzReport {
    /// One row per requested time, in the order given.
    pub rows: Vec<LipschitzRow>,
    /// Rows where some bound is below its empirical supremum beyond the slack.
    pub violations: usize,
    /// The search budget and seed used.
    pub search: SearchConfig,
}

/// Check the bounds of `mix` on their default domain ([`crate::bounds::Domain::auto`]) at
/// every time of `times` (each finite and `> 0`). Times run in parallel; the result is
/// deterministic from `cfg.seed`.
///
/// ```
/// use flowcert::bounds::SearchConfig;
/// use flowcert::theorems::lipschitz::compare_bounds;
/// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// assert!(compare_bounds(&mix, &[], &SearchConfig::quick()).is_err());
/// assert!(compare_bounds(&mix, &[0.0], &SearchConfig::quick()).is_err());
/// let r = compare_bounds(&mix, &[1.0], &SearchConfig::quick()).unwrap();
/// assert!(r.rows[0].ratio > 1.0); // Popoviciu uses the diameter: slack on the ring
/// ```
pub fn compare_bounds(
    mix: &Mixture,
    times: &[f64],
    cfg: &SearchConfig,
) -> Result<LipschitzReport, LipschitzCheckError> {
    compare_bounds_on(&Lipschitz::auto(mix), times, cfg)
}

/// [`compare_bounds`] for bounds on a chosen domain (e.g. a smaller ball).
///
/// ```
/// use flowcert::bounds::{Domain, Lipschitz, Region, SearchConfig};
/// let mix = flowcert::model::builtin::hetero3();
/// let lip = Lipschitz::new(&mix, Domain::Ball(Region::uniform(&mix, 1e-2).unwrap())).unwrap();
/// let r = flowcert::theorems::lipschitz::compare_bounds_on(&lip, &[1.0], &SearchConfig::quick()).unwrap();
/// assert_eq!(r.rows[0].region_radius, lip.region_radius());
/// ```
pub fn compare_bounds_on(
    lip: &Lipschitz,
    times: &[f64],
    cfg: &SearchConfig,
) -> Result<LipschitzReport, LipschitzCheckError> {
    if times.is_empty() {
        return Err(LipschitzCheckError::NoTimes);
    }
    for &t in times {
        lip.mixture()
            .check_path_time("t", t)
            .map_err(BoundsError::from)?;
    }
    // Pass 1: an independent search per time. Pass 2: every time continues from the
    // maximisers of its neighbours in time (moved with the means), which lie on the same
    // ridges of ||J|| when the times are close.
    let sups: Vec<EmpiricalSup> = times
        .par_iter()
        .map(|&t| empirical_sup(lip, t, cfg))
        .collect::<Result<_, _>>()?;
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    let rows: Vec<LipschitzRow> = (0..times.len())
        .into_par_iter()
        .map(|i| {
            let pos = order.iter().position(|&j| j == i).unwrap_or(0);
            let warm: Vec<Vec<f64>> = [pos.checked_sub(1), Some(pos + 1)]
                .into_iter()
                .flatten()
                .filter_map(|p| order.get(p))
                .filter(|&&j| times[j] != times[i])
                .flat_map(|&j| warm_starts(&sups[j], times[i]))
                .collect();
            let e = if warm.is_empty() {
                sups[i].clone()
            } else {
                refine(lip, times[i], cfg, &sups[i], &warm)?
            };
            row(lip, times[i], e)
        })
        .collect::<Result<_, _>>()?;
    let violations = rows.iter().filter(|r| !r.holds).count();
    Ok(LipschitzReport {
        rows,
        violations,
        search: *cfg,
    })
}

fn row(lip: &Lipschitz, t: f64, e: EmpiricalSup) -> Result<LipschitzRow, BoundsError> {
    let b = lip.at(t)?;
    let tight = Tightness::new(&b, &e);
    Ok(LipschitzRow {
        t,
        bound: b.bound,
        bound_paper: b.bound_paper,
        one_sided: b.one_sided,
        empirical_sup: e.norm.value,
        empirical_one_sided: e.one_sided.value,
        ratio: tight.two_sided,
        ratio_paper: tight.paper,
        ratio_one_sided: tight.one_sided,
        one_sided_gap: tight.one_sided_gap,
        region_radius: b.region_radius,
        projected: e.projected,
        evaluations: e.evaluations,
        starts: e.starts,
        argmax: e.norm.x,
        holds: tight.holds,
        attained: tight.attained,
        vacuous: tight.vacuous,
    })
}
