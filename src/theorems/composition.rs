//! Checker for the composition theorem (theory/04-composition-and-grids.md, brief section 4).
//!
//! ```text
//! |Psi(x) - Phi_{T->t_min}(x)| <= sum_i eps_i Lip(Phi_{t_{i-1} -> t_min})
//!                              <= sum_i eps_i exp(Lambda(t_{i-1}))
//! ```
//! for `Psi = Psi_1 o ... o Psi_N` and `sup |Psi_i - Phi_i| <= eps_i`. The checker builds
//! students with a *known* sup error: `Psi_i(x) = Phi_i(x) + eps_i g_i(x)` with the smooth
//! perturbation `g_i(x) = u_i sin(w_i . x + phase_i)`, `|u_i| = 1`, so `sup |g_i| = 1`.
//! It measures the end-to-end error on sample paths and compares it with the bound, and
//! with a first-order estimate `sum_i eps_i ||DPhi_{t_{i-1}->t_min}(z_{i-1})||` from the
//! variational equation along the student's own states.

use nalgebra::DVector;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::dynamics::{ExactFlow, FlowError};
use crate::model::Mixture;
use crate::seed;
use crate::tolerance;

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

/// What the composition checker measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositionReport {
    /// Grid times.
    pub times: Vec<f64>,
    /// Per-segment sup errors `eps_i` of the perturbed students.
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
    /// Test points.
    pub points: usize,
    /// Test points whose student states left the region where the bound holds.
    pub left_region: usize,
    /// Points (inside the region) whose error exceeded the bound.
    pub violations: usize,
}

/// How the composition checker probes: `points` starts `x ~ p_T`, perturbations of
/// frequency `freq`, all draws from `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Number of start points.
    pub points: usize,
    /// `|w_i|` of the perturbations.
    pub freq: f64,
    /// Seed of every draw.
    pub seed: u64,
}

/// Run the checker with students `Phi_i + eps_i g_i` probed as `probe` says.
/// `lambda[i]` is `Lambda(t_i)` of a bound valid on the ball of radius `region_radius`
/// (`None`: valid on all of `R^d`).
pub fn measure_composition(
    mix: &Mixture,
    flow: &ExactFlow,
    times: &[f64],
    lambda: &[f64],
    eps: &[f64],
    region_radius: Option<f64>,
    probe: Probe,
) -> Result<CompositionReport, FlowError> {
    let Probe { points, freq, seed } = probe;
    let n = times.len() - 1;
    let d = mix.dim();
    let mut rng = seed::rng(seed::COMPOSITION, seed, &[]);
    let perts: Vec<Perturbation> = (0..n)
        .map(|_| Perturbation::random(d, freq, &mut rng))
        .collect();
    let xs = mix.sample(times[n], points, &mut rng);
    let lam0 = lambda[0];
    let bound: f64 = (1..=n)
        .map(|i| eps[i - 1] * (lambda[i - 1] - lam0).exp())
        .sum();
    let (mut max_error, mut max_first, mut max_ratio) = (0.0f64, 0.0f64, 0.0f64);
    let (mut left, mut violations) = (0usize, 0usize);
    let t_min = times[0];
    for x in xs.column_iter() {
        let x: Vec<f64> = x.iter().copied().collect();
        let exact = flow.map(&x, times[n], t_min)?.y;
        let mut z = DVector::from_vec(x);
        let mut inside = region_radius.is_none_or(|r| z.norm() <= r);
        let mut first = 0.0;
        for i in (1..=n).rev() {
            let phi = flow.map(z.as_slice(), times[i], times[i - 1])?.y;
            z = &phi + perts[i - 1].eval(z.as_slice()) * eps[i - 1];
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
    Ok(CompositionReport {
        times: times.to_vec(),
        eps: eps.to_vec(),
        lambda: lambda.iter().map(|l| l - lam0).collect(),
        bound,
        max_error,
        max_first_order: max_first,
        max_ratio_to_first_order: max_ratio,
        points,
        left_region: left,
        violations,
    })
}
