//! The trained comparison (theory/06-score-approximation.md): a standard MLP score network with about the
//! same number of parameters as the constructive one, trained by denoising score matching
//! (DSM), and its `L^2(p_t)` error across `t` next to the construction's.
//!
//! ```text
//! x_0 ~ p_0,  z ~ N(0, I),  t ~ log-uniform[t_min, T],  x_t = alpha_t x_0 + sigma_t z
//! loss = E | eps_theta(x_t, t) - z |^2          (noise prediction, uniform weight)
//! s_theta(x, t) = -eps_theta(x, t) / sigma_t     (the DSM minimiser is the exact score)
//! eps_theta = MLP(x, tau(t)),  tau(t) = (2 ln t - ln t_min - ln T) / (ln T - ln t_min),  SiLU hidden
//! ```
//! The network is the crate's student [`crate::nn::Mlp`] and it is fitted by
//! [`crate::nn::train()`] (Adam, `beta = (0.9, 0.999)`, cosine decay to 10% of the learning
//! rate): the noise-prediction loss is exactly the mean squared error of the pairs
//! `((x_t, tau(t)), z)`. The pairs are drawn once, `min(steps * batch, DSM_MAX_PAIRS)` of
//! them; `train` walks them in shuffled minibatches without replacement, so when
//! `steps * batch <= DSM_MAX_PAIRS` every step sees fresh noise (one pass, as in DSM with
//! an unlimited stream) and above the cap it makes several passes over a fixed draw.
//!
//! The construction's error is uniform in `t` by design; the trained network's error is
//! not: dividing by `sigma_t` amplifies the noise-prediction error at small `t`.

use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use super::{ErrorRow, measure_errors};
use crate::approx::budget::ScoreNetParams;
use crate::approx::construct::ScoreNetwork;
use crate::approx::error::ApproxError;
use crate::flowmap::FlowMap;
use crate::model::{Mixture, OuCoeffs, ScoreField};
use crate::nn::{Activation, LrSchedule, Mlp, MlpConfig, TrainConfig, train};

/// Most `(input, noise)` pairs drawn for one training run (memory cap; see the module doc).
pub const DSM_MAX_PAIRS: usize = 1 << 18;

/// Settings of the DSM training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct DsmConfig {
    /// Parameter budget (the width is the largest that fits).
    pub parameters: usize,
    /// Hidden layers.
    pub hidden_layers: usize,
    /// Adam steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Seed of the initialisation and the data.
    pub seed: u64,
}

impl Default for DsmConfig {
    fn default() -> Self {
        DsmConfig {
            parameters: 5000,
            hidden_layers: 3,
            steps: 4000,
            batch: 256,
            learning_rate: 2e-3,
            seed: 0,
        }
    }
}

/// A DSM-trained noise predictor `eps_theta` read as a score field
/// `s_theta(x, t) = -eps_theta(x, tau(t)) / sigma_t` (module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct DsmScoreNet {
    mlp: Mlp,
    t_min: f64,
    t_max: f64,
}

/// Parameters of the SiLU MLP `(d+1) -> w -> ... -> w -> d` with `hidden` hidden layers.
fn mlp_parameters(dim: usize, hidden: usize, w: usize) -> usize {
    (dim + 2) * w + hidden.saturating_sub(1) * (w + 1) * w + (w + 1) * dim
}

impl DsmScoreNet {
    /// The widest untrained SiLU MLP `(d+1) -> w -> ... -> w -> d` (`hidden_layers`
    /// hidden layers, He initialisation from `rng`) with at most `budget` parameters
    /// (width at least 1).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use flowcert::theorems::score_approx::trained::DsmScoreNet;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = DsmScoreNet::new(2, 3, 2000, 0.01, 1.0, &mut rng).unwrap();
    /// assert!(m.parameters() <= 2000 && m.parameters() > 1500);
    /// assert_eq!(m.widths(), vec![3, m.widths()[1], m.widths()[1], m.widths()[1], 2]);
    /// ```
    pub fn new(
        dim: usize,
        hidden_layers: usize,
        budget: usize,
        t_min: f64,
        t_max: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, ApproxError> {
        let hidden = hidden_layers.max(1);
        let mut w = 1;
        while mlp_parameters(dim, hidden, w + 1) <= budget {
            w += 1;
        }
        let cfg = MlpConfig::new(dim + 1, vec![w; hidden], dim, Activation::Silu).check()?;
        Ok(DsmScoreNet {
            mlp: Mlp::new(&cfg, rng),
            t_min,
            t_max,
        })
    }

    /// Number of parameters (weights and biases).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use flowcert::theorems::score_approx::trained::DsmScoreNet;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = DsmScoreNet::new(1, 1, 100, 0.01, 1.0, &mut rng).unwrap();
    /// assert_eq!(m.parameters(), m.widths().windows(2).map(|w| (w[0] + 1) * w[1]).sum::<usize>());
    /// ```
    pub fn parameters(&self) -> usize {
        self.mlp.param_count()
    }

    /// Layer widths, input `d + 1` and output `d` included.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use flowcert::theorems::score_approx::trained::DsmScoreNet;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = DsmScoreNet::new(2, 2, 500, 0.01, 1.0, &mut rng).unwrap();
    /// assert_eq!((m.widths()[0], m.widths()[3]), (3, 2));
    /// ```
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.mlp.dim_in()];
        w.extend(self.mlp.weights().iter().map(|m| m.nrows()));
        w
    }

    /// The underlying noise predictor `eps_theta` (input `(x, tau(t))`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use flowcert::{flowmap::FlowMap, theorems::score_approx::trained::DsmScoreNet};
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = DsmScoreNet::new(2, 1, 200, 0.01, 1.0, &mut rng).unwrap();
    /// assert_eq!(m.mlp().dim_in(), 3);
    /// ```
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// The time feature `tau(t)` in `[-1, 1]` on `[t_min, T]` (log scale).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use flowcert::theorems::score_approx::trained::DsmScoreNet;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = DsmScoreNet::new(2, 1, 200, 0.01, 1.0, &mut rng).unwrap();
    /// assert!((m.time_feature(0.01) + 1.0).abs() < 1e-12 && (m.time_feature(1.0) - 1.0).abs() < 1e-12);
    /// ```
    pub fn time_feature(&self, t: f64) -> f64 {
        let (a, b) = (self.t_min.ln(), self.t_max.ln());
        (2.0 * t.max(f64::MIN_POSITIVE).ln() - a - b) / (b - a)
    }
}

impl ScoreField for DsmScoreNet {
    fn dim(&self) -> usize {
        self.mlp.dim_out()
    }

    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        let xs = DMatrix::from_column_slice(x.len(), 1, x);
        out.copy_from_slice(self.score_batch(&xs, t).as_slice());
    }

    fn score_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        let d = xs.nrows();
        let tau = self.time_feature(t);
        let input = DMatrix::from_fn(
            d + 1,
            xs.ncols(),
            |r, c| if r < d { xs[(r, c)] } else { tau },
        );
        let sigma = OuCoeffs::at(t).sigma2.sqrt();
        self.mlp.predict(&input) * (-1.0 / sigma)
    }
}

/// The loss curve of a training run (mean minibatch loss over consecutive windows of steps).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TrainLog {
    /// Steps per window.
    pub window: usize,
    /// Mean loss per window.
    pub losses: Vec<f64>,
    /// Loss on all the drawn pairs after training.
    pub final_loss: f64,
    /// Number of `(input, noise)` pairs drawn.
    pub pairs: usize,
}

/// Draw `n` DSM pairs: inputs `(x_t, tau(t))` as columns, targets the noise `z`.
fn dsm_pairs(
    mix: &Mixture,
    net: &DsmScoreNet,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let d = mix.dim();
    let (lt0, lt1) = (net.t_min.ln(), net.t_max.ln());
    let x0 = mix.sample(0.0, n, rng);
    let mut input = DMatrix::zeros(d + 1, n);
    let mut target = DMatrix::zeros(d, n);
    for s in 0..n {
        let t = (lt0 + (lt1 - lt0) * rng.random::<f64>()).exp();
        let c = OuCoeffs::at(t);
        let sigma = c.sigma2.sqrt();
        for i in 0..d {
            let z: f64 = rng.sample(StandardNormal);
            input[(i, s)] = c.alpha * x0[(i, s)] + sigma * z;
            target[(i, s)] = z;
        }
        input[(d, s)] = net.time_feature(t);
    }
    (input, target)
}

/// Train an MLP by DSM on `[t_min, T]` (module doc).
///
/// ```
/// use flowcert::{approx::ScoreNetConfig, theorems::score_approx::trained::{train_dsm, DsmConfig}};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let cfg = DsmConfig { parameters: 300, steps: 40, batch: 32, ..Default::default() };
/// let (net, log) = train_dsm(&mix, &p, &cfg).unwrap();
/// assert!(net.parameters() <= 300 && log.losses.iter().all(|l| l.is_finite()));
/// assert_eq!(log.pairs, 40 * 32);
/// ```
pub fn train_dsm(
    mix: &Mixture,
    p: &ScoreNetParams,
    cfg: &DsmConfig,
) -> Result<(DsmScoreNet, TrainLog), ApproxError> {
    if !mix.process().is_ou() {
        return Err(ApproxError::OuOnly {
            process: mix.process().label(),
        });
    }
    if cfg.batch == 0 || cfg.steps == 0 || cfg.hidden_layers == 0 {
        return Err(ApproxError::BadSetting {
            field: "batch / steps / hidden_layers",
            value: format!("{} / {} / {}", cfg.batch, cfg.steps, cfg.hidden_layers),
            fix: "give a positive batch size, step count and number of hidden layers",
        });
    }
    if !(cfg.learning_rate.is_finite() && cfg.learning_rate > 0.0) {
        return Err(ApproxError::BadSetting {
            field: "learning_rate",
            value: cfg.learning_rate.to_string(),
            fix: "give a finite positive learning rate, e.g. 2e-3",
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut net = DsmScoreNet::new(
        mix.dim(),
        cfg.hidden_layers,
        cfg.parameters,
        p.t_min(),
        p.t_max(),
        &mut rng,
    )?;
    let pairs = cfg.steps.saturating_mul(cfg.batch).min(DSM_MAX_PAIRS);
    let (input, target) = dsm_pairs(mix, &net, pairs, &mut rng);
    let window = (cfg.steps / 20).max(1);
    let tcfg = TrainConfig {
        schedule: LrSchedule::Cosine {
            final_fraction: 0.1,
        },
        log_every: window,
        ..TrainConfig::new(cfg.steps, cfg.batch, cfg.learning_rate)
    }
    .check()?;
    let rep = train(&mut net.mlp, &input, &target, &tcfg, &mut rng)?;
    let log = TrainLog {
        window,
        losses: rep.loss_history.iter().map(|r| r.loss).collect(),
        final_loss: rep.final_loss,
        pairs,
    };
    Ok((net, log))
}
/// One time of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ComparisonRow {
    /// The time.
    pub t: f64,
    /// `L^2(p_t)` error of the constructive network.
    pub constructive: ErrorRow,
    /// `L^2(p_t)` error of the DSM-trained MLP.
    pub trained: ErrorRow,
}

/// The constructive network against a DSM-trained MLP of (about) the same size.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DsmComparison {
    /// Target accuracy of the construction.
    pub eps: f64,
    /// Non-zero parameters of the construction.
    pub constructive_parameters: usize,
    /// Parameters of the MLP.
    pub trained_parameters: usize,
    /// MLP widths.
    pub trained_widths: Vec<usize>,
    /// Rows by time.
    pub rows: Vec<ComparisonRow>,
    /// `max_t` of the constructive `L^2` error (`<= eps` by the theorem).
    pub constructive_sup: f64,
    /// `max_t` of the trained `L^2` error.
    pub trained_sup: f64,
    /// `max_t / min_t` of the constructive `L^2` error.
    pub constructive_spread: f64,
    /// `max_t / min_t` of the trained `L^2` error.
    pub trained_spread: f64,
    /// The training loss curve.
    pub log: TrainLog,
}

/// Build the construction at `p`, train an MLP with at most its non-zero parameter count
/// (`cfg.parameters` is overridden), and measure both on `times` with the same samples.
///
/// ```
/// use flowcert::{theorems::score_approx::trained::{compare_with_dsm, DsmConfig}, approx::ScoreNetConfig};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let cfg = DsmConfig { steps: 20, batch: 16, ..Default::default() };
/// let c = compare_with_dsm(&mix, &p, &cfg, &[0.01, 1.0], 100, 0).unwrap();
/// assert_eq!(c.rows.len(), 2);
/// assert!(c.trained_parameters <= c.constructive_parameters);
/// ```
pub fn compare_with_dsm(
    mix: &Mixture,
    p: &ScoreNetParams,
    cfg: &DsmConfig,
    times: &[f64],
    samples: usize,
    seed: u64,
) -> Result<DsmComparison, ApproxError> {
    let net = ScoreNetwork::build(mix, p)?;
    let np = net.network().counts().parameters;
    let cfg = DsmConfig {
        parameters: np,
        ..*cfg
    };
    let (mlp, log) = train_dsm(mix, p, &cfg)?;
    let a = measure_errors(&net, mix, times, samples, seed, None)?;
    let b = measure_errors(&mlp, mix, times, samples, seed, None)?;
    let rows: Vec<ComparisonRow> = a
        .into_iter()
        .zip(b)
        .filter(|(r, _)| r.p == 2)
        .map(|(c, t)| ComparisonRow {
            t: c.t,
            constructive: c,
            trained: t,
        })
        .collect();
    let sup = |f: fn(&ComparisonRow) -> f64| rows.iter().map(f).fold(0.0, f64::max);
    let spread = |f: fn(&ComparisonRow) -> f64| {
        let (lo, hi) = rows
            .iter()
            .map(f)
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if lo > 0.0 { hi / lo } else { f64::INFINITY }
    };
    Ok(DsmComparison {
        eps: p.eps(),
        constructive_parameters: np,
        trained_parameters: mlp.parameters(),
        trained_widths: mlp.widths(),
        constructive_sup: sup(|r| r.constructive.lp_error),
        trained_sup: sup(|r| r.trained.lp_error),
        constructive_spread: spread(|r| r.constructive.lp_error),
        trained_spread: spread(|r| r.trained.lp_error),
        rows,
        log,
    })
}
