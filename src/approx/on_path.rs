//! The score network on any Gaussian path: the OU network of [`ScoreNetwork`] composed
//! with the clock and the scaling of theory/07-gaussian-paths.md (Theorem 6, "Score
//! approximation").
//!
//! For a path `P` with noise ratio `r_P = sigma_P/alpha_P`, the matched OU time and the
//! scaling are
//!
//! ```text
//! tau(t) = r_OU^{-1}(r_P(t)) = (1/2) ln(1 + r_P(t)^2)        (Process::matched_time)
//! k(t)   = alpha_P(t) / alpha_OU(tau(t)) = alpha_P(t) e^{tau(t)} = sqrt(alpha_P^2 + sigma_P^2)
//! ```
//!
//! and `p^P_t` is `p^OU_{tau(t)}` pushed forward by `x -> k(t) x`, so
//! `s_P(x, t) = s_OU(x / k(t), tau(t)) / k(t)` (theory/07, "Score approximation", Corollary
//! 6a). The network for `P` on `[t_min, T]` is therefore the OU network on
//! `[tau(t_min), tau(T)]` read at `(x / k(t), tau(t))`, its output divided by `k(t)`: the
//! same layers (same depth, width and parameters), and, with `y = x/k ~ p^OU_tau`,
//!
//! ```text
//! ||s_theta^P(., t) - s_P(., t)||_{L^p(p^P_t)} = ||s_theta^OU(., tau) - s_OU(., tau)||_{L^p(p^OU_tau)} / k(t)
//!                                               <= eps / k(t).
//! ```
//!
//! On the variance-preserving paths `k = 1` (only the clock changes), on `edm`
//! `k = sqrt(1 + t^2) >= 1` and on `rectified` `k = sqrt((1-t)^2 + t^2) in [1/sqrt 2, 1]`,
//! where the transferred bound is up to `sqrt 2` times eps. On OU `tau(t) = t` and
//! `k = 1` exactly, and the wrapper evaluates the OU network directly (bit for bit).

use nalgebra::DMatrix;

use super::budget::{ScoreNetConfig, ScoreNetParams};
use super::construct::ScoreNetwork;
use super::error::ApproxError;
use crate::model::process::Process;
use crate::model::{Mixture, ScoreField};

/// Deliberately wrong transfers, kept so that the tests show the checker on a path can
/// fail: never use them for a real network.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathMutation {
    /// The output is not divided by `k(t)` (`s_OU(x/k, tau)` instead of `s_OU(x/k, tau)/k`).
    NoOutputScale,
    /// The OU network is read at the path's time `t` instead of the matched time `tau(t)`.
    PathTime,
}

/// The constructive score network of a mixture on any path (module doc).
#[derive(Debug, Clone)]
pub struct PathScoreNetwork {
    ou_net: ScoreNetwork,
    process: Process,
    ou: Process,
    t_min: f64,
    t_max: f64,
    mutation: Option<PathMutation>,
}

impl PathScoreNetwork {
    /// Build the network for `mix` (on its own path) with `cfg`'s eps and *path* times
    /// `[t_min, T]`: the OU network for the same mixture on `[tau(t_min), tau(T)]`.
    ///
    /// Errors: the times outside the path's domain ([`ApproxError::Model`], naming the
    /// range), a matched OU interval the construction refuses, or any error of
    /// [`ScoreNetwork::build`].
    ///
    /// ```
    /// use flowcert::approx::{PathScoreNetwork, ScoreNetConfig};
    /// use flowcert::model::{builtin, process::ProcessSpec, ScoreField};
    /// let edm = ProcessSpec::named("edm").check().unwrap();
    /// let mix = builtin::two_mode(0.3).with_process(edm);
    /// let net = PathScoreNetwork::build(&mix, &ScoreNetConfig::new(1e-2)).unwrap();
    /// // tau(1) = ln(2)/2 on EDM (sigma/alpha = 1), k(1) = sqrt(2).
    /// assert!((net.clock(1.0) - 0.5 * 2f64.ln()).abs() < 1e-15);
    /// assert!((net.scale(1.0) - 2f64.sqrt()).abs() < 1e-15);
    /// assert!((net.bound(1.0) - 1e-2 / 2f64.sqrt()).abs() < 1e-17);
    /// let (mut s, mut exact) = ([0.0; 2], [0.0; 2]);
    /// net.score_into(&[0.4, -0.2], 0.5, &mut s);
    /// mix.score_into(&[0.4, -0.2], 0.5, &mut exact);
    /// assert!((s[0] - exact[0]).abs() < 1e-2 && (s[1] - exact[1]).abs() < 1e-2);
    /// ```
    pub fn build(mix: &Mixture, cfg: &ScoreNetConfig) -> Result<Self, ApproxError> {
        Self::build_mutated(mix, cfg, None)
    }

    /// [`PathScoreNetwork::build`] with a deliberately wrong transfer ([`PathMutation`];
    /// `None` is the real one), for the tests that show the checker can fail.
    #[doc(hidden)]
    pub fn build_mutated(
        mix: &Mixture,
        cfg: &ScoreNetConfig,
        mutation: Option<PathMutation>,
    ) -> Result<Self, ApproxError> {
        // eps and the order of the path times first (the construction's own messages).
        let path_params = cfg.check()?;
        let process = mix.process().clone();
        let ou = Process::default();
        if process.is_ou() {
            let ou_net = ScoreNetwork::build(mix, &path_params)?;
            return Ok(PathScoreNetwork {
                ou_net,
                process,
                ou,
                t_min: cfg.t_min,
                t_max: cfg.t_max,
                mutation,
            });
        }
        let t_min = process.check_time("t_min", cfg.t_min)?;
        let t_max = process.check_time("t_max", cfg.t_max)?;
        let ou_cfg = ScoreNetConfig {
            eps: cfg.eps,
            t_min: ou.matched_time(&process, t_min),
            t_max: ou.matched_time(&process, t_max),
        };
        let ou_params = ou_cfg.check()?;
        let ou_net = ScoreNetwork::build(&mix.clone().with_process(ou.clone()), &ou_params)?;
        Ok(PathScoreNetwork {
            ou_net,
            process,
            ou,
            t_min,
            t_max,
            mutation,
        })
    }

    /// The OU network inside (its sizes are this network's sizes).
    pub fn ou_network(&self) -> &ScoreNetwork {
        &self.ou_net
    }

    /// The path the network serves.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// `t_min` on the path.
    pub fn t_min(&self) -> f64 {
        self.t_min
    }

    /// `T` on the path.
    pub fn t_max(&self) -> f64 {
        self.t_max
    }

    /// The target accuracy of the OU network.
    pub fn eps(&self) -> f64 {
        self.ou_net.params().eps()
    }

    /// The validated settings of the OU network (OU times `[tau(t_min), tau(T)]`).
    pub fn ou_params(&self) -> &ScoreNetParams {
        self.ou_net.params()
    }

    /// The clock `tau(t)`: the OU time with the noise ratio the path has at `t`
    /// (`t` itself on OU).
    pub fn clock(&self, t: f64) -> f64 {
        self.ou.matched_time(&self.process, t)
    }

    /// The scaling `k(t) = alpha_P(t) / alpha_OU(tau(t))` (exactly 1 on OU and on the
    /// variance-preserving paths up to rounding).
    pub fn scale(&self, t: f64) -> f64 {
        if self.process.is_ou() {
            return 1.0;
        }
        self.process.coeffs(t).alpha / self.ou.coeffs(self.clock(t)).alpha
    }

    /// The transferred bound on `||s_theta(., t) - s(., t)||_{L^p(p_t)}`, p = 1, 2:
    /// `eps / k(t)` (module doc).
    pub fn bound(&self, t: f64) -> f64 {
        self.eps() / self.scale(t)
    }
}

impl ScoreField for PathScoreNetwork {
    fn dim(&self) -> usize {
        self.ou_net.dim()
    }

    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        if self.process.is_ou() {
            return self.ou_net.score_into(x, t, out);
        }
        let xs = DMatrix::from_column_slice(x.len(), 1, x);
        out.copy_from_slice(self.score_batch(&xs, t).as_slice());
    }

    fn score_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        if self.process.is_ou() {
            return self.ou_net.score_batch(xs, t);
        }
        let k = self.scale(t);
        let tau = match self.mutation {
            Some(PathMutation::PathTime) => t,
            _ => self.clock(t),
        };
        let s = self.ou_net.score_batch(&(xs / k), tau);
        match self.mutation {
            Some(PathMutation::NoOutputScale) => s,
            _ => s / k,
        }
    }
}
