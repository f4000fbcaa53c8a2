//! Empirical suprema of what the bounds claim to dominate (theory/02-lipschitz.md):
//!
//! ```text
//! sup_x ||J(x, t)||_2          (<= L(t) <= L_p(t))
//! sup_x lambda_max(-J(x, t))   (<= mu(t))
//! ```
//! over the domain of the bound (all of `R^d`, or `B_R` for heterogeneous covariances:
//! points outside the ball are moved radially onto its sphere, and counted). A search is
//! a *lower estimate* of a supremum; it is made a real optimiser so that the reported
//! tightness `L / sup` is not overstated:
//!
//! 1. candidates where the suprema live or are approached ([`super::candidates`]):
//!    samples, mode boundaries on and beyond the segments between means, rays along the
//!    boundaries away from the other modes, far probes;
//! 2. per objective, a local ascent ([`super::ascent::bfgs_ascent`], with the analytic
//!    gradient of the extreme eigenvalue, then a short (1+1)-ES polish across kinks)
//!    from each of the best `starts` distinct candidates;
//! 3. optionally ([`refine`]) more ascents from warm starts: the maximisers found at
//!    neighbouring times.
//!
//! Both objectives are recorded at every evaluation, so the norm supremum is at least
//! the one-sided one (`||J|| >= lambda_max(-J)`) whichever ascent found the point. The
//! effort (evaluations, ascents) is reported with the result.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::BoundsError;
use super::ascent::{Objective, bfgs_ascent, es_polish};
use super::candidates::candidates;
use super::lipschitz::{Lipschitz, LipschitzBounds};
use crate::model::{Marginal, Mixture};
use crate::tolerance;

/// Budget and seed of the search.
///
/// ```
/// let cfg = flowcert::bounds::SearchConfig { seed: 3, ..Default::default() };
/// assert_eq!(cfg.samples, 2000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct SearchConfig {
    /// Exact samples of `p_t`.
    pub samples: usize,
    /// Evenly spaced points per segment between two means (end points included).
    pub segment_points: usize,
    /// Far probes per direction: distances `4^i sqrt(||S_k||)`, `i < ladder`.
    pub ladder: usize,
    /// Local ascents per objective, from the best distinct candidates.
    pub starts: usize,
    /// Evaluations per local ascent.
    pub ascent_evals: usize,
    /// Seed of the `ChaCha8Rng` behind samples and ascent steps.
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            samples: 2000,
            segment_points: 33,
            ladder: 16,
            starts: 8,
            ascent_evals: 300,
            seed: 0,
        }
    }
}

impl SearchConfig {
    /// A cheaper search (property tests).
    ///
    /// ```
    /// assert!(flowcert::bounds::SearchConfig::quick().samples < 2000);
    /// ```
    pub fn quick() -> Self {
        SearchConfig {
            samples: 200,
            segment_points: 9,
            ladder: 12,
            starts: 3,
            ascent_evals: 120,
            seed: 0,
        }
    }
}

/// The largest value found and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extremum {
    /// The value.
    pub value: f64,
    /// The point attaining it.
    pub x: Vec<f64>,
}

/// Empirical suprema at one time.
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let lip = Lipschitz::auto(&mix);
/// let e = empirical_sup(&lip, 0.2, &SearchConfig::quick()).unwrap();
/// let b = lip.at(0.2).unwrap();
/// // K = 2, isotropic: the two-sided bound is the exact supremum.
/// assert!((b.bound / e.norm.value - 1.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmpiricalSup {
    /// The time.
    pub t: f64,
    /// `sup ||J||_2` found.
    pub norm: Extremum,
    /// `sup lambda_max(-J)` found.
    pub one_sided: Extremum,
    /// Jacobian evaluations spent (candidates and local ascents).
    pub evaluations: usize,
    /// Local ascents run (per objective, from the best distinct candidates and from warm
    /// starts).
    pub starts: usize,
    /// Candidates and ascent proposals outside `B_R`, moved radially onto its sphere.
    pub projected: usize,
    /// `R` of the search domain, `None` for `R^d`.
    pub region_radius: Option<f64>,
}

/// Ratios bound / empirical supremum and the verdict.
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, Tightness, empirical_sup};
/// let mix = flowcert::model::builtin::aniso8();
/// let lip = Lipschitz::auto(&mix);
/// let e = empirical_sup(&lip, 0.5, &SearchConfig::quick()).unwrap();
/// let tight = Tightness::new(&lip.at(0.5).unwrap(), &e);
/// assert!(tight.holds && tight.two_sided >= 1.0 && tight.paper >= tight.two_sided);
/// assert!(!tight.attained && !tight.vacuous); // aniso8: slack of a few percent
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tightness {
    /// `L / sup ||J||`.
    pub two_sided: f64,
    /// `L_p / sup ||J||`.
    pub paper: f64,
    /// `mu / sup lambda_max(-J)` when both are positive.
    pub one_sided: Option<f64>,
    /// `mu - sup lambda_max(-J)` (meaningful for either sign).
    pub one_sided_gap: f64,
    /// No bound lies above its empirical supremum by more than [`slack`].
    pub holds: bool,
    /// The search found `||J|| = L` to [`tolerance::ATTAINED_REL`]: the two-sided bound is
    /// attained (up to the search's own rounding), not just close.
    pub attained: bool,
    /// `L > VACUOUS_FACTOR sup ||J||` ([`tolerance::VACUOUS_FACTOR`]): a valid bound that
    /// says nothing quantitative about the measured Jacobians.
    pub vacuous: bool,
}

/// Rounding allowance when comparing a bound with an empirical value:
/// [`tolerance::BOUND_ROUNDING_REL`] times the two-sided `L(t)`, the magnitude of the
/// compared quantities (`L >= ||J(x, t)||` everywhere, and `L` bounds every term of `mu`
/// within a factor 3). Both sides keep full relative accuracy, so the allowance shrinks
/// with `L` at large `t` instead of staying at the size of the paper bound (`L_p -> 2`).
///
/// ```
/// use flowcert::bounds::{Lipschitz, empirical::slack};
/// let b = Lipschitz::auto(&flowcert::model::builtin::two_mode(0.1)).at(15.0).unwrap();
/// assert!(slack(&b) > 0.0 && slack(&b) <= 1e-12 * b.bound); // L(15) ~ 1.2e-13
/// ```
pub fn slack(b: &LipschitzBounds) -> f64 {
    tolerance::BOUND_ROUNDING_REL * b.bound
}

impl Tightness {
    /// Compare the bounds with the empirical suprema at the same time: each bound with its
    /// own relative slack (`L` and `mu` with [`slack`], `L_p` with the same fraction of
    /// itself).
    ///
    /// ```
    /// use flowcert::bounds::{Lipschitz, SearchConfig, Tightness, empirical_sup};
    /// let mix = flowcert::model::builtin::hetero3();
    /// let lip = Lipschitz::auto(&mix);
    /// let e = empirical_sup(&lip, 1.0, &SearchConfig::quick()).unwrap();
    /// assert!(Tightness::new(&lip.at(1.0).unwrap(), &e).holds);
    /// ```
    pub fn new(b: &LipschitzBounds, e: &EmpiricalSup) -> Self {
        let s = slack(b);
        let (n, o) = (e.norm.value, e.one_sided.value);
        let holds = n <= b.bound + s
            && n <= b.bound_paper * (1.0 + tolerance::BOUND_ROUNDING_REL)
            && o <= b.one_sided + s;
        Tightness {
            two_sided: b.bound / n,
            paper: b.bound_paper / n,
            one_sided: (o > 0.0 && b.one_sided > 0.0).then(|| b.one_sided / o),
            one_sided_gap: b.one_sided - o,
            holds,
            attained: holds && n >= b.bound * (1.0 - tolerance::ATTAINED_REL),
            vacuous: b.bound > tolerance::VACUOUS_FACTOR * n,
        }
    }
}

/// How far from the origin, in units of the mixture's own scale
/// `1 + max_k ||mu_k|| + max_k sqrt(lambda_max(Sigma_k))`, a search of a global bound may go.
///
/// The Jacobian is computed from `x - alpha_t mu_k`; at `||x|| ~ 1e17` the rounding of `x`
/// (an ulp of 32) exceeds `alpha_t mu_k` itself and the computed `J` is noise (a random
/// 1-D three-mode mixture at `t = 2.45` gave `||J|| = 0.00737` at `x = 2e17` against the
/// exact value and bound 0.00652). Within `1e6` scales `x` is resolved to `1e-10` of the
/// scale, while the responsibilities have long saturated (beyond a few
/// `s / (alpha_t |mu_k - mu_j|)` scales `J` is the dominant component's constant), so the
/// supremum over `R^d` is attained, to rounding, inside this ball.
pub const NUMERIC_BALL_SCALES: f64 = 1e6;

/// Evaluates both objectives inside the domain and remembers the best of each.
struct Probe<'a> {
    marginal: Marginal<'a>,
    jac: DMatrix<f64>,
    vel: Vec<f64>,
    radius: Option<f64>,
    /// Radius of the ball a global search stays in ([`NUMERIC_BALL_SCALES`]).
    numeric_radius: f64,
    evals: usize,
    projected: usize,
    best: [(f64, Vec<f64>); 2],
}

impl Probe<'_> {
    /// Move `x` radially into `B_R` if it lies outside (counted in `projected`); a global
    /// search (no `B_R`) is kept inside the ball of [`NUMERIC_BALL_SCALES`] the same way,
    /// uncounted.
    fn project(&mut self, x: &mut [f64]) {
        let r = self.radius.unwrap_or(self.numeric_radius);
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > r {
            if self.radius.is_some() {
                self.projected += 1;
            }
            let f = r * (1.0 - 4.0 * f64::EPSILON) / norm;
            x.iter_mut().for_each(|v| *v *= f);
        }
    }

    fn record(&mut self, x: &[f64], lo: f64, hi: f64) -> Option<[f64; 2]> {
        let v = [hi.abs().max(lo.abs()), -lo];
        if !(v[0].is_finite() && v[1].is_finite()) {
            return None;
        }
        for (slot, value) in self.best.iter_mut().zip(v) {
            if value > slot.0 {
                *slot = (value, x.to_vec());
            }
        }
        Some(v)
    }

    /// `(||J||_2, lambda_max(-J))` at `x` (projected into the domain first), or `None`
    /// for non-finite values.
    fn eval(&mut self, x: &mut [f64]) -> Option<[f64; 2]> {
        self.project(x);
        self.evals += 1;
        self.marginal.jacobian_into(x, &mut self.jac, &mut self.vel);
        let eig = self.jac.symmetric_eigenvalues();
        let lo = eig.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = eig.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.record(x, lo, hi)
    }

    /// Objective `obj` (0: `||J||`, 1: `lambda_max(-J)`) at `x` and its gradient: the
    /// derivative of the extreme eigenvalue, `v^T (dJ/dx) v` at its unit eigenvector `v`
    /// ([`Marginal::jacobian_form_gradient`]), with the sign of the objective.
    fn eval_grad(&mut self, obj: usize, x: &mut [f64], grad: &mut [f64]) -> Option<f64> {
        self.project(x);
        self.evals += 1;
        self.marginal.jacobian_into(x, &mut self.jac, &mut self.vel);
        let eig = SymmetricEigen::new(self.jac.clone());
        let (mut i_lo, mut i_hi) = (0, 0);
        for (i, &l) in eig.eigenvalues.iter().enumerate() {
            if l < eig.eigenvalues[i_lo] {
                i_lo = i;
            }
            if l > eig.eigenvalues[i_hi] {
                i_hi = i;
            }
        }
        let (lo, hi) = (eig.eigenvalues[i_lo], eig.eigenvalues[i_hi]);
        let v = self.record(x, lo, hi)?;
        // ||J|| = max(hi, -lo): follow the larger; lambda_max(-J) = -lo.
        let (i, sign) = if obj == 0 && hi.abs() >= lo.abs() {
            (i_hi, 1.0)
        } else {
            (i_lo, -1.0)
        };
        let vec: Vec<f64> = eig.eigenvectors.column(i).iter().copied().collect();
        self.marginal.jacobian_form_gradient(&vec, grad);
        grad.iter_mut().for_each(|g| *g *= sign);
        Some(v[obj])
    }
}

/// One objective of the probe, as seen by the local maximisers.
struct Target<'p, 'a> {
    probe: &'p mut Probe<'a>,
    obj: usize,
}

impl Objective for Target<'_, '_> {
    fn value(&mut self, x: &mut [f64]) -> Option<f64> {
        self.probe.eval(x).map(|v| v[self.obj])
    }

    fn value_grad(&mut self, x: &mut [f64], grad: &mut [f64]) -> Option<f64> {
        self.probe.eval_grad(self.obj, x, grad)
    }
}

/// Search for `sup ||J||_2` and `sup lambda_max(-J)` at time `t` on the domain of `lip`:
/// the candidates of [`super::candidates`], then, per objective, a local ascent
/// ([`bfgs_ascent`] with the analytic eigenvalue gradient, finished by [`es_polish`]) from
/// each of the best `cfg.starts` candidates that lie at least one smallest standard
/// deviation `sqrt(s_min)` apart.
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup};
/// let mix = flowcert::model::builtin::hetero3();
/// let lip = Lipschitz::auto(&mix);
/// let cfg = SearchConfig::quick();
/// let (a, b) = (empirical_sup(&lip, 0.5, &cfg).unwrap(), empirical_sup(&lip, 0.5, &cfg).unwrap());
/// assert_eq!(a, b); // deterministic from the seed
/// assert!(a.norm.x.iter().map(|v| v * v).sum::<f64>().sqrt() <= a.region_radius.unwrap());
/// assert!(a.starts >= 2 && a.evaluations > a.starts);
/// ```
pub fn empirical_sup(
    lip: &Lipschitz,
    t: f64,
    cfg: &SearchConfig,
) -> Result<EmpiricalSup, BoundsError> {
    search(lip, t, cfg, None, &[])
}

/// Continue a search from `warm` starting points (e.g. the maximisers found at nearby
/// times, see [`warm_starts`]): a local ascent per objective from each, merged with
/// `previous` (the suprema only grow; the effort adds up).
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup, empirical::refine};
/// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// let lip = Lipschitz::auto(&mix);
/// let e = empirical_sup(&lip, 0.3, &SearchConfig::quick()).unwrap();
/// let r = refine(&lip, 0.3, &SearchConfig::quick(), &e, &[vec![0.1, 0.2]]).unwrap();
/// assert!(r.norm.value >= e.norm.value && r.starts == e.starts + 2);
/// ```
pub fn refine(
    lip: &Lipschitz,
    t: f64,
    cfg: &SearchConfig,
    previous: &EmpiricalSup,
    warm: &[Vec<f64>],
) -> Result<EmpiricalSup, BoundsError> {
    search(lip, t, cfg, Some(previous), warm)
}

/// The maximisers of a search at time `from`, moved to time `to` with the means
/// (`x alpha_to / alpha_from`): starting points for [`refine`] at `to`.
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup, empirical::warm_starts};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let e = empirical_sup(&Lipschitz::auto(&mix), 0.5, &SearchConfig::quick()).unwrap();
/// let w = warm_starts(&e, 0.6);
/// assert_eq!(w.len(), 2);
/// assert!((w[0][0] - e.norm.x[0] * (-0.1f64).exp()).abs() < 1e-15);
/// ```
pub fn warm_starts(e: &EmpiricalSup, to: f64) -> Vec<Vec<f64>> {
    let f = (e.t - to).exp();
    [&e.norm.x, &e.one_sided.x]
        .iter()
        .map(|x| x.iter().map(|v| v * f).collect())
        .collect()
}

/// `1 + max_k ||mu_k|| + max_k sqrt(lambda_max(Sigma_k))`: the length scale of a mixture.
fn numeric_scale(mix: &Mixture) -> f64 {
    let comps = mix.components();
    let mean = comps.iter().map(|c| c.mean.norm()).fold(0.0, f64::max);
    let spread = comps
        .iter()
        .flat_map(|c| c.eigvals.iter())
        .fold(0.0f64, |m, &l| m.max(l.sqrt()));
    1.0 + mean + spread
}

fn search(
    lip: &Lipschitz,
    t: f64,
    cfg: &SearchConfig,
    previous: Option<&EmpiricalSup>,
    warm: &[Vec<f64>],
) -> Result<EmpiricalSup, BoundsError> {
    let mix = lip.mixture();
    let d = mix.dim();
    let co = mix.coeffs(mix.check_path_time("t", t)?);
    let mut probe = Probe {
        marginal: Marginal::new(mix, t)?,
        jac: DMatrix::zeros(d, d),
        vel: vec![0.0; d],
        radius: lip.region_radius(),
        numeric_radius: NUMERIC_BALL_SCALES * numeric_scale(mix),
        evals: 0,
        projected: 0,
        best: [
            (f64::NEG_INFINITY, vec![0.0; d]),
            (f64::NEG_INFINITY, vec![0.0; d]),
        ],
    };
    let mut starts = 0;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let s_min = mix
        .components()
        .iter()
        .map(|c| c.s_range(co.alpha2, co.sigma2).0)
        .fold(f64::INFINITY, f64::min);
    let step0 = s_min.sqrt();
    // Per objective, the starting points of the local ascents.
    let mut from: [Vec<Vec<f64>>; 2] = [Vec::new(), Vec::new()];
    if let Some(prev) = previous {
        probe.best = [
            (prev.norm.value, prev.norm.x.clone()),
            (prev.one_sided.value, prev.one_sided.x.clone()),
        ];
        probe.evals = prev.evaluations;
        probe.projected = prev.projected;
        starts = prev.starts;
        rng.set_stream(1 + prev.starts as u64);
        for list in &mut from {
            list.extend(warm.iter().cloned());
        }
    } else {
        let mut cands: Vec<(Vec<f64>, [f64; 2])> = Vec::new();
        for mut x in candidates(mix, t, probe.radius, cfg, &mut rng) {
            if let Some(v) = probe.eval(&mut x) {
                cands.push((x, v));
            }
        }
        for (obj, list) in from.iter_mut().enumerate() {
            let mut order: Vec<usize> = (0..cands.len()).collect();
            order.sort_by(|&a, &b| cands[b].1[obj].total_cmp(&cands[a].1[obj]));
            for i in order {
                if list.len() >= cfg.starts {
                    break;
                }
                let x = &cands[i].0;
                let far = list.iter().all(|y: &Vec<f64>| {
                    x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() >= s_min
                });
                if far {
                    list.push(x.clone());
                }
            }
        }
    }
    for (obj, list) in from.iter().enumerate() {
        for x0 in list {
            starts += 1;
            let mut target = Target {
                probe: &mut probe,
                obj,
            };
            let a = bfgs_ascent(&mut target, x0, step0, cfg.ascent_evals);
            let polish = (cfg.ascent_evals / 4).max(1);
            let step = step0 * 1e-3;
            es_polish(&mut target, &a.x, a.value, step, polish, &mut rng);
        }
    }
    let [norm, one_sided] = probe.best.clone().map(|(value, x)| Extremum { value, x });
    Ok(EmpiricalSup {
        t,
        norm,
        one_sided,
        evaluations: probe.evals,
        starts,
        projected: probe.projected,
        region_radius: probe.radius,
    })
}
