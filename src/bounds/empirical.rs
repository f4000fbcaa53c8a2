//! Empirical suprema of what the bounds claim to dominate (theory/02-lipschitz.md):
//!
//! ```text
//! sup_x ||J(x, t)||_2          (<= L(t) <= L_p(t))
//! sup_x lambda_max(-J(x, t))   (<= mu(t))
//! ```
//! over the domain of the bound (all of `R^d`, or `B_R` for heterogeneous covariances:
//! candidates outside the ball are moved radially onto its sphere, and counted). The
//! search is deterministic from [`SearchConfig::seed`] and looks where the suprema live:
//!
//! 1. exact samples of `p_t` (the typical set), and for a ball uniform points of its
//!    sphere (with different covariances `||C||` grows like `|x|^2`, so the local suprema
//!    sit on the sphere); between random pairs of these whose dominant components `k != j`
//!    differ, the point of the chord (of the arc, on the sphere) where the log-weights of
//!    `k` and `j` cross (bisection): a point on the boundary between the two modes;
//! 2. the component means `m_k(t)`, evenly spaced points on every segment `[m_k, m_j]`, and
//!    the points of each segment where `pi_k N(x; m_k, S_k) = pi_j N(x; m_j, S_j)`
//!    (bisection on the log-weight difference): there `r_k = r_j`, which is where
//!    `Cov_r[s_k]` peaks for two modes (the `c`-branch of `L` is attained there);
//! 3. far probes `m_k + 4^i sqrt(||S_k||) e` along the eigenvectors of `Sigma_k` and away
//!    from the other means: deep inside a component `r_k -> 1`, `C -> 0` and
//!    `J -> -I + S_k^{-1}`, which is where the `|a_hi|` branch is approached (in d = 1,
//!    or when `a_hi` has no direction orthogonal to the score spread, only in the limit);
//! 4. a (1+1) evolution strategy (Gaussian steps, step doubled on success and shrunk by
//!    `2^{-1/4}` on failure: the one-fifth rule) from the best candidates of each
//!    objective, with a fixed budget.
//!
//! Both objectives are recorded at every evaluation, so the norm supremum is at least
//! the one-sided one (`||J|| >= lambda_max(-J)`) whichever ascent found the point.

use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use super::BoundsError;
use super::lipschitz::{Lipschitz, LipschitzBounds};
use crate::model::{Marginal, Mixture, OuCoeffs};
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
    /// Jacobian evaluations spent.
    pub evaluations: usize,
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
    /// No bound lies below its empirical supremum by more than [`slack`].
    pub holds: bool,
}

/// Rounding allowance when comparing a bound with an empirical value:
/// [`tolerance::BOUND_SLACK_REL`] times the paper bound `1 + max ||S_k^{-1}|| + c`, which
/// dominates the size of every term summed into `J = -I + sum r_k S_k^{-1} - C`.
///
/// ```
/// use flowcert::bounds::{Lipschitz, empirical::slack};
/// let b = Lipschitz::auto(&flowcert::model::builtin::two_mode(0.1)).at(1.0).unwrap();
/// assert!(slack(&b) > 0.0 && slack(&b) < 1e-4 * b.bound_paper);
/// ```
pub fn slack(b: &LipschitzBounds) -> f64 {
    tolerance::BOUND_SLACK_REL * b.bound_paper
}

impl Tightness {
    /// Compare the bounds with the empirical suprema at the same time.
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
        Tightness {
            two_sided: b.bound / n,
            paper: b.bound_paper / n,
            one_sided: (o > 0.0 && b.one_sided > 0.0).then(|| b.one_sided / o),
            one_sided_gap: b.one_sided - o,
            holds: n <= b.bound + s && n <= b.bound_paper + s && o <= b.one_sided + s,
        }
    }
}

/// Evaluates both objectives inside the domain and remembers the best of each.
struct Probe<'a> {
    marginal: Marginal<'a>,
    jac: DMatrix<f64>,
    vel: Vec<f64>,
    radius: Option<f64>,
    evals: usize,
    projected: usize,
    best: [(f64, Vec<f64>); 2],
}

impl Probe<'_> {
    /// Move `x` radially into `B_R` if it lies outside.
    fn project(&mut self, x: &mut [f64]) {
        if let Some(r) = self.radius {
            let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > r {
                self.projected += 1;
                let f = r * (1.0 - 4.0 * f64::EPSILON) / norm;
                x.iter_mut().for_each(|v| *v *= f);
            }
        }
    }

    /// `(||J||_2, lambda_max(-J))` at `x` (projected into the domain first), or `None`
    /// for non-finite values.
    fn eval(&mut self, x: &mut [f64]) -> Option<(f64, f64)> {
        self.project(x);
        self.evals += 1;
        self.marginal.jacobian_into(x, &mut self.jac, &mut self.vel);
        let eig = self.jac.symmetric_eigenvalues();
        let lo = eig.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = eig.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let v = [hi.abs().max(lo.abs()), -lo];
        if !(v[0].is_finite() && v[1].is_finite()) {
            return None;
        }
        for (slot, value) in self.best.iter_mut().zip(v) {
            if value > slot.0 {
                *slot = (value, x.to_vec());
            }
        }
        Some((v[0], v[1]))
    }
}

/// A candidate with both objective values.
struct Candidate {
    x: Vec<f64>,
    norm: f64,
    one_sided: f64,
}

/// Search for `sup ||J||_2` and `sup lambda_max(-J)` at time `t` on the domain of `lip`.
///
/// ```
/// use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup};
/// let mix = flowcert::model::builtin::hetero3();
/// let lip = Lipschitz::auto(&mix);
/// let cfg = SearchConfig::quick();
/// let (a, b) = (empirical_sup(&lip, 0.5, &cfg).unwrap(), empirical_sup(&lip, 0.5, &cfg).unwrap());
/// assert_eq!(a, b); // deterministic from the seed
/// assert!(a.norm.x.iter().map(|v| v * v).sum::<f64>().sqrt() <= a.region_radius.unwrap());
/// ```
pub fn empirical_sup(
    lip: &Lipschitz,
    t: f64,
    cfg: &SearchConfig,
) -> Result<EmpiricalSup, BoundsError> {
    let mix = lip.mixture();
    let d = mix.dim();
    let co = OuCoeffs::at(Mixture::check_time("t", t)?);
    let mut probe = Probe {
        marginal: Marginal::new(mix, t)?,
        jac: DMatrix::zeros(d, d),
        vel: vec![0.0; d],
        radius: lip.region_radius(),
        evals: 0,
        projected: 0,
        best: [
            (f64::NEG_INFINITY, vec![0.0; d]),
            (f64::NEG_INFINITY, vec![0.0; d]),
        ],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut points: Vec<Vec<f64>> = Vec::new();

    let comps = mix.components();
    let lw = |x: &DVector<f64>, k: usize| comps[k].log_joint(&co, x);
    let dominant = |x: &DVector<f64>| {
        (0..comps.len())
            .map(|k| (k, lw(x, k)))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
            .0
    };

    // 1. Samples of p_t; points of the sphere of B_R; equal-weight crossings between
    //    random pairs of them with different dominant components.
    let xs = mix.sample(t, cfg.samples, &mut rng);
    let samples: Vec<DVector<f64>> = xs.column_iter().map(|c| c.into_owned()).collect();
    let mut sphere = Vec::new();
    if let Some(r) = probe.radius {
        for _ in 0..cfg.samples / 4 {
            let g = DVector::<f64>::from_fn(d, |_, _| rng.sample(StandardNormal));
            if g.norm() > 0.0 {
                sphere.push(g.normalize() * r);
            }
        }
    }
    for (group, radius) in [(&samples, None), (&sphere, probe.radius)] {
        let labels: Vec<usize> = group.iter().map(dominant).collect();
        for _ in 0..group.len() / 4 {
            let (a, b) = (
                rng.random_range(0..group.len()),
                rng.random_range(0..group.len()),
            );
            let (k, j) = (labels[a], labels[b]);
            if k == j {
                continue;
            }
            let at = |u: f64| {
                let x = &group[a] + (&group[b] - &group[a]) * u;
                match radius {
                    Some(r) if x.norm() > 0.0 => x.normalize() * r,
                    _ => x,
                }
            };
            let (lo, hi) = bisect(|u| lw(&at(u), k) - lw(&at(u), j), 0.0, 1.0, true);
            points.push(at(lo).iter().copied().collect());
            points.push(at(hi).iter().copied().collect());
        }
    }
    points.extend(
        samples
            .iter()
            .chain(&sphere)
            .map(|x| x.iter().copied().collect()),
    );

    // 2. Means, segments and equal-weight crossings.
    let means: Vec<DVector<f64>> = comps.iter().map(|c| &c.mean * co.alpha).collect();
    points.extend(means.iter().map(|m| m.iter().copied().collect()));
    for k in 0..comps.len() {
        for j in (k + 1)..comps.len() {
            let at = |u: f64| &means[k] + (&means[j] - &means[k]) * u;
            let h = |u: f64| lw(&at(u), k) - lw(&at(u), j);
            let n = cfg.segment_points.max(2);
            let mut prev = (0.0, h(0.0));
            for i in 1..n {
                let u = i as f64 / (n - 1) as f64;
                let cur = (u, h(u));
                points.push(at(u).iter().copied().collect());
                if prev.1.is_finite() && cur.1.is_finite() && (prev.1 > 0.0) != (cur.1 > 0.0) {
                    let (lo, hi) = bisect(h, prev.0, cur.0, prev.1 > 0.0);
                    points.push(at(lo).iter().copied().collect());
                    points.push(at(hi).iter().copied().collect());
                }
                prev = cur;
            }
        }
    }

    // 3. Far probes.
    for (k, comp) in comps.iter().enumerate() {
        let scale = comp.s_range(co.alpha2, co.sigma2).1.sqrt();
        let mut dirs: Vec<DVector<f64>> = Vec::new();
        for col in comp.eigvecs.column_iter() {
            dirs.push(col.into_owned());
            dirs.push(-col.into_owned());
        }
        for (j, m) in means.iter().enumerate() {
            let v = &means[k] - m;
            if j != k && v.norm() > 0.0 {
                dirs.push(v.normalize());
            }
        }
        for dir in &dirs {
            let mut dist = scale;
            for _ in 0..cfg.ladder {
                points.push((&means[k] + dir * dist).iter().copied().collect());
                dist *= 4.0;
            }
        }
    }

    let cands: Vec<Candidate> = points
        .into_iter()
        .filter_map(|mut x| {
            probe
                .eval(&mut x)
                .map(|(norm, one_sided)| Candidate { x, norm, one_sided })
        })
        .collect();

    // 4. Local ascent per objective.
    let step0 = comps
        .iter()
        .map(|c| c.s_range(co.alpha2, co.sigma2).0)
        .fold(f64::INFINITY, f64::min)
        .sqrt();
    for obj in 0..2 {
        let value = |c: &Candidate| if obj == 0 { c.norm } else { c.one_sided };
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| value(&cands[b]).total_cmp(&value(&cands[a])));
        order.dedup_by(|a, b| cands[*a].x == cands[*b].x);
        for &i in order.iter().take(cfg.starts) {
            let c = &cands[i];
            ascend(
                &mut probe,
                obj,
                &c.x,
                value(c),
                step0,
                cfg.ascent_evals,
                &mut rng,
            );
        }
    }
    let [norm, one_sided] = probe.best.clone().map(|(value, x)| Extremum { value, x });
    Ok(EmpiricalSup {
        t,
        norm,
        one_sided,
        evaluations: probe.evals,
        projected: probe.projected,
        region_radius: probe.radius,
    })
}

/// Bisection for a sign change of `h` on `[lo, hi]` (`h(lo) > 0` iff `lo_positive`):
/// the final bracket, two adjacent floating-point numbers.
fn bisect(h: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, lo_positive: bool) -> (f64, f64) {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if !(lo < mid && mid < hi) {
            break;
        }
        if (h(mid) > 0.0) == lo_positive {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo, hi)
}

/// An ascent stops once its step is below this fraction of `1 + |x|`.
const MIN_STEP_REL: f64 = 1e-13;

/// (1+1)-ES on objective `obj` (0: norm, 1: one-sided) from `x0`; the probe records
/// the best points.
fn ascend(
    probe: &mut Probe,
    obj: usize,
    x0: &[f64],
    f0: f64,
    step0: f64,
    budget: usize,
    rng: &mut ChaCha8Rng,
) {
    let d = x0.len();
    let (mut x, mut f, mut step) = (x0.to_vec(), f0, step0);
    let mut y = vec![0.0; d];
    let inv_sqrt_d = 1.0 / (d as f64).sqrt();
    for _ in 0..budget {
        for (yi, xi) in y.iter_mut().zip(&x) {
            let g: f64 = rng.sample(StandardNormal);
            *yi = xi + step * inv_sqrt_d * g;
        }
        let fy = probe.eval(&mut y).map(|v| if obj == 0 { v.0 } else { v.1 });
        match fy {
            Some(v) if v > f => {
                f = v;
                x.copy_from_slice(&y);
                step *= 2.0;
            }
            _ => step *= 0.840_896_415_253_714_5, // 2^{-1/4}
        }
        let size = 1.0 + x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if step.is_nan() || step <= MIN_STEP_REL * size {
            break;
        }
    }
}
