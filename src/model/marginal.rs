//! The OU marginal `p_t` of a mixture and everything exact about it
//! (theory/01-model.md, section "Score, Hessian, velocity").
//!
//! ```text
//! p_t      = sum_k pi_k N(m_k, S_k),  m_k = alpha_t mu_k,  S_k = alpha_t^2 Sigma_k + sigma_t^2 I
//! r_k(x)   = pi_k N(x; m_k, S_k) / p_t(x)                 (log-sum-exp, never a ratio)
//! s_k(x)   = -S_k^{-1} (x - m_k),      s = sum_k r_k s_k    (score)
//! H(x)     = -sum_k r_k S_k^{-1} + sum_k r_k (s_k - s)(s_k - s)^T
//! v(x, t)  = -x - s(x, t)                                  (PF-ODE velocity)
//! J(x, t)  = -I - H(x, t)                                  (velocity Jacobian, symmetric)
//! ```
//! The covariance of the component scores is formed as `sum r_k (s_k - s)(s_k - s)^T`
//! (not `sum r_k s_k s_k^T - s s^T`), so it stays PSD and accurate for far-out points
//! where `|s_k|` is huge. All work happens in each component's eigenbasis
//! `z_k = Q_k^T x - alpha_t Q_k^T mu_k`, where `S_k^{-1}` is diagonal.

use nalgebra::{DMatrix, DVector};

use super::error::ModelError;
use super::mixture::Mixture;
use super::process::OuCoeffs;

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
    coeffs: OuCoeffs,
    /// `1 / (alpha^2 lambda_kj + sigma^2)`, K x d.
    inv_s: Vec<f64>,
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
    /// `1 / (alpha^2 l + sigma^2)` and `ln(alpha^2 l + sigma^2)` at the current time.
    level_inv: Vec<f64>,
    level_ln: Vec<f64>,
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
    /// The marginal at time `t > 0` (checked).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// assert!(flowcert::model::Marginal::new(&mix, -1.0).is_err());
    /// ```
    pub fn new(mix: &'a Mixture, t: f64) -> Result<Self, ModelError> {
        Mixture::check_time("t", t)?;
        let k = mix.n_components();
        let d = mix.dim();
        let mut m = Marginal {
            mix,
            coeffs: OuCoeffs::at(t),
            inv_s: vec![0.0; k * d],
            log_norm: vec![0.0; k],
            u: vec![0.0; k * d],
            logw: vec![0.0; k],
            resp: vec![0.0; k],
            comp: vec![0.0; k * d],
            score: vec![0.0; d],
            level_inv: vec![0.0; mix.eigen_levels().values.len()],
            level_ln: vec![0.0; mix.eigen_levels().values.len()],
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

    /// Move to time `t` (the caller guarantees `t > 0`; used inside ODE right-hand sides).
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut p = flowcert::model::Marginal::new(&mix, 1.0).unwrap();
    /// p.set_time(2.0);
    /// assert_eq!(p.time(), 2.0);
    /// ```
    #[inline]
    pub fn set_time(&mut self, t: f64) {
        self.coeffs = OuCoeffs::at(t);
        let d = self.mix.dim();
        let (a2, s2) = (self.coeffs.alpha2, self.coeffs.sigma2);
        // One logarithm and one division per distinct eigenvalue, shared by every
        // component that has it; the sums below add the same terms in the same order as
        // a per-component loop would, so the result is bitwise the same.
        let levels = self.mix.eigen_levels();
        for ((&l, inv), ln) in levels
            .values
            .iter()
            .zip(&mut self.level_inv)
            .zip(&mut self.level_ln)
        {
            let s = a2 * l + s2;
            *inv = 1.0 / s;
            *ln = s.ln();
        }
        let half_d_ln_2pi = 0.5 * d as f64 * LN_2PI;
        for (k, c) in self.mix.components().iter().enumerate() {
            let mut logdet = 0.0;
            let idx = &levels.index[k * d..(k + 1) * d];
            for (inv_s, &i) in self.inv_s[k * d..(k + 1) * d].iter_mut().zip(idx) {
                *inv_s = self.level_inv[i];
                logdet += self.level_ln[i];
            }
            self.log_norm[k] = c.log_weight - 0.5 * logdet - half_d_ln_2pi;
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

    /// PF-ODE velocity `v(x, t) = -x - s(x, t)` into `out`.
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
        self.component_scores();
        for ((o, xi), s) in out.iter_mut().zip(x).zip(&self.score) {
            *o = -xi - s;
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
    pub fn jacobian_into(&mut self, x: &[f64], out: &mut DMatrix<f64>, velocity: &mut [f64]) {
        self.hessian_into(x, out, velocity);
        out.neg_mut();
        for i in 0..x.len() {
            out[(i, i)] -= 1.0;
            velocity[i] = -x[i] - velocity[i];
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
        let velocity = -DVector::from_column_slice(x) - &score;
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
