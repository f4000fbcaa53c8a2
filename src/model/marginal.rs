//! The marginal `p_t` of a mixture on its path and everything exact about it
//! (theory/01-model.md, section "Score, Hessian, velocity"; other paths than OU:
//! theory/07-gaussian-paths.md).
//!
//! ```text
//! p_t      = sum_k pi_k N(m_k, S_k),  m_k = alpha_t mu_k,  S_k = alpha_t^2 Sigma_k + sigma_t^2 I
//! r_k(x)   = pi_k N(x; m_k, S_k) / p_t(x)                 (log-sum-exp, never a ratio)
//! s_k(x)   = -S_k^{-1} (x - m_k),      s = sum_k r_k s_k    (score)
//! H(x)     = -sum_k r_k S_k^{-1} + sum_k r_k (s_k - s)(s_k - s)^T
//! v(x, t)  = f x - h s(x, t)                               (PF-ODE velocity; OU: -x - s)
//! J(x, t)  = f I - h H(x, t)                               (velocity Jacobian, symmetric)
//! ```
//! The covariance of the component scores is formed as `sum r_k (s_k - s)(s_k - s)^T`
//! (not `sum r_k s_k s_k^T - s s^T`), so it stays PSD and accurate for far-out points
//! where `|s_k|` is huge. All work happens in each component's eigenbasis
//! `z_k = Q_k^T x - alpha_t Q_k^T mu_k`, where `S_k^{-1}` is diagonal. Every path but OU
//! evaluates the velocity in the denoiser form `sum_k r_k (alpha' mu_k + (f + h S_k^{-1})
//! (x - m_k))`, which stays finite where `alpha -> 0`; OU keeps `-x - s` bit for bit.
//!
//! **The velocity Jacobian with full relative accuracy.** At large `t` (OU), `S_k^{-1}` is
//! `I + O(alpha_t^2)` and `J = -I - H` is `O(alpha_t^2)`: forming it as `-I - H` (or as
//! `-I + sum r_k S_k^{-1} - C`) leaves an absolute rounding error `~1e-16`, larger than `J`
//! itself once `t > 18`. [`Marginal::jacobian_into`] therefore uses `sum_k r_k = 1` and
//! `s_k = (f/h) x + g_k` to write
//!
//! ```text
//! J = sum_k r_k E_k - h sum_k r_k (d_k - dbar)(d_k - dbar)^T,   dbar = sum_k r_k d_k
//! E_k = f I + h S_k^{-1} = Q_k diag(e_kj) Q_k^T,   e_kj = (alpha alpha' lambda_kj + sigma sigma') / s_kj
//!                                                 (OU: S_k^{-1} - I, e = alpha^2 (1 - lambda_kj) / s_kj)
//! d_k = g_k - g_p,   g_k = -(E_k / h) x + S_k^{-1} m_k   (p: largest r_p; d_k = s_k - s_p)
//! ```
//! whose terms are all `O(alpha_t)` or smaller and are formed without cancellation
//! (theory/02-lipschitz.md, "Accuracy"; the rates of each path: [`super::process`]).
//! Components with equal covariances give equal `E_k x` bit for bit, so their
//! `d_k = S^{-1}(m_k - m_p)` stays exact far from the means, and the computed `Cov_r` is the
//! covariance of accurate points under the computed weights: it obeys Popoviciu's bound
//! whatever the rounding of the weights.

use nalgebra::{DMatrix, DVector};

use super::error::ModelError;
use super::mixture::Mixture;
use super::process::{PathCoeffs, VelocityForm};

pub(crate) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// `p_t` at one time, with reusable scratch buffers: evaluation allocates nothing.
///
/// ```
/// use flowcert::model::{builtin, Marginal};
/// let mix = builtin::two_mode(0.1);
/// let mut p = Marginal::new(&mix, 0.5).unwrap();
/// let mut s = [0.0; 2];
/// p.score_into(&[0.0, 0.0], &mut s);
/// assert!(s[0].abs() < 1e-12); // symmetric mixture: zero score at the centre
/// ```
#[derive(Debug, Clone)]
pub struct Marginal<'a> {
    mix: &'a Mixture,
    coeffs: PathCoeffs,
    form: VelocityForm,
    /// `1 / (alpha^2 lambda_kj + sigma^2)`, K x d.
    inv_s: Vec<f64>,
    /// The rate `e = f + h/s = (alpha alpha' lambda_kj + sigma sigma') / s_kj`, the
    /// eigenvalue of `f I + h S_k^{-1}` (OU: `1/s - 1 = alpha^2 (1 - lambda_kj) / s_kj`), K x d.
    excess: Vec<f64>,
    /// `e / h` (OU: `e` itself), K x d.
    excess_h: Vec<f64>,
    /// `s'/2 = alpha alpha' lambda_kj + sigma sigma'` (denoiser-form velocity only), K x d.
    half_ds: Vec<f64>,
    /// `S_k^{-1} m_k = alpha Q_k diag(1/s_k) Q_k^T mu_k` (standard basis), K x d.
    inv_s_mean: Vec<f64>,
    /// `ln pi_k - (1/2) ln det S_k - (d/2) ln 2 pi`.
    log_norm: Vec<f64>,
    /// Per component: `u_k = S_k^{-1}`-scaled eigen-coordinates `(Q_k^T (x - m_k)) / s`.
    u: Vec<f64>,
    logw: Vec<f64>,
    resp: Vec<f64>,
    /// Component scores `s_k`, K x d.
    comp: Vec<f64>,
    /// The mixture score of the last prepared point.
    score: Vec<f64>,
    /// Per distinct covariance eigenvalue `l` (see `Mixture::eigen_levels`):
    /// `1 / (alpha^2 l + sigma^2)`, `ln(alpha^2 l + sigma^2)`, the rate `e(l)`
    /// (`PathCoeffs::rate`; for OU the precision excess `1 / (alpha^2 l + sigma^2) - 1`),
    /// `e(l) / h` and `s'(l)/2` at the current time.
    level_inv: Vec<f64>,
    level_ln: Vec<f64>,
    level_excess: Vec<f64>,
    level_excess_h: Vec<f64>,
    level_half_ds: Vec<f64>,
    /// `g = sum_k r_k g_k` of [`Marginal::jacobian_into`] (scratch).
    shift: Vec<f64>,
}

/// Everything exact at one point (allocating convenience form).
#[derive(Debug, Clone, PartialEq)]
pub struct PointEval {
    /// `log p_t(x)`.
    pub logp: f64,
    /// Responsibilities `r_k(x, t)`.
    pub responsibilities: DVector<f64>,
    /// Score `s(x, t)`.
    pub score: DVector<f64>,
    /// Hessian `grad^2 log p_t(x)`.
    pub hessian: DMatrix<f64>,
    /// Velocity `-x - s`.
    pub velocity: DVector<f64>,
}

impl<'a> Marginal<'a> {
    /// The marginal at time `t` of the mixture's path (checked: `t > 0` for OU, the path's
    /// domain otherwise).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// assert!(flowcert::model::Marginal::new(&mix, -1.0).is_err());
    /// ```
    pub fn new(mix: &'a Mixture, t: f64) -> Result<Self, ModelError> {
        mix.check_path_time("t", t)?;
        let k = mix.n_components();
        let d = mix.dim();
        let levels = mix.eigen_levels().values.len();
        let mut m = Marginal {
            mix,
            coeffs: mix.coeffs(t),
            form: mix.process().velocity_form(),
            inv_s: vec![0.0; k * d],
            excess: vec![0.0; k * d],
            excess_h: vec![0.0; k * d],
            half_ds: vec![0.0; k * d],
            inv_s_mean: vec![0.0; k * d],
            log_norm: vec![0.0; k],
            u: vec![0.0; k * d],
            logw: vec![0.0; k],
            resp: vec![0.0; k],
            comp: vec![0.0; k * d],
            score: vec![0.0; d],
            level_inv: vec![0.0; levels],
            level_ln: vec![0.0; levels],
            level_excess: vec![0.0; levels],
            level_excess_h: vec![0.0; levels],
            level_half_ds: vec![0.0; levels],
            shift: vec![0.0; d],
        };
        m.set_time(t);
        Ok(m)
    }

    /// The mixture this marginal belongs to.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let p = flowcert::model::Marginal::new(&mix, 1.0).unwrap();
    /// assert_eq!(p.mixture().dim(), 2);
    /// ```
    pub fn mixture(&self) -> &'a Mixture {
        self.mix
    }

    /// The current time.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// assert_eq!(flowcert::model::Marginal::new(&mix, 1.0).unwrap().time(), 1.0);
    /// ```
    pub fn time(&self) -> f64 {
        self.coeffs.t
    }

    /// The path's coefficients at the current time.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// assert_eq!(flowcert::model::Marginal::new(&mix, 1.0).unwrap().coeffs().h, 1.0);
    /// ```
    pub fn coeffs(&self) -> &PathCoeffs {
        &self.coeffs
    }

    /// Move to time `t` (the caller guarantees `t` in the path's domain; used inside ODE
    /// right-hand sides).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 1.0).unwrap();
    /// p.set_time(2.0);
    /// assert_eq!(p.time(), 2.0);
    /// ```
    #[inline]
    pub fn set_time(&mut self, t: f64) {
        self.set_coeffs(self.mix.coeffs(t));
    }

    /// Move to the time of the path's coefficients `c` (e.g. computed from a log-SNR,
    /// [`crate::model::process::Process::coeffs_at_log_snr`]); [`Self::set_time`] is this
    /// at `mix.coeffs(t)`.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 1.0).unwrap();
    /// p.set_coeffs(mix.coeffs(2.0));
    /// assert_eq!(p.time(), 2.0);
    /// ```
    #[inline]
    pub fn set_coeffs(&mut self, c: PathCoeffs) {
        self.coeffs = c;
        let d = self.mix.dim();
        let (a2, s2, h) = (self.coeffs.alpha2, self.coeffs.sigma2, self.coeffs.h);
        let denoiser = self.form == VelocityForm::Denoiser;
        // One logarithm and one division per distinct eigenvalue, shared by every
        // component that has it; the sums below add the same terms in the same order as
        // a per-component loop would, so the result is bitwise the same.
        let levels = self.mix.eigen_levels();
        for (i, &l) in levels.values.iter().enumerate() {
            let s = a2 * l + s2;
            self.level_inv[i] = 1.0 / s;
            self.level_ln[i] = s.ln();
            // OU: alpha^2 (1 - l) / s, bit for bit `OuCoeffs::precision_excess`; h = 1.
            let e = self.coeffs.rate(l);
            self.level_excess[i] = e;
            self.level_excess_h[i] = e / h;
            if denoiser {
                self.level_half_ds[i] = self.coeffs.half_ds(l);
            }
        }
        let half_d_ln_2pi = 0.5 * d as f64 * LN_2PI;
        for (k, c) in self.mix.components().iter().enumerate() {
            let mut logdet = 0.0;
            let idx = &levels.index[k * d..(k + 1) * d];
            for (j, &i) in idx.iter().enumerate() {
                self.inv_s[k * d + j] = self.level_inv[i];
                self.excess[k * d + j] = self.level_excess[i];
                self.excess_h[k * d + j] = self.level_excess_h[i];
                if denoiser {
                    self.half_ds[k * d + j] = self.level_half_ds[i];
                }
                logdet += self.level_ln[i];
            }
            self.log_norm[k] = c.log_weight - 0.5 * logdet - half_d_ln_2pi;
            let q = c.eigvecs.as_slice();
            let out = &mut self.inv_s_mean[k * d..(k + 1) * d];
            out.iter_mut().for_each(|v| *v = 0.0);
            for j in 0..d {
                let w = self.coeffs.alpha * c.mean_rot[j] * self.inv_s[k * d + j];
                for (o, qi) in out.iter_mut().zip(&q[j * d..(j + 1) * d]) {
                    *o += qi * w;
                }
            }
        }
    }

    /// Fill `u`, `logw`, `resp`; return `(max_k logw_k, sum_k exp(logw_k - max))`, so that
    /// `log p_t(x) = max + ln(sum)` (taken only by the callers that need it).
    #[inline]
    fn prepare(&mut self, x: &[f64]) -> (f64, f64) {
        let d = self.mix.dim();
        let alpha = self.coeffs.alpha;
        let mut wmax = f64::NEG_INFINITY;
        let mut kmax = usize::MAX;
        for (k, c) in self.mix.components().iter().enumerate() {
            let q = c.eigvecs.as_slice();
            let inv_s = &self.inv_s[k * d..(k + 1) * d];
            let u = &mut self.u[k * d..(k + 1) * d];
            let mut quad = 0.0;
            for (j, col) in q.chunks_exact(d).enumerate() {
                let mut z = -alpha * c.mean_rot[j];
                for (qi, xi) in col.iter().zip(x) {
                    z += qi * xi;
                }
                let uj = z * inv_s[j];
                u[j] = uj;
                quad += z * uj;
            }
            let lw = self.log_norm[k] - 0.5 * quad;
            self.logw[k] = lw;
            if lw > wmax {
                (wmax, kmax) = (lw, k);
            }
        }
        let mut total = 0.0;
        for (k, (r, &lw)) in self.resp.iter_mut().zip(&self.logw).enumerate() {
            // exp(0) = 1 exactly: the largest term needs no exponential.
            let e = if k == kmax { 1.0 } else { (lw - wmax).exp() };
            *r = e;
            total += e;
        }
        for r in &mut self.resp {
            *r /= total;
        }
        (wmax, total)
    }

    /// Component scores `s_k = -Q_k u_k` into `comp`, mixture score into `score`.
    #[inline]
    fn component_scores(&mut self) {
        let d = self.mix.dim();
        for (k, c) in self.mix.components().iter().enumerate() {
            let q = c.eigvecs.as_slice();
            let u = &self.u[k * d..(k + 1) * d];
            for (i, sk) in self.comp[k * d..(k + 1) * d].iter_mut().enumerate() {
                let mut acc = 0.0;
                for (j, &uj) in u.iter().enumerate() {
                    acc -= q[j * d + i] * uj;
                }
                *sk = acc;
            }
        }
        let k_count = self.resp.len();
        for (i, s) in self.score.iter_mut().enumerate() {
            let mut acc = 0.0;
            for k in 0..k_count {
                acc += self.resp[k] * self.comp[k * d + i];
            }
            *s = acc;
        }
    }

    /// `log p_t(x)`.
    ///
    /// ```
    /// // One standard Gaussian at t: p_t = N(0, I) for Sigma = I.
    /// let mix = flowcert::model::MixtureSpec { weights: vec![1.0], means: vec![vec![0.0]],
    ///     covariances: vec![vec![vec![1.0]]] }.check().unwrap();
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.7).unwrap();
    /// let expect = -0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5;
    /// assert!((p.log_density(&[1.0]) - expect).abs() < 1e-14);
    /// ```
    pub fn log_density(&mut self, x: &[f64]) -> f64 {
        let (wmax, total) = self.prepare(x);
        wmax + total.ln()
    }

    /// Responsibilities `r_k(x, t)` (log-sum-exp), borrowed from the scratch buffer.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let r = p.responsibilities(&[1e6, 0.0]).to_vec();
    /// assert!(r[1] == 1.0 && r[0] == 0.0 && r.iter().all(|v| v.is_finite()));
    /// ```
    pub fn responsibilities(&mut self, x: &[f64]) -> &[f64] {
        self.prepare(x);
        &self.resp
    }

    /// Score `s(x, t) = grad log p_t(x)` into `out`.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let mut s = [0.0; 2];
    /// p.score_into(&[1e6, -1e6], &mut s);
    /// assert!(s.iter().all(|v| v.is_finite()));
    /// ```
    #[inline]
    pub fn score_into(&mut self, x: &[f64], out: &mut [f64]) {
        self.prepare(x);
        self.component_scores();
        out.copy_from_slice(&self.score);
    }

    /// PF-ODE velocity `v(x, t) = f x - h s(x, t)` into `out`: for OU `-x - s`, for every
    /// other path the denoiser form (module docs of [`super::process`])
    ///
    /// ```text
    /// v = sum_k r_k (alpha' mu_k + Q_k diag(s'_kj / 2) u_k),   u_k = S_k^{-1}-scaled eigen-coordinates
    /// ```
    /// which is the same function, finite where `alpha -> 0` (`f, h -> inf`).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let mut v = [0.0; 2];
    /// p.velocity_into(&[0.0, 0.0], &mut v);
    /// assert!(v[0].abs() < 1e-12 && v[1].abs() < 1e-12);
    /// ```
    #[inline]
    pub fn velocity_into(&mut self, x: &[f64], out: &mut [f64]) {
        self.prepare(x);
        match self.form {
            VelocityForm::Score => {
                self.component_scores();
                for ((o, xi), s) in out.iter_mut().zip(x).zip(&self.score) {
                    *o = -xi - s;
                }
            }
            VelocityForm::Denoiser => self.denoiser_velocity(out),
        }
    }

    /// `v = sum_k r_k (alpha' mu_k + Q_k diag(s'_kj / 2) u_k)` at the prepared point: per
    /// component `alpha' E[x_0 | x, k] + sigma' E[z | x, k]` (theory/07-gaussian-paths.md).
    #[inline]
    fn denoiser_velocity(&self, out: &mut [f64]) {
        let d = self.mix.dim();
        let da = self.coeffs.dalpha;
        out.iter_mut().for_each(|o| *o = 0.0);
        for (k, c) in self.mix.components().iter().enumerate() {
            let r = self.resp[k];
            let q = c.eigvecs.as_slice();
            let u = &self.u[k * d..(k + 1) * d];
            let ds = &self.half_ds[k * d..(k + 1) * d];
            for (i, o) in out.iter_mut().enumerate() {
                let mut acc = da * c.mean[i];
                for j in 0..d {
                    acc += q[j * d + i] * (ds[j] * u[j]);
                }
                *o += r * acc;
            }
        }
    }

    /// Hessian `H = grad^2 log p_t(x)` into `out` (d x d), and the score into `score`.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let mut h = nalgebra::DMatrix::zeros(2, 2);
    /// let mut s = [0.0; 2];
    /// p.hessian_into(&[0.3, 0.1], &mut h, &mut s);
    /// assert!((h[(0, 1)] - h[(1, 0)]).abs() < 1e-12);
    /// ```
    pub fn hessian_into(&mut self, x: &[f64], out: &mut DMatrix<f64>, score: &mut [f64]) {
        let d = self.mix.dim();
        self.prepare(x);
        self.component_scores();
        score.copy_from_slice(&self.score);
        out.fill(0.0);
        for (k, c) in self.mix.components().iter().enumerate() {
            let r = self.resp[k];
            if r == 0.0 {
                continue;
            }
            let q = c.eigvecs.as_slice();
            // -r S_k^{-1} = -r sum_j inv_s_j q_j q_j^T
            for j in 0..d {
                let w = r * self.inv_s[k * d + j];
                let col = &q[j * d..(j + 1) * d];
                for b in 0..d {
                    let wb = w * col[b];
                    for a in 0..d {
                        out[(a, b)] -= col[a] * wb;
                    }
                }
            }
            // + r (s_k - s)(s_k - s)^T
            let sk = &self.comp[k * d..(k + 1) * d];
            for b in 0..d {
                let db = r * (sk[b] - self.score[b]);
                for a in 0..d {
                    out[(a, b)] += (sk[a] - self.score[a]) * db;
                }
            }
        }
    }

    /// Velocity Jacobian `J = -I - H` into `out`, and the velocity into `velocity`.
    ///
    /// ```
    /// // Standard Gaussian data: p_t = N(0, I), H = -I, J = 0.
    /// let mix = flowcert::model::MixtureSpec { weights: vec![1.0], means: vec![vec![0.0, 0.0]],
    ///     covariances: vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]] }.check().unwrap();
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.4).unwrap();
    /// let mut j = nalgebra::DMatrix::zeros(2, 2);
    /// let mut v = [0.0; 2];
    /// p.jacobian_into(&[0.5, -1.0], &mut j, &mut v);
    /// assert!(j.norm() < 1e-12);
    /// ```
    ///
    /// `J` is formed from `S_k^{-1} - I` and the shifted scores `g_k = s_k + x` (module
    /// docs), so it keeps full relative accuracy when it is tiny (large `t`):
    ///
    /// ```
    /// // Two modes +-0.5, sigma0 = 0.1, t = 20, centre: J has the eigenvalues a and a - q,
    /// // a = 0.99 e^{-40}/tau^2, q = e^{-40}/(4 tau^4), both ~1e-18 (below one ulp of 1).
    /// let mix = flowcert::model::MixtureSpec { weights: vec![0.5, 0.5],
    ///     means: vec![vec![-0.5, 0.0], vec![0.5, 0.0]],
    ///     covariances: vec![vec![vec![0.01, 0.0], vec![0.0, 0.01]]; 2] }.check().unwrap();
    /// let mut p = flowcert::model::Marginal::new(&mix, 20.0).unwrap();
    /// let (mut j, mut v) = (nalgebra::DMatrix::zeros(2, 2), [0.0; 2]);
    /// p.jacobian_into(&[0.0, 0.0], &mut j, &mut v);
    /// let e = (-40.0f64).exp();
    /// assert!((j[(1, 1)] / (0.99 * e) - 1.0).abs() < 1e-14);
    /// assert!((j[(0, 0)] / (0.99 * e - 0.25 * e) - 1.0).abs() < 1e-14);
    /// ```
    pub fn jacobian_into(&mut self, x: &[f64], out: &mut DMatrix<f64>, velocity: &mut [f64]) {
        let d = self.mix.dim();
        let k_count = self.mix.n_components();
        self.prepare(x);
        match self.form {
            VelocityForm::Score => {
                self.component_scores();
                for i in 0..d {
                    velocity[i] = -x[i] - self.score[i];
                }
            }
            VelocityForm::Denoiser => self.denoiser_velocity(velocity),
        }
        let h = self.coeffs.h;
        out.fill(0.0);
        // h_k = g_k - g_p (p: the largest responsibility), g_k = -E_k x + S_k^{-1} m_k,
        // stored in `comp` (the component scores are no longer needed); hbar = sum r_k h_k
        // in `shift`. For components with the same covariance E_k x is computed by the same
        // operations, so the x terms cancel exactly and h_k = S^{-1} (m_k - m_p) holds to
        // rounding even far out, where E_k x is huge.
        let pivot = (0..k_count).fold(0, |p, k| if self.resp[k] > self.resp[p] { k } else { p });
        let ex = &mut self.shift;
        for (k, c) in self.mix.components().iter().enumerate() {
            let q = c.eigvecs.as_slice();
            let r = self.resp[k];
            let gk = &mut self.comp[k * d..(k + 1) * d];
            gk.copy_from_slice(&self.inv_s_mean[k * d..(k + 1) * d]);
            for j in 0..d {
                let col = &q[j * d..(j + 1) * d];
                let e = self.excess[k * d + j];
                let qx: f64 = col.iter().zip(x).map(|(a, b)| a * b).sum();
                let w = self.excess_h[k * d + j] * qx;
                for i in 0..d {
                    gk[i] -= col[i] * w;
                }
                // + r (S_k^{-1} - I) = r sum_j e_j q_j q_j^T
                if r != 0.0 {
                    let re = r * e;
                    for b in 0..d {
                        let wb = re * col[b];
                        for a in 0..d {
                            out[(a, b)] += col[a] * wb;
                        }
                    }
                }
            }
        }
        ex.copy_from_slice(&self.comp[pivot * d..(pivot + 1) * d]);
        for hk in self.comp.chunks_mut(d) {
            hk.iter_mut().zip(ex.iter()).for_each(|(h, e)| *h -= e);
        }
        let hbar = &mut self.shift;
        hbar.iter_mut().for_each(|v| *v = 0.0);
        for (hk, &r) in self.comp.chunks(d).zip(&self.resp) {
            hbar.iter_mut().zip(hk).for_each(|(b, h)| *b += r * h);
        }
        // - h sum r_k (h_k - hbar)(h_k - hbar)^T
        for k in 0..k_count {
            let r = h * self.resp[k];
            if r == 0.0 {
                continue;
            }
            let hk = &self.comp[k * d..(k + 1) * d];
            for b in 0..d {
                let db = r * (hk[b] - hbar[b]);
                for a in 0..d {
                    out[(a, b)] -= (hk[a] - hbar[a]) * db;
                }
            }
        }
    }

    /// `grad_x (v^T J(x, t) v)` for a fixed vector `v`, at the point `x` of the last call
    /// of [`Self::jacobian_into`] (whose intermediate results it reuses). At a unit
    /// eigenvector `v` of `J` this is the gradient of the eigenvalue (first-order
    /// perturbation theory of a simple eigenvalue), which the searches for `sup ||J||`
    /// climb. With `delta_k = s_k - s`, `E_k = S_k^{-1} - I` and `sum_k r_k delta_k = 0`,
    /// differentiating `J = sum_k r_k E_k - sum_k r_k delta_k delta_k^T` (using
    /// `grad r_k = r_k delta_k`, `grad s_k = -S_k^{-1}`, `grad s = H`):
    ///
    /// ```text
    /// grad (v^T J v) = -sum_k r_k [ delta_k ((delta_k . v)^2 - v^T E_k v) - 2 (delta_k . v) E_k v ]
    /// ```
    ///
    /// ```
    /// let mix = flowcert::model::builtin::hetero3();
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.3).unwrap();
    /// let (x, v) = ([0.4, -0.2, 0.7], [0.6, 0.0, 0.8]);
    /// let form = |p: &mut flowcert::model::Marginal, x: &[f64]| {
    ///     let (mut j, mut vel) = (nalgebra::DMatrix::zeros(3, 3), [0.0; 3]);
    ///     p.jacobian_into(x, &mut j, &mut vel);
    ///     let v = nalgebra::DVector::from_column_slice(&v);
    ///     v.dot(&(&j * &v))
    /// };
    /// form(&mut p, &x);
    /// let mut g = [0.0; 3];
    /// p.jacobian_form_gradient(&v, &mut g);
    /// let h = 1e-6;
    /// let (mut xp, mut xm) = (x, x);
    /// xp[2] += h;
    /// xm[2] -= h;
    /// let fd = (form(&mut p, &xp) - form(&mut p, &xm)) / (2.0 * h);
    /// assert!((g[2] - fd).abs() < 1e-5 * (1.0 + fd.abs()));
    /// ```
    pub fn jacobian_form_gradient(&mut self, v: &[f64], out: &mut [f64]) {
        let d = self.mix.dim();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (k, c) in self.mix.components().iter().enumerate() {
            let r = self.resp[k];
            if r == 0.0 {
                continue;
            }
            let q = c.eigvecs.as_slice();
            // E_k v into `u` (the scaled coordinates are not needed after jacobian_into).
            let ev = &mut self.u[k * d..(k + 1) * d];
            ev.iter_mut().for_each(|e| *e = 0.0);
            let mut vev = 0.0;
            for j in 0..d {
                let col = &q[j * d..(j + 1) * d];
                let qv: f64 = col.iter().zip(v).map(|(a, b)| a * b).sum();
                let e = self.excess[k * d + j] * qv;
                vev += e * qv;
                for i in 0..d {
                    ev[i] += col[i] * e;
                }
            }
            let gk = &self.comp[k * d..(k + 1) * d];
            let dv: f64 = (0..d).map(|i| (gk[i] - self.shift[i]) * v[i]).sum();
            let w = self.coeffs.h * dv * dv - vev;
            for i in 0..d {
                out[i] -= r * ((gk[i] - self.shift[i]) * w - 2.0 * dv * ev[i]);
            }
        }
    }

    /// Everything at one point, allocated.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let e = p.eval(&[0.2, 0.0]);
    /// assert!((e.responsibilities.sum() - 1.0).abs() < 1e-14);
    /// ```
    pub fn eval(&mut self, x: &[f64]) -> PointEval {
        let d = self.mix.dim();
        let mut hessian = DMatrix::zeros(d, d);
        let mut score = vec![0.0; d];
        self.hessian_into(x, &mut hessian, &mut score);
        let logp = self.log_density(x);
        let score = DVector::from_vec(score);
        let velocity = match self.form {
            VelocityForm::Score => -DVector::from_column_slice(x) - &score,
            VelocityForm::Denoiser => {
                let mut v = DVector::zeros(d);
                self.denoiser_velocity(v.as_mut_slice());
                v
            }
        };
        PointEval {
            logp,
            responsibilities: DVector::from_column_slice(&self.resp),
            score,
            hessian,
            velocity,
        }
    }

    /// Scores of the columns of a d x N matrix.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// let s = p.score_batch(&nalgebra::DMatrix::zeros(2, 3));
    /// assert_eq!(s.shape(), (2, 3));
    /// ```
    pub fn score_batch(&mut self, xs: &DMatrix<f64>) -> DMatrix<f64> {
        self.map_columns(xs, Self::score_into)
    }

    /// Velocities of the columns of a d x N matrix.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// assert_eq!(p.velocity_batch(&nalgebra::DMatrix::zeros(2, 4)).ncols(), 4);
    /// ```
    pub fn velocity_batch(&mut self, xs: &DMatrix<f64>) -> DMatrix<f64> {
        self.map_columns(xs, Self::velocity_into)
    }

    /// Apply a pointwise `f(self, x, out)` to every column of a d x N matrix.
    fn map_columns(
        &mut self,
        xs: &DMatrix<f64>,
        f: fn(&mut Self, &[f64], &mut [f64]),
    ) -> DMatrix<f64> {
        let d = xs.nrows();
        let mut out = DMatrix::zeros(d, xs.ncols());
        for (xc, oc) in xs
            .as_slice()
            .chunks(d)
            .zip(out.as_mut_slice().chunks_mut(d))
        {
            f(self, xc, oc);
        }
        out
    }

    /// `log p_t` of the columns of a d x N matrix.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// assert_eq!(p.log_density_batch(&nalgebra::DMatrix::zeros(2, 5)).len(), 5);
    /// ```
    pub fn log_density_batch(&mut self, xs: &DMatrix<f64>) -> DVector<f64> {
        let d = xs.nrows();
        DVector::from_iterator(
            xs.ncols(),
            xs.as_slice().chunks(d).map(|c| self.log_density(c)),
        )
    }

    /// Hessians of the columns of a d x N matrix.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 0.5).unwrap();
    /// assert_eq!(p.hessian_batch(&nalgebra::DMatrix::zeros(2, 2)).len(), 2);
    /// ```
    pub fn hessian_batch(&mut self, xs: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
        let d = xs.nrows();
        let mut s = vec![0.0; d];
        xs.as_slice()
            .chunks(d)
            .map(|c| {
                let mut h = DMatrix::zeros(d, d);
                self.hessian_into(c, &mut h, &mut s);
                h
            })
            .collect()
    }
}
