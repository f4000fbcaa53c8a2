//! The trained comparison (issue 6, item 4): a standard MLP score network with about the
//! same number of parameters as the constructive one, trained by denoising score matching
//! (DSM), and its `L^2(p_t)` error across `t` next to the construction's.
//!
//! ```text
//! x_0 ~ p_0,  z ~ N(0, I),  t ~ log-uniform[t_min, T],  x_t = alpha_t x_0 + sigma_t z
//! loss = E | eps_theta(x_t, t) - z |^2          (noise prediction, uniform weight)
//! s_theta(x, t) = -eps_theta(x, t) / sigma_t     (the DSM minimiser is the exact score)
//! eps_theta = MLP(x, tau(t)),  tau(t) = (2 ln t - ln t_min - ln T) / (ln T - ln t_min),  SiLU hidden
//! ```
//! Trained by Adam (`beta = (0.9, 0.999)`, learning rate decayed linearly to 10% of its
//! start). The construction's error is uniform in `t` by design; the trained network's
//! error is not: dividing by `sigma_t` amplifies the noise-prediction error at small `t`.
//! Matrix products are plain loops over owned row-major buffers (no strided BLAS calls).

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use super::budget::ScoreNetParams;
use super::checker::{ErrorRow, measure_errors};
use super::construct::ScoreNetwork;
use super::error::ApproxError;
use crate::model::{Mixture, OuCoeffs, ScoreField};

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

/// A fully connected network with SiLU hidden layers, row-major weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    /// Per layer: weights (out x in, row-major) then biases.
    params: Vec<Vec<f64>>,
    dim: usize,
    t_min: f64,
    t_max: f64,
}

fn silu(a: f64) -> f64 {
    a / (1.0 + (-a).exp())
}

fn silu_grad(a: f64) -> f64 {
    let s = 1.0 / (1.0 + (-a).exp());
    s * (1.0 + a * (1.0 - s))
}

impl Mlp {
    /// The widest MLP `(d+1) -> w -> ... -> w -> d` with at most `budget` parameters.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = flowcert::approx::trained::Mlp::new(2, 3, 2000, 0.01, 1.0, &mut rng);
    /// assert!(m.parameters() <= 2000 && m.parameters() > 1500);
    /// ```
    pub fn new<R: Rng + ?Sized>(
        dim: usize,
        hidden_layers: usize,
        budget: usize,
        t_min: f64,
        t_max: f64,
        rng: &mut R,
    ) -> Self {
        let count = |w: usize| {
            (dim + 2) * w + (hidden_layers.saturating_sub(1)) * (w + 1) * w + (w + 1) * dim
        };
        let mut w = 1;
        while count(w + 1) <= budget {
            w += 1;
        }
        let mut sizes = vec![dim + 1];
        sizes.extend(std::iter::repeat_n(w, hidden_layers.max(1)));
        sizes.push(dim);
        let params = sizes
            .windows(2)
            .map(|io| {
                let (n_in, n_out) = (io[0], io[1]);
                let scale = (2.0 / n_in as f64).sqrt();
                let mut p: Vec<f64> = (0..n_in * n_out)
                    .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
                    .collect();
                p.extend(std::iter::repeat_n(0.0, n_out));
                p
            })
            .collect();
        Mlp {
            sizes,
            params,
            dim,
            t_min,
            t_max,
        }
    }

    /// Number of parameters (weights and biases).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = flowcert::approx::trained::Mlp::new(1, 1, 100, 0.01, 1.0, &mut rng);
    /// assert_eq!(m.parameters(), m.widths().windows(2).map(|w| (w[0] + 1) * w[1]).sum::<usize>());
    /// ```
    pub fn parameters(&self) -> usize {
        self.params.iter().map(Vec::len).sum()
    }

    /// Layer widths, input and output included.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let m = flowcert::approx::trained::Mlp::new(2, 2, 500, 0.01, 1.0, &mut rng);
    /// assert_eq!((m.widths()[0], m.widths()[3]), (3, 2));
    /// ```
    pub fn widths(&self) -> &[usize] {
        &self.sizes
    }

    fn time_feature(&self, t: f64) -> f64 {
        let (a, b) = (self.t_min.ln(), self.t_max.ln());
        (2.0 * t.max(1e-300).ln() - a - b) / (b - a)
    }

    /// Forward pass on a batch (`input`: n x (d+1) row-major); returns pre-activations and
    /// activations per layer (activations[0] = input).
    fn forward(&self, input: &[f64], n: usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let n_layers = self.params.len();
        let mut pre = Vec::with_capacity(n_layers);
        let mut act = vec![input.to_vec()];
        for (l, p) in self.params.iter().enumerate() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (w, b) = p.split_at(n_in * n_out);
            let h = &act[l];
            let mut a = vec![0.0; n * n_out];
            for s in 0..n {
                let hs = &h[s * n_in..(s + 1) * n_in];
                for o in 0..n_out {
                    let row = &w[o * n_in..(o + 1) * n_in];
                    a[s * n_out + o] = b[o] + row.iter().zip(hs).map(|(x, y)| x * y).sum::<f64>();
                }
            }
            let out = if l + 1 < n_layers {
                a.iter().map(|&v| silu(v)).collect()
            } else {
                a.clone()
            };
            pre.push(a);
            act.push(out);
        }
        (pre, act)
    }

    /// Noise prediction `eps_theta(x, t)` for one point.
    fn predict(&self, x: &[f64], t: f64) -> Vec<f64> {
        let mut input = x.to_vec();
        input.push(self.time_feature(t));
        let (_, act) = self.forward(&input, 1);
        act.last().expect("at least one layer").clone()
    }

    /// Mean DSM loss on a batch and its gradient (same layout as `params`).
    fn loss_grad(&self, input: &[f64], target: &[f64], n: usize) -> (f64, Vec<Vec<f64>>) {
        let (pre, act) = self.forward(input, n);
        let n_layers = self.params.len();
        let out = &act[n_layers];
        let d = self.dim;
        let mut loss = 0.0;
        let mut g: Vec<f64> = vec![0.0; n * d];
        for i in 0..n * d {
            let r = out[i] - target[i];
            loss += r * r;
            g[i] = 2.0 * r / n as f64;
        }
        loss /= n as f64;
        let mut grads: Vec<Vec<f64>> = self.params.iter().map(|p| vec![0.0; p.len()]).collect();
        for l in (0..n_layers).rev() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let h = &act[l];
            let (gw, gb) = grads[l].split_at_mut(n_in * n_out);
            for s in 0..n {
                let gs = &g[s * n_out..(s + 1) * n_out];
                let hs = &h[s * n_in..(s + 1) * n_in];
                for o in 0..n_out {
                    gb[o] += gs[o];
                    let row = &mut gw[o * n_in..(o + 1) * n_in];
                    for (rw, hv) in row.iter_mut().zip(hs) {
                        *rw += gs[o] * hv;
                    }
                }
            }
            if l > 0 {
                let w = &self.params[l][..n_in * n_out];
                let a = &pre[l - 1];
                let mut gh = vec![0.0; n * n_in];
                for s in 0..n {
                    for o in 0..n_out {
                        let go = g[s * n_out + o];
                        let row = &w[o * n_in..(o + 1) * n_in];
                        for (i, wv) in row.iter().enumerate() {
                            gh[s * n_in + i] += go * wv;
                        }
                    }
                    for i in 0..n_in {
                        gh[s * n_in + i] *= silu_grad(a[s * n_in + i]);
                    }
                }
                g = gh;
            }
        }
        (loss, grads)
    }
}

impl ScoreField for Mlp {
    fn dim(&self) -> usize {
        self.dim
    }

    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        let sigma = OuCoeffs::at(t).sigma2.sqrt();
        for (o, e) in out.iter_mut().zip(self.predict(x, t)) {
            *o = -e / sigma;
        }
    }
}

/// The loss curve of a training run (mean loss over consecutive windows of steps).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainLog {
    /// Steps per window.
    pub window: usize,
    /// Mean loss per window.
    pub losses: Vec<f64>,
}

/// Train an MLP by DSM on `[t_min, T]` (module doc).
///
/// ```
/// use flowcert::approx::{trained::{train_dsm, DsmConfig}, ScoreNetConfig};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let cfg = DsmConfig { parameters: 300, steps: 40, batch: 32, ..Default::default() };
/// let (mlp, log) = train_dsm(&mix, &p, &cfg).unwrap();
/// assert!(mlp.parameters() <= 300 && log.losses.iter().all(|l| l.is_finite()));
/// ```
pub fn train_dsm(
    mix: &Mixture,
    p: &ScoreNetParams,
    cfg: &DsmConfig,
) -> Result<(Mlp, TrainLog), ApproxError> {
    let d = mix.dim();
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
    let mut mlp = Mlp::new(
        d,
        cfg.hidden_layers,
        cfg.parameters,
        p.t_min(),
        p.t_max(),
        &mut rng,
    );
    let (b1, b2, eps_adam) = (0.9f64, 0.999f64, 1e-8);
    let mut m: Vec<Vec<f64>> = mlp.params.iter().map(|v| vec![0.0; v.len()]).collect();
    let mut v = m.clone();
    let (lt0, lt1) = (p.t_min().ln(), p.t_max().ln());
    let n = cfg.batch;
    let window = (cfg.steps / 20).max(1);
    let mut losses = Vec::new();
    let mut acc = 0.0;
    let mut input = vec![0.0; n * (d + 1)];
    let mut target = vec![0.0; n * d];
    for step in 0..cfg.steps {
        let x0 = mix.sample(0.0, n, &mut rng);
        for s in 0..n {
            let t = (lt0 + (lt1 - lt0) * rng.random::<f64>()).exp();
            let c = OuCoeffs::at(t);
            let sigma = c.sigma2.sqrt();
            for i in 0..d {
                let z: f64 = rng.sample(StandardNormal);
                input[s * (d + 1) + i] = c.alpha * x0[(i, s)] + sigma * z;
                target[s * d + i] = z;
            }
            input[s * (d + 1) + d] = mlp.time_feature(t);
        }
        let (loss, grads) = mlp.loss_grad(&input, &target, n);
        acc += loss;
        if (step + 1) % window == 0 {
            losses.push(acc / window as f64);
            acc = 0.0;
        }
        let lr = cfg.learning_rate * (1.0 - 0.9 * step as f64 / cfg.steps as f64);
        let k = step as i32 + 1;
        let (c1, c2) = (1.0 - b1.powi(k), 1.0 - b2.powi(k));
        for l in 0..grads.len() {
            for i in 0..grads[l].len() {
                let gi = grads[l][i];
                m[l][i] = b1 * m[l][i] + (1.0 - b1) * gi;
                v[l][i] = b2 * v[l][i] + (1.0 - b2) * gi * gi;
                mlp.params[l][i] -= lr * (m[l][i] / c1) / ((v[l][i] / c2).sqrt() + eps_adam);
            }
        }
    }
    Ok((mlp, TrainLog { window, losses }))
}

/// One time of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonRow {
    /// The time.
    pub t: f64,
    /// `L^2(p_t)` error of the constructive network.
    pub constructive: ErrorRow,
    /// `L^2(p_t)` error of the DSM-trained MLP.
    pub trained: ErrorRow,
}

/// The constructive network against a DSM-trained MLP of (about) the same size.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
/// use flowcert::approx::{trained::{compare_with_dsm, DsmConfig}, ScoreNetConfig};
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
        trained_widths: mlp.widths().to_vec(),
        constructive_sup: sup(|r| r.constructive.lp_error),
        trained_sup: sup(|r| r.trained.lp_error),
        constructive_spread: spread(|r| r.constructive.lp_error),
        trained_spread: spread(|r| r.trained.lp_error),
        rows,
        log,
    })
}
