//! The explicit bound `L(t)` on the Lipschitz constant of the PF-ODE velocity, its
//! paper-style form and the one-sided (logarithmic-norm) refinement `mu(t)`
//! (theory/02-lipschitz.md).
//!
//! On a path with drift `f` and score coefficient `h = g^2/2 > 0` (theory/07; OU: `f = -1`,
//! `h = 1`), write `J = A - h C` with `A = f I + h sum_k r_k S_k^{-1}` and `C = Cov_r[s_k]`
//! (PSD). `A` is a convex combination of `E_k = f I + h S_k^{-1}`, whose eigenvalues are the
//! rates `e(l) = f + h / s(l)` (`PathCoeffs::rate`, decreasing in the covariance eigenvalue
//! `l`), so its spectrum lies in `[a_lo, a_hi]`:
//!
//! ```text
//! a_lo = f + h min_k lambda_min(S_k^{-1}),   a_hi = f + h max_k lambda_max(S_k^{-1})
//! ```
//! If `h ||C|| <= c` then `spec(J) in [a_lo - c, a_hi]`, hence
//!
//! ```text
//! ||J||_2           <= L   = max(|a_hi|, |a_lo - c|)                     (two-sided)
//! ||J||_2           <= L_p = |f| + h max_k ||S_k^{-1}|| + c   (>= L)     (paper-style)
//! lambda_max(-J)    <= mu  = -a_lo + c                        (<= L)
//! ```
//! (for OU: `a = -1 + lambda(S_k^{-1})`, `L_p = 1 + max_k ||S_k^{-1}|| + c`).
//!
//! **Bounding `||C||` (Popoviciu).** For a unit `u`, `u^T C u` is the variance of `u . s_k`
//! under the weights `r_k`, a law on an interval of length `max_{k,j} u . (s_k - s_j)`;
//! Popoviciu's inequality gives `u^T C u <= max_{k,j} |s_k - s_j|^2 / 4`. Now
//! `s_k - s_j = -(S_k^{-1} - S_j^{-1}) x + S_k^{-1} m_k - S_j^{-1} m_j`, so
//!
//! ```text
//! |s_k - s_j| <= delta_kj := ||S_k^{-1} - S_j^{-1}|| R + |S_k^{-1} m_k - S_j^{-1} m_j|   (|x| <= R)
//! c = h max_{k<j} delta_kj^2 / 4
//! ```
//! For a pair with equal covariances the first term vanishes and `delta_kj = alpha_t
//! |S^{-1} (mu_k - mu_j)|` holds on all of `R^d`. This is at most, and for isotropic `Sigma`
//! equal to, the brief's `alpha_t D ||S^{-1}||`: we use the sharper pairwise form, which
//! is still a proof. A shared-covariance mixture therefore has a global bound; a mixture
//! with two different covariances has one only on a ball `B_R` ([`Domain::Ball`]).

use nalgebra::DMatrix;
use serde::Serialize;

use super::BoundsError;
use super::region::{DEFAULT_MASS_LEVEL, Region};
use crate::model::Mixture;

/// Where a bound holds.
///
/// ```
/// use flowcert::bounds::Domain;
/// let shared = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// assert_eq!(Domain::auto(&shared), Domain::Global);
/// let hetero = flowcert::model::builtin::hetero3();
/// assert!(matches!(Domain::auto(&hetero), Domain::Ball(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Domain {
    /// All of `R^d` (only for mixtures whose covariances are all equal).
    Global,
    /// The ball `B_R` of a [`Region`].
    Ball(Region),
}

impl Domain {
    /// [`Domain::Global`] for a shared covariance, otherwise the time-uniform ball
    /// [`Region::uniform`] at [`DEFAULT_MASS_LEVEL`].
    ///
    /// ```
    /// let d = flowcert::bounds::Domain::auto(&flowcert::model::builtin::hetero3());
    /// let flowcert::bounds::Domain::Ball(r) = d else { unreachable!() };
    /// assert_eq!(r.level, flowcert::bounds::DEFAULT_MASS_LEVEL);
    /// ```
    pub fn auto(mix: &Mixture) -> Domain {
        if mix.has_shared_covariance() {
            Domain::Global
        } else {
            match Region::uniform(mix, DEFAULT_MASS_LEVEL) {
                Ok(r) => Domain::Ball(r),
                Err(_) => unreachable!("DEFAULT_MASS_LEVEL lies in (0, 1)"),
            }
        }
    }
}

/// Which bound: the kinds share one interface so that `Lambda` and the grids take any.
///
/// ```
/// use flowcert::bounds::Bound;
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let t = 0.5;
/// let (l, lp, mu) = (Bound::TwoSided.value(&mix, t), Bound::Paper.value(&mix, t),
///     Bound::OneSided.value(&mix, t));
/// assert!(mu <= l && l <= lp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Bound {
    /// `L(t) = max(|a_hi|, |a_lo - c|)`.
    TwoSided,
    /// `|f| + h max_k ||S_k^{-1}|| + c` (OU: `1 + max_k ||S_k^{-1}|| + c`).
    Paper,
    /// `mu(t) = c - a_lo` (OU: `1 - min_k lambda_min(S_k^{-1}) + c`; may be negative).
    OneSided,
}

impl Bound {
    /// All kinds, in report order.
    pub const ALL: [Bound; 3] = [Bound::TwoSided, Bound::Paper, Bound::OneSided];

    /// A short name: `two-sided`, `paper`, `one-sided`.
    ///
    /// ```
    /// assert_eq!(flowcert::bounds::Bound::Paper.name(), "paper");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Bound::TwoSided => "two-sided",
            Bound::Paper => "paper",
            Bound::OneSided => "one-sided",
        }
    }

    /// The bound at time `t > 0` on the default domain ([`Domain::auto`]). For many
    /// times build a [`Lipschitz`] once and call [`Lipschitz::value`]. `t` is not checked:
    /// `t <= 0` may give an infinite value.
    ///
    /// ```
    /// use flowcert::bounds::Bound;
    /// // Isotropic two-mode: L(t) = max(1/tau^2 - 1, q - (1/tau^2 - 1)).
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let t = 1.0f64;
    /// let (a2, s2) = ((-2.0 * t).exp(), -(-2.0 * t).exp_m1());
    /// let tau2 = 0.01 * a2 + s2;
    /// let (a, q) = (1.0 / tau2 - 1.0, a2 * 9.0 / (4.0 * tau2 * tau2));
    /// assert!((Bound::TwoSided.value(&mix, t) - a.max(q - a)).abs() < 1e-12);
    /// ```
    pub fn value(&self, mix: &Mixture, t: f64) -> f64 {
        Lipschitz::auto(mix).value(*self, t)
    }
}

/// The three bounds at one time, with their ingredients.
///
/// ```
/// use flowcert::bounds::{Bound, Lipschitz};
/// let mix = flowcert::model::builtin::hetero3();
/// let b = Lipschitz::auto(&mix).at(0.5).unwrap();
/// assert!(b.region_radius.is_some());
/// assert_eq!(b.get(Bound::OneSided), b.one_sided);
/// assert!(b.one_sided <= b.bound && b.bound <= b.bound_paper);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LipschitzBounds {
    /// The time.
    pub t: f64,
    /// `f + h min_k lambda_min(S_k^{-1})` (OU: `-1 + min_k lambda_min(S_k^{-1})`).
    pub a_lo: f64,
    /// `f + h max_k lambda_max(S_k^{-1})` (OU: `-1 + max_k lambda_max(S_k^{-1})`).
    pub a_hi: f64,
    /// `c(t) >= h ||Cov_r[s_k]||` on the domain.
    pub c: f64,
    /// Two-sided `L(t)`.
    pub bound: f64,
    /// Paper-style `|f| + h max_k ||S_k^{-1}|| + c` (OU: `1 + max_k ||S_k^{-1}|| + c`).
    pub bound_paper: f64,
    /// One-sided `mu(t)`.
    pub one_sided: f64,
    /// `R` when the bound holds only on `B_R`; `None` when it holds on all of `R^d`.
    pub region_radius: Option<f64>,
}

impl LipschitzBounds {
    /// The value of one kind.
    ///
    /// ```
    /// use flowcert::bounds::{Bound, Lipschitz};
    /// let b = Lipschitz::auto(&flowcert::model::builtin::ring(8, 3.0, 0.1)).at(1.0).unwrap();
    /// assert_eq!(b.get(Bound::Paper), b.bound_paper);
    /// ```
    pub fn get(&self, kind: Bound) -> f64 {
        match kind {
            Bound::TwoSided => self.bound,
            Bound::Paper => self.bound_paper,
            Bound::OneSided => self.one_sided,
        }
    }
}

/// A pair of components and what their score difference needs.
#[derive(Debug, Clone)]
enum Pair {
    /// Equal covariances: `Q_k^T (mu_k - mu_j)`, so `delta = alpha |diag(1/s_k) diff_rot|`.
    Shared { k: usize, diff_rot: Vec<f64> },
    /// Different covariances: the dense form with `R`.
    Distinct { k: usize, j: usize },
}

/// A deliberately wrong bound, for showing that the checkers can fail: a test builds
/// [`Lipschitz::mutated`] bounds, runs a checker on them and demands a violation. Never
/// used by the harness itself.
///
/// ```
/// use flowcert::bounds::{Lipschitz, Mutation};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let (good, bad) = (Lipschitz::auto(&mix), Lipschitz::auto(&mix).mutated(Mutation::Scale(0.5)));
/// assert_eq!(bad.at(1.0).unwrap().bound, 0.5 * good.at(1.0).unwrap().bound);
/// // The cancelling 1/s - 1 of old: 0.15% below L at t = 15 (two-mode-s0.1).
/// let old = Lipschitz::auto(&mix).mutated(Mutation::CancellingExcess);
/// let (l, l_old) = (good.at(15.0).unwrap().bound, old.at(15.0).unwrap().bound);
/// assert!(l_old < l * (1.0 - 1e-3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mutation {
    /// Every bound multiplied by the factor (`mu` by the factor on its absolute value,
    /// `mu - (1 - f)|mu|`, so that a factor below 1 always lowers it).
    Scale(f64),
    /// `a_lo`, `a_hi` formed as `h/s + f` (OU: `1/s - 1`): the cancelling formula this
    /// crate used before, which loses relative accuracy once `s` is close to 1 (large `t`).
    CancellingExcess,
    /// The OU scalar factors `f = -1`, `h = 1` with this path's covariances `S_k(t)`: the
    /// bound of a path whose drift and score coefficients were not carried over
    /// (theory/07-gaussian-paths.md). Not a mutation on OU itself.
    ///
    /// ```
    /// use flowcert::bounds::{Lipschitz, Mutation};
    /// use flowcert::model::process::ProcessSpec;
    /// let rf = ProcessSpec::named("rectified").check().unwrap();
    /// let mix = flowcert::model::builtin::two_mode(0.1).with_process(rf);
    /// let (good, bad) = (Lipschitz::auto(&mix), Lipschitz::auto(&mix).mutated(Mutation::OuFactors));
    /// assert!(bad.at(0.8).unwrap().bound < good.at(0.8).unwrap().bound);
    /// ```
    OuFactors,
}

/// The bounds of one mixture on one domain; build once, evaluate at many times.
///
/// ```
/// use flowcert::bounds::{Domain, Lipschitz, Region};
/// let mix = flowcert::model::builtin::hetero3();
/// assert!(Lipschitz::new(&mix, Domain::Global).is_err()); // heterogeneous: no global bound
/// let ball = Domain::Ball(Region::uniform(&mix, 1e-3).unwrap());
/// let small = Lipschitz::new(&mix, ball).unwrap().at(1.0).unwrap();
/// let big = Lipschitz::auto(&mix).at(1.0).unwrap(); // level 1e-6: larger ball
/// assert!(small.bound < big.bound);
/// ```
#[derive(Debug, Clone)]
pub struct Lipschitz<'a> {
    mix: &'a Mixture,
    domain: Domain,
    pairs: Vec<Pair>,
    /// `R`, when some pair has different covariances.
    radius: Option<f64>,
    /// A deliberate error (tests of the checkers only).
    mutation: Option<Mutation>,
}

impl<'a> Lipschitz<'a> {
    /// Bounds on `domain`; [`Domain::Global`] needs all covariances equal.
    ///
    /// ```
    /// use flowcert::bounds::{Domain, Lipschitz};
    /// let mix = flowcert::model::builtin::aniso8();
    /// let lip = Lipschitz::new(&mix, Domain::Global).unwrap();
    /// assert_eq!(lip.region_radius(), None);
    /// ```
    pub fn new(mix: &'a Mixture, domain: Domain) -> Result<Self, BoundsError> {
        if let Domain::Ball(r) = domain
            && !(r.radius.is_finite() && r.radius > 0.0)
        {
            return Err(BoundsError::BadRadius { value: r.radius });
        }
        let comps = mix.components();
        let mut pairs = Vec::new();
        let mut distinct = None;
        for k in 0..comps.len() {
            for j in (k + 1)..comps.len() {
                if comps[k].cov == comps[j].cov {
                    let diff = &comps[k].mean - &comps[j].mean;
                    let diff_rot = comps[k].eigvecs.tr_mul(&diff).iter().copied().collect();
                    pairs.push(Pair::Shared { k, diff_rot });
                } else {
                    distinct.get_or_insert((k, j));
                    pairs.push(Pair::Distinct { k, j });
                }
            }
        }
        let radius = match (distinct, domain) {
            (None, _) => None,
            (Some(_), Domain::Ball(r)) => Some(r.radius),
            (Some((k, j)), Domain::Global) => {
                return Err(BoundsError::GlobalHeterogeneous { k, j });
            }
        };
        Ok(Lipschitz {
            mix,
            domain,
            pairs,
            radius,
            mutation: None,
        })
    }

    /// Bounds on [`Domain::auto`].
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.05);
    /// assert_eq!(flowcert::bounds::Lipschitz::auto(&mix).region_radius(), None);
    /// ```
    pub fn auto(mix: &'a Mixture) -> Self {
        match Lipschitz::new(mix, Domain::auto(mix)) {
            Ok(l) => l,
            Err(_) => unreachable!("Domain::auto is global only for shared covariances"),
        }
    }

    /// These bounds with a deliberate error ([`Mutation`]): for tests that show a checker
    /// reports a violation.
    pub fn mutated(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// The mixture.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
    /// assert_eq!(flowcert::bounds::Lipschitz::auto(&mix).mixture().n_components(), 8);
    /// ```
    pub fn mixture(&self) -> &'a Mixture {
        self.mix
    }

    /// The domain asked for.
    ///
    /// ```
    /// use flowcert::bounds::{Domain, Lipschitz};
    /// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
    /// assert_eq!(Lipschitz::auto(&mix).domain(), Domain::Global);
    /// ```
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// `Some(R)` when the bounds hold only on `B_R` (some covariances differ), else `None`
    /// (a [`Domain::Ball`] on a shared-covariance mixture still gives a global bound).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::hetero3();
    /// assert!(flowcert::bounds::Lipschitz::auto(&mix).region_radius().unwrap() > 2.0);
    /// ```
    pub fn region_radius(&self) -> Option<f64> {
        self.radius
    }

    /// All bounds at time `t` (checked: a time of the mixture's path).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let lip = flowcert::bounds::Lipschitz::auto(&mix);
    /// assert!(lip.at(0.0).is_err());
    /// let b = lip.at(2.0).unwrap();
    /// assert!(b.one_sided <= b.bound);
    /// ```
    pub fn at(&self, t: f64) -> Result<LipschitzBounds, BoundsError> {
        self.mix.check_path_time("t", t)?;
        Ok(self.bounds_unchecked(t))
    }

    /// One kind at time `t` (not checked; used inside quadrature).
    ///
    /// ```
    /// use flowcert::bounds::{Bound, Lipschitz};
    /// let mix = flowcert::model::builtin::aniso8();
    /// let lip = Lipschitz::auto(&mix);
    /// assert_eq!(lip.value(Bound::TwoSided, 0.7), lip.at(0.7).unwrap().bound);
    /// ```
    pub fn value(&self, kind: Bound, t: f64) -> f64 {
        self.bounds_unchecked(t).get(kind)
    }

    /// `c(t)` (not checked): the bound on `h ||Cov_r[s_k]||` over the domain.
    ///
    /// ```
    /// // K = 1: no score spread.
    /// let mix = flowcert::model::MixtureSpec { weights: vec![1.0], means: vec![vec![3.0]],
    ///     covariances: vec![vec![vec![0.2]]] }.check().unwrap();
    /// assert_eq!(flowcert::bounds::Lipschitz::auto(&mix).spread(0.4), 0.0);
    /// ```
    pub fn spread(&self, t: f64) -> f64 {
        self.spread_parts(t).0
    }

    /// `c(t)`, the index of the pair attaining it (the first within [`TIE_REL`] of the
    /// maximum) and the sign of the extreme eigenvalue of `S_k^{-1} - S_j^{-1}` for it.
    /// `(c(t), the pair attaining it, the sign bits of that pair's non-smooth terms)`.
    fn spread_parts(&self, t: f64) -> (f64, usize, u64) {
        let c = self.mix.coeffs(t);
        let comps = self.mix.components();
        let dense: Vec<DMatrix<f64>> = if self.radius.is_some() {
            comps
                .iter()
                .map(|comp| comp.s_inverse(c.alpha2, c.sigma2))
                .collect()
        } else {
            Vec::new()
        };
        let deltas: Vec<(f64, u64)> = self
            .pairs
            .iter()
            .map(|pair| match pair {
                Pair::Shared { k, diff_rot } => {
                    let comp = &comps[*k];
                    let norm2: f64 = diff_rot
                        .iter()
                        .zip(&comp.eigvals)
                        .map(|(v, l)| {
                            let w = v / (c.alpha2 * l + c.sigma2);
                            w * w
                        })
                        .sum();
                    (c.alpha * norm2.sqrt(), 0b11)
                }
                Pair::Distinct { k, j } => {
                    let (ck, cj) = (&comps[*k], &comps[*j]);
                    // S_k^{-1} - S_j^{-1} = S_k^{-1} (S_j - S_k) S_j^{-1}
                    //                     = alpha^2 S_k^{-1} (Sigma_j - Sigma_k) S_j^{-1}:
                    // the difference of two matrices close to I (large t) without cancellation.
                    let gap_m = {
                        let m = &dense[*k] * (&cj.cov - &ck.cov) * &dense[*j] * c.alpha2;
                        (&m + m.transpose()) * 0.5
                    };
                    // S_k^{-1} m_k - S_j^{-1} m_j = alpha (S_k^{-1} (mu_k - mu_j)
                    //                              + (S_k^{-1} - S_j^{-1}) mu_j).
                    let mean_vec = &dense[*k] * (&ck.mean - &cj.mean) + &gap_m * &cj.mean;
                    let mean_term = mean_vec.norm() * c.alpha;
                    let (gap, positive) = spectral_norm_sym(gap_m);
                    // |v(t)| has a kink where v(t) passes through zero, which happens at
                    // isolated times only in d = 1 (in d >= 2 every component would have
                    // to vanish at once): there the sign of v labels the smooth piece too.
                    let mean_positive = mean_vec.len() != 1 || mean_vec[0] > 0.0;
                    (
                        gap * self.radius.unwrap_or(0.0) + mean_term,
                        u64::from(positive) | u64::from(mean_positive) << 1,
                    )
                }
            })
            .collect();
        let max = deltas.iter().fold(0.0f64, |a, d| a.max(d.0));
        let (pair, positive) = deltas
            .iter()
            .enumerate()
            .find(|(_, d)| d.0 >= max * (1.0 - TIE_REL))
            .map_or((0, 0b11), |(i, d)| (i, d.1));
        (c.h * (0.25 * max * max), pair, positive)
    }

    /// A label of the smooth piece of `kind` at time `t`: which pair attains `c`, and for
    /// the two-sided bound which branch of the maximum wins and the signs inside the
    /// absolute values. On an interval where the label is constant the bound is analytic
    /// in `t`; its kinks are where the label changes (used to place quadrature breaks).
    ///
    /// ```
    /// use flowcert::bounds::{Bound, IsotropicShared, Lipschitz};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let lip = Lipschitz::auto(&mix);
    /// assert_eq!(lip.piece(Bound::Paper, 0.1), lip.piece(Bound::Paper, 3.0)); // smooth
    /// let iso = IsotropicShared { sigma0_sq: 0.01, diameter: 1.0 };
    /// let ts = iso.switch_time().unwrap(); // the two-sided kink of a narrower mixture
    /// let mix = flowcert::model::MixtureSpec { weights: vec![0.5, 0.5],
    ///     means: vec![vec![0.0], vec![1.0]], covariances: vec![vec![vec![0.01]]; 2] }
    ///     .check().unwrap();
    /// let lip = Lipschitz::auto(&mix);
    /// assert_ne!(lip.piece(Bound::TwoSided, 0.9 * ts), lip.piece(Bound::TwoSided, 1.1 * ts));
    /// ```
    pub fn piece(&self, kind: Bound, t: f64) -> u64 {
        let (c, pair, signs) = self.spread_parts(t);
        let mut label = ((pair as u64) << 2) | signs;
        if kind == Bound::TwoSided {
            let b = self.bounds_with(t, c);
            let spread_wins = (b.a_lo - c).abs() > b.a_hi.abs();
            label = (label << 3)
                | (spread_wins as u64) << 2
                | ((b.a_hi > 0.0) as u64) << 1
                | (b.a_lo - c > 0.0) as u64;
        }
        label
    }

    fn bounds_unchecked(&self, t: f64) -> LipschitzBounds {
        self.bounds_with(t, self.spread(t))
    }

    fn bounds_with(&self, t: f64, c: f64) -> LipschitzBounds {
        let co = self.mix.coeffs(t);
        // Eigenvalues of S_k^{-1} are 1/s with s = alpha^2 lambda + sigma^2 in [s_lo, s_hi].
        // e = f + h/s decreases in s (h > 0), and s increases in lambda: the extremes come
        // from the extreme eigenvalues of Sigma_k. `rate` keeps e = (a lambda + b)/s (OU:
        // 1/s - 1 = alpha^2 (1 - lambda) / s) to full relative accuracy (no cancellation
        // once s is close to 1).
        let (mut l_min, mut l_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for comp in self.mix.components() {
            for &l in &comp.eigvals {
                l_min = l_min.min(l);
                l_max = l_max.max(l);
            }
        }
        let (mut a_lo, mut a_hi) = (co.rate(l_max), co.rate(l_min));
        let inv_max = 1.0 / co.s(l_min);
        let mut c = c;
        let mut co = co;
        match self.mutation {
            Some(Mutation::CancellingExcess) => {
                (a_lo, a_hi) = (co.h / co.s(l_max) + co.f, co.h * inv_max + co.f);
            }
            Some(Mutation::OuFactors) => {
                (a_lo, a_hi) = (1.0 / co.s(l_max) - 1.0, inv_max - 1.0);
                c /= co.h;
                (co.f, co.h) = (-1.0, 1.0);
            }
            _ => {}
        }
        let b = LipschitzBounds {
            t,
            a_lo,
            a_hi,
            c,
            // No cancellation decides the maximum: a_lo - c > 0 needs a_lo > 0, and then
            // a_hi >= a_lo > a_lo - c wins; c - a_lo cancels only where c < 2 a_lo <= 2 a_hi,
            // and then |a_hi| >= c - a_lo wins.
            bound: a_hi.abs().max((a_lo - c).abs()),
            bound_paper: co.f.abs() + co.h * inv_max + c,
            one_sided: c - a_lo,
            region_radius: self.radius,
        };
        match self.mutation {
            Some(Mutation::Scale(f)) => LipschitzBounds {
                bound: b.bound * f,
                bound_paper: b.bound_paper * f,
                one_sided: b.one_sided - (1.0 - f) * b.one_sided.abs(),
                ..b
            },
            _ => b,
        }
    }
}

/// Pairs whose `delta_kj` are within this relative distance of the maximum count as tied
/// in [`Lipschitz::piece`] (symmetric mixtures such as a ring tie exactly).
const TIE_REL: f64 = 1e-12;

/// `||M||_2` of a symmetric matrix (the largest absolute eigenvalue) and whether that
/// eigenvalue is positive.
fn spectral_norm_sym(m: DMatrix<f64>) -> (f64, bool) {
    m.symmetric_eigenvalues()
        .iter()
        .fold((0.0f64, true), |a, &v| {
            if v.abs() > a.0 { (v.abs(), v > 0.0) } else { a }
        })
}
