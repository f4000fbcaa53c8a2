//! Checker for the composition theorem (theory/04-composition-and-grids.md).
//!
//! ```text
//! |Psi(x) - Phi_{T->t_min}(x)| <= sum_i eps_i Lip(Phi_{t_{i-1} -> t_min})
//!                              <= sum_i eps_i exp(Lambda(t_{i-1}))
//! ```
//! for `Psi = Psi_1 o ... o Psi_N` and `sup |Psi_i - Phi_i| <= eps_i`, where `Psi_i` maps
//! `t_i` to `t_{i-1}`. [`measure_composition`] takes any students ([`FlowMap`]s: trained
//! networks, a user's own maps) with their claimed sup errors, rolls them out from given
//! start points, and compares the end-to-end error with the bound and with a first-order
//! estimate `sum_i eps_i ||DPhi_{t_{i-1}->t_min}(z_{i-1})||` from the variational equation
//! along the students' own states. It also reports the largest local error
//! `|Psi_i(z) - Phi_i(z)|` seen on those states: above `eps_i`, the claimed sup error (the
//! premise of the theorem) is wrong.
//!
//! [`measure_perturbed`] is the self-contained check: students with a *known* sup error,
//! `Psi_i(x) = Phi_i(x) + eps_i g_i(x)` with the smooth perturbation
//! `g_i(x) = u_i sin(w_i . x + phase_i)`, `|u_i| = 1`, so `sup |g_i| = 1`
//! ([`PerturbedStudent`]), started from samples of `p_T`.
//!
//! **What is rigorous.** `bound` is a proven bound on every compared point's error when
//! `lambda` integrates a *global* Lipschitz bound (shared covariances) and the `eps_i` are
//! true sup errors (known for [`measure_perturbed`]; claimed, and checked on the visited
//! states, for [`measure_composition`]). With a bound local to a ball the report says
//! `bound_rigorous: false`: only the states at the grid times are tested against the ball.
//! `max_error` is the largest error over the test points, a lower estimate of the sup.

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::dynamics::{ExactFlow, FlowError, FlowSegment};
use crate::flowmap::{FlowMap, MapError};
use crate::seed;
use crate::tolerance;

/// What is wrong with a composition check, or what failed while running it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CompositionError {
    /// Inputs of inconsistent lengths or dimensions.
    #[error("{what}: {problem}")]
    Shape {
        /// Which input.
        what: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A student returned a point with a NaN or infinite coordinate.
    #[error("student {segment} (t_{segment} -> t_{prev}) returned a non-finite point from a finite one: a NaN or inf is an error, not an error size", prev = segment - 1)]
    NonFinite {
        /// The segment `i` of the student.
        segment: usize,
    },
    /// The exact flow failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// A student could not be evaluated.
    #[error(transparent)]
    Map(#[from] MapError),
}

/// A smooth perturbation `g(x) = u sin(w . x + phase)` with `|u| = 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Perturbation {
    /// Unit direction `u`.
    pub direction: DVector<f64>,
    /// Frequency vector `w`.
    pub frequency: DVector<f64>,
    /// Phase.
    pub phase: f64,
}

impl Perturbation {
    /// A random perturbation with `|w| = freq`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    /// let g = flowcert::theorems::composition::Perturbation::random(3, 2.0, &mut rng);
    /// assert!((g.direction.norm() - 1.0).abs() < 1e-12);
    /// assert!(g.eval(&[0.1, 0.2, 0.3]).norm() <= 1.0);
    /// ```
    pub fn random(d: usize, freq: f64, rng: &mut ChaCha8Rng) -> Self {
        let mut unit = || {
            let v = DVector::<f64>::from_fn(d, |_, _| rng.sample(StandardNormal));
            let n = v.norm();
            if n > 0.0 {
                v / n
            } else {
                DVector::from_element(d, 1.0 / (d as f64).sqrt())
            }
        };
        let direction = unit();
        let frequency = unit() * freq;
        let phase = rng.random::<f64>() * std::f64::consts::TAU;
        Perturbation {
            direction,
            frequency,
            phase,
        }
    }

    /// `g(x)`.
    pub fn eval(&self, x: &[f64]) -> DVector<f64> {
        let arg: f64 = self
            .frequency
            .iter()
            .zip(x)
            .map(|(w, v)| w * v)
            .sum::<f64>()
            + self.phase;
        &self.direction * arg.sin()
    }
}

/// Deliberately wrong versions of the checker, kept so that the tests show it can fail
/// (theory/04-composition-and-grids.md, "How we know the tests can fail"): never use them
/// for a real check.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// The amplification with the wrong sign: `sum eps_i exp(-Lambda(t_{i-1}))`, as if the
    /// late flow contracted what it expands.
    NegatedExponent,
}

/// What the composition checker measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositionReport {
    /// Grid times.
    pub times: Vec<f64>,
    /// Per-segment sup errors `eps_i` claimed for the students.
    pub eps: Vec<f64>,
    /// `Lambda(t_i) - Lambda(t_min)` at the grid times.
    pub lambda: Vec<f64>,
    /// The bound `sum eps_i exp(Lambda(t_{i-1}))`.
    pub bound: f64,
    /// Largest measured end-to-end error over the test points.
    pub max_error: f64,
    /// Largest first-order estimate `sum eps_i ||DPhi_{t_{i-1}->t_min}||` over the test points.
    pub max_first_order: f64,
    /// Largest ratio measured / first-order estimate (about 1 for small eps).
    pub max_ratio_to_first_order: f64,
    /// Per segment, the largest `|Psi_i(z) - Phi_i(z)|` over the states the students
    /// visited (at most `eps_i` when the claimed sup errors are right).
    pub local_max: Vec<f64>,
    /// Segments whose measured local error exceeds the claimed `eps_i`: the premise of the
    /// theorem fails there (0 for students with a known sup error).
    pub premise_violations: usize,
    /// Test points.
    pub points: usize,
    /// Test points whose student states left the region where the bound holds.
    pub left_region: usize,
    /// Points (inside the region) whose error exceeded the bound.
    pub violations: usize,
    /// Whether the bound is covered by the proof for the compared points: true for a
    /// `Lambda` of a global Lipschitz bound (`region_radius` `None`). With a bound local to
    /// `B_R` the proof needs the flow paths from the exact and the student's states (and the
    /// segment between them) to stay in `B_R`; the checker tests only the states at the grid
    /// times, so such rows are a comparison, not a check of the theorem.
    pub bound_rigorous: bool,
}

/// How the perturbed-student check probes: `points` starts `x ~ p_T`, perturbations of
/// frequency `freq`, all draws from `seed` ([`crate::seed::COMPOSITION`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Number of start points.
    pub points: usize,
    /// `|w_i|` of the perturbations.
    pub freq: f64,
    /// Seed of every draw.
    pub seed: u64,
}

/// A student with a known sup error: `Psi(x) = Phi_{t_i -> t_{i-1}}(x) + eps g(x)`,
/// `sup |g| = 1` ([`Perturbation`]).
#[derive(Debug, Clone)]
pub struct PerturbedStudent<'a> {
    /// The exact flow map of the segment.
    pub segment: FlowSegment<'a>,
    /// `g`.
    pub perturbation: Perturbation,
    /// `eps`, the sup error.
    pub eps: f64,
}

impl FlowMap for PerturbedStudent<'_> {
    fn dim_in(&self) -> usize {
        self.segment.dim_in()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        Ok(self.segment.map_point(x)? + self.perturbation.eval(x) * self.eps)
    }
}

/// Students `Phi_i + eps_i g_i` of every segment of `times` (segment `i` maps `t_i` to
/// `t_{i-1}`; `eps[i - 1]` is its sup error), perturbations of frequency `freq` drawn from
/// `rng` in segment order.
///
/// ```
/// use flowcert::{dynamics::Teacher, flowmap::FlowMap, seed, theorems::composition::perturbed_students};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let flow = Teacher::PRECISE.flow(&mix);
/// let s = perturbed_students(&flow, &[0.1, 0.5, 1.0], &[1e-3, 1e-3], 2.0, &mut seed::rng(seed::COMPOSITION, 0, &[]));
/// let exact = flow.segment(1.0, 0.5).map_point(&[0.2, 0.1]).unwrap();
/// assert!((s[1].map_point(&[0.2, 0.1]).unwrap() - exact).norm() <= 1e-3);
/// ```
pub fn perturbed_students<'a>(
    flow: &ExactFlow<'a>,
    times: &[f64],
    eps: &[f64],
    freq: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<PerturbedStudent<'a>> {
    let d = flow.mixture().dim();
    (1..times.len())
        .map(|i| PerturbedStudent {
            segment: flow.segment(times[i], times[i - 1]),
            perturbation: Perturbation::random(d, freq, rng),
            eps: eps.get(i - 1).copied().unwrap_or(0.0),
        })
        .collect()
}

/// The self-contained check: [`perturbed_students`] with sup errors `eps`, rolled out from
/// `probe.points` samples of `p_T` (perturbations first, then the samples, from one
/// [`crate::seed::COMPOSITION`] stream of `probe.seed`). `lambda[i]` is `Lambda(t_i)` of a
/// bound valid on the ball of radius `region_radius` (`None`: valid on all of `R^d`).
///
/// ```
/// use flowcert::{dynamics::Teacher, grids::{GridKind, lambda_at}};
/// use flowcert::theorems::composition::{Probe, measure_perturbed};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let times = GridKind::Balanced.times(&mix, 0.05, 2.0, 2).unwrap();
/// let lambda = lambda_at(&mix, &times).unwrap();
/// let flow = Teacher::PRECISE.flow(&mix);
/// let probe = Probe { points: 4, freq: 2.0, seed: 0 };
/// let r = measure_perturbed(&flow, &times, &lambda, &[1e-3, 1e-3], None, probe).unwrap();
/// assert_eq!((r.violations, r.premise_violations), (0, 0));
/// assert!(r.max_error <= r.bound);
/// ```
pub fn measure_perturbed(
    flow: &ExactFlow,
    times: &[f64],
    lambda: &[f64],
    eps: &[f64],
    region_radius: Option<f64>,
    probe: Probe,
) -> Result<CompositionReport, CompositionError> {
    measure_perturbed_mutated(flow, times, lambda, eps, region_radius, probe, None)
}

/// [`measure_perturbed`] with a deliberately wrong bound ([`Mutation`]; `None` is the real
/// checker): for the tests that show the checker can fail.
#[doc(hidden)]
pub fn measure_perturbed_mutated(
    flow: &ExactFlow,
    times: &[f64],
    lambda: &[f64],
    eps: &[f64],
    region_radius: Option<f64>,
    probe: Probe,
    mutation: Option<Mutation>,
) -> Result<CompositionReport, CompositionError> {
    check_shapes(times, lambda, eps.len(), eps)?;
    let Probe { points, freq, seed } = probe;
    let mut rng = seed::rng(seed::COMPOSITION, seed, &[]);
    let students = perturbed_students(flow, times, eps, freq, &mut rng);
    let starts = flow
        .mixture()
        .sample(times[times.len() - 1], points, &mut rng);
    measure_composition_mutated(
        flow,
        times,
        lambda,
        &students,
        eps,
        region_radius,
        &starts,
        mutation,
    )
}

fn check_shapes(
    times: &[f64],
    lambda: &[f64],
    students: usize,
    eps: &[f64],
) -> Result<(), CompositionError> {
    let shape = |what, problem: String| Err(CompositionError::Shape { what, problem });
    let n = times.len().saturating_sub(1);
    if n == 0 || !times.windows(2).all(|w| w[0] < w[1]) {
        return shape(
            "times",
            format!(
                "{times:?} is not an increasing grid of at least two times: give t_0 = t_min < ... < t_N = T"
            ),
        );
    }
    if lambda.len() != times.len() {
        return shape(
            "lambda",
            format!(
                "has {} values for {} grid times: give Lambda(t_i) at every time (grids::lambda_at)",
                lambda.len(),
                times.len()
            ),
        );
    }
    if students != n || eps.len() != n {
        return shape(
            "students",
            format!(
                "{students} students and {} sup errors for {n} segments: give one of each per segment",
                eps.len()
            ),
        );
    }
    if !eps.iter().all(|e| e.is_finite() && *e >= 0.0) {
        return shape(
            "eps",
            format!("{eps:?}: sup errors must be finite and >= 0"),
        );
    }
    Ok(())
}

/// Roll the students `students[i - 1] = Psi_i` (mapping `t_i` to `t_{i-1}`, claimed sup
/// error `eps[i - 1]`) out from the columns of `starts` (points at `T = t_N`) and compare the
/// end-to-end error with the bound (module docs). `lambda[i]` is `Lambda(t_i)` of a bound
/// valid on the ball of radius `region_radius` (`None`: all of `R^d`); points whose states
/// leave the ball are counted in `left_region` and not compared.
///
/// ```
/// use flowcert::{dynamics::Teacher, flowmap::{FlowMap, FnMap}, grids::lambda_at};
/// use flowcert::theorems::composition::measure_composition;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let flow = Teacher::PRECISE.flow(&mix);
/// let times = [0.05, 0.5, 2.0];
/// let lambda = lambda_at(&mix, &times).unwrap();
/// // A user's students: the exact map of each segment, shifted by 1e-3 along e_1.
/// let students: Vec<_> = (1..times.len())
///     .map(|i| {
///         let seg = flow.segment(times[i], times[i - 1]);
///         FnMap::new(2, move |x: &[f64]| {
///             let mut y = seg.map_point(x).unwrap();
///             y[0] += 1e-3;
///             y.as_slice().to_vec()
///         })
///     })
///     .collect();
/// let starts = mix.sample(2.0, 4, &mut flowcert::seed::rng(flowcert::seed::COMPOSITION, 1, &[]));
/// let r = measure_composition(&flow, &times, &lambda, &students, &[1e-3, 1e-3], None, &starts).unwrap();
/// assert_eq!((r.violations, r.premise_violations), (0, 0));
/// assert!((r.local_max[0] - 1e-3).abs() < 1e-9);
/// ```
pub fn measure_composition<S: FlowMap>(
    flow: &ExactFlow,
    times: &[f64],
    lambda: &[f64],
    students: &[S],
    eps: &[f64],
    region_radius: Option<f64>,
    starts: &DMatrix<f64>,
) -> Result<CompositionReport, CompositionError> {
    measure_composition_mutated(
        flow,
        times,
        lambda,
        students,
        eps,
        region_radius,
        starts,
        None,
    )
}

/// [`measure_composition`] with a deliberately wrong bound ([`Mutation`]; `None` is the
/// real checker): for the tests that show the checker can fail.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn measure_composition_mutated<S: FlowMap>(
    flow: &ExactFlow,
    times: &[f64],
    lambda: &[f64],
    students: &[S],
    eps: &[f64],
    region_radius: Option<f64>,
    starts: &DMatrix<f64>,
    mutation: Option<Mutation>,
) -> Result<CompositionReport, CompositionError> {
    check_shapes(times, lambda, students.len(), eps)?;
    let d = flow.mixture().dim();
    if starts.nrows() != d {
        return Err(CompositionError::Shape {
            what: "starts",
            problem: format!(
                "points of dimension {} for a mixture in R^{d}: give one start point per column",
                starts.nrows()
            ),
        });
    }
    let n = times.len() - 1;
    let lam0 = lambda[0];
    let sign = match mutation {
        Some(Mutation::NegatedExponent) => -1.0,
        None => 1.0,
    };
    let bound: f64 = (1..=n)
        .map(|i| eps[i - 1] * (sign * (lambda[i - 1] - lam0)).exp())
        .sum();
    let (mut max_error, mut max_first, mut max_ratio) = (0.0f64, 0.0f64, 0.0f64);
    let (mut left, mut violations) = (0usize, 0usize);
    let mut local_max = vec![0.0f64; n];
    let t_min = times[0];
    for x in starts.column_iter() {
        let x: Vec<f64> = x.iter().copied().collect();
        let exact = flow.map(&x, times[n], t_min)?.y;
        let mut z = DVector::from_vec(x);
        let mut inside = region_radius.is_none_or(|r| z.norm() <= r);
        let mut first = 0.0;
        for i in (1..=n).rev() {
            let phi = flow.map(z.as_slice(), times[i], times[i - 1])?.y;
            z = students[i - 1].map_point(z.as_slice())?;
            if !z.iter().all(|v| v.is_finite()) {
                return Err(CompositionError::NonFinite { segment: i });
            }
            local_max[i - 1] = local_max[i - 1].max((&z - &phi).norm());
            inside &= region_radius.is_none_or(|r| z.norm() <= r && phi.norm() <= r);
            let lip = if i > 1 {
                flow.map_with_jacobian(z.as_slice(), times[i - 1], t_min)?
                    .jacobian_norm()
                    .unwrap_or(1.0)
            } else {
                1.0
            };
            first += eps[i - 1] * lip;
        }
        let err = (&z - &exact).norm();
        max_error = max_error.max(err);
        max_first = max_first.max(first);
        if first > 0.0 {
            max_ratio = max_ratio.max(err / first);
        }
        if !inside {
            left += 1;
        } else if err > bound * (1.0 + tolerance::BOUND_SLACK_REL) + tolerance::EXACT {
            violations += 1;
        }
    }
    let premise_violations = local_max
        .iter()
        .zip(eps)
        .filter(|(m, e)| **m > **e * (1.0 + tolerance::BOUND_SLACK_REL) + tolerance::EXACT)
        .count();
    Ok(CompositionReport {
        times: times.to_vec(),
        eps: eps.to_vec(),
        lambda: lambda.iter().map(|l| l - lam0).collect(),
        bound,
        max_error,
        max_first_order: max_first,
        max_ratio_to_first_order: max_ratio,
        local_max,
        premise_violations,
        points: starts.ncols(),
        left_region: left,
        violations,
        bound_rigorous: region_radius.is_none(),
    })
}
