//! The independent variable the PF-ODE is integrated in: the time `t`, or the log-SNR
//! `lambda = ln(alpha_t^2 / sigma_t^2)` (theory/07-gaussian-paths.md).
//!
//! Both give the same flow map `Phi_{t0 -> t1}`: along a trajectory `x(t)`, the curve
//! `y(lambda) = x(t(lambda))` solves
//!
//! ```text
//! dy/d lambda = v(y, t(lambda)) dt/d lambda,   dt/d lambda = -sigma_t^2 / (2 h_t)
//! ```
//!
//! ([`PathCoeffs::dt_dlog_snr`](crate::model::process::PathCoeffs::dt_dlog_snr); OU:
//! `-sigma_t^2 / 2`) from `lambda(t0)` to `lambda(t1)`, and the variational equation
//! scales the same way. Only the solver's path differs. In `t`, the OU field near the data
//! end changes on the scale of `s_min(t) = alpha_t^2 l_min + sigma_t^2` (for
//! `two-mode-s0.1` at `t = 0.01`: 0.015 in `t`, against ~1 at `t = 2.5`), so an adaptive
//! solver crowds its steps there; in `lambda` the scale is of order 1 along the whole
//! path, and for OU the coefficients cost one exponential instead of three. At equal
//! tolerance DOP853 then takes fewer steps for a smaller error (2,000 samples of
//! `two-mode-s0.1`, `T = 2.5 -> 0.01`, `1e-10`: 27.4 steps per trajectory instead of 30.0,
//! max error 2.3e-10 instead of 8.8e-10 against a 1e-14 reference).
//!
//! One weakness is sharper in `lambda` than in `t`: DOP853's stretched error estimate
//! (`solver.rs`) squares the 8th-minus-5th-order difference, which changes sign as a
//! function of the step size; a step whose difference happens to be near its zero is
//! accepted however large its true error. On 100,000 samples at `1e-10` this hits a few
//! trajectories that commit to a mode late (start `x_0` near 0, yet `||DPhi|| ~ 0.5`, so
//! not the separatrix's amplification): one step of `Delta lambda = 0.95` across the
//! switch of the responsibilities is accepted with an estimate of 0.19 against a true
//! local error of `2.8e-6` (1.5e4 in tolerance units), and the trajectory ends `8.6e-7`
//! off (median over all: `1.3e-11`; diffrax's 7th-order estimate: max `1.2e-9`, and
//! `1.5e-12` on that trajectory). The `t` clock has the same weakness, less often: max
//! `1.2e-8` at a point `1e-5` from the separatrix, but also `6.4e-9` at `x_0 = -1.08`.
//! Capping the step growth (`f_max` 2-4) or the step (`Delta lambda <= 0.25-0.75`) moves
//! the lottery rather than ending it (e.g. `1.1e-7` at `Delta lambda <= 0.35`, `3e-11`);
//! at `1e-11` and `5e-12` the worst trajectories on these samples are the separatrix
//! points (`7.1e-10`, `2.7e-10`). A reliable fix needs another estimate (e.g. the
//! 7th-order embedded solution of Prince & Dormand's 8(7) pair, diffrax's `Dopri8`).
//!
//! The default stays [`Clock::Time`]: every pinned output of the checkers and experiments
//! was computed in `t`, and a result computed in `lambda` differs from it within the
//! solver's tolerance, not bitwise.

use serde::{Deserialize, Serialize};

use super::lanes::OdeLanes;
use crate::model::MarginalLanes;

/// The variable an [`ExactFlow`](super::ExactFlow) integrates the PF-ODE in.
///
/// ```
/// use flowcert::dynamics::{Clock, ExactFlow, Teacher};
/// let mix = flowcert::model::builtin::two_mode(0.1);
/// let x = [0.4, -0.2];
/// let a = ExactFlow::new(&mix, Teacher::PRECISE).map(&x, 2.5, 0.01).unwrap().y;
/// let b = ExactFlow::new(&mix, Teacher::PRECISE).with_clock(Clock::LogSnr).map(&x, 2.5, 0.01).unwrap().y;
/// assert!((a - b).norm() < 1e-8);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clock {
    /// The path's time `t` (the default; every pinned output uses it).
    #[default]
    Time,
    /// The log-SNR `lambda(t) = ln(alpha_t^2 / sigma_t^2)`: closed forms for OU (one
    /// exponential per evaluation); on other paths each evaluation inverts `lambda(t)` by
    /// bisection, which is slow.
    LogSnr,
}

/// The PF-ODE of a mixture in lanes with the log-SNR as its clock: the lane times passed
/// by [`integrate_lanes`](super::integrate_lanes) are log-SNRs
/// ([`MarginalLanes::velocities_log_snr`]).
pub struct LogSnrLanes<'a>(pub MarginalLanes<'a>);

impl OdeLanes for LogSnrLanes<'_> {
    fn dim(&self) -> usize {
        self.0.mixture().dim()
    }

    fn lanes(&self) -> usize {
        self.0.lanes()
    }

    #[inline]
    fn rhs_lanes(&mut self, _active: &[usize], log_snr: &[f64], y: &[f64], dy: &mut [f64]) {
        self.0.velocities_log_snr(log_snr, y, dy);
    }
}
