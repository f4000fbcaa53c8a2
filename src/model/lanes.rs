//! The PF-ODE velocity of one mixture (on its path) at `L` independent (time, point) pairs at once
//! (theory/01-model.md, "Score, Hessian, velocity"), for the solver's lanes
//! (`dynamics::lanes`).
//!
//! Same formulas as [`Marginal`](super::Marginal), with every per-lane quantity stored
//! lane-innermost (`v[i * L + l]`), so that each arithmetic pass is a loop over lanes that
//! the compiler vectorises, and the exponentials and logarithms of different lanes are
//! independent neighbours. Each lane performs exactly the floating-point operations of
//! `Marginal::set_time` followed by `Marginal::velocity_into`, in the same order, so its
//! result is bitwise theirs (the OU score form `-x - s`, or the denoiser form of every
//! other path, theory/07-gaussian-paths.md).

use super::marginal::LN_2PI;
use super::mixture::Mixture;
use super::process::{PathCoeffs, VelocityForm, variances_at_log_snr};

/// The independent variable of [`MarginalLanes`]'s lanes: the time, or the log-SNR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    Time,
    LogSnr,
}

/// Velocities `v(x_l, t_l)` of one mixture for `L` lanes (OU: `-x_l - s(x_l, t_l)`).
///
/// ```
/// use flowcert::model::{builtin, Marginal, MarginalLanes};
/// let mix = builtin::ring(8, 3.0, 0.1);
/// let mut lanes = MarginalLanes::new(&mix, 3);
/// let (t, x) = ([0.5, 1.0, 0.02], [0.1, 0.2, -1.0, 0.3, 2.9, 0.1]);
/// let mut v = [0.0; 6];
/// lanes.velocities(&t, &x, &mut v);
/// let mut one = [0.0; 2];
/// Marginal::new(&mix, 0.02).unwrap().velocity_into(&x[4..], &mut one);
/// assert_eq!(&v[4..], &one); // bitwise
/// ```
#[derive(Debug, Clone)]
pub struct MarginalLanes<'a> {
    mix: &'a Mixture,
    lanes: usize,
    form: VelocityForm,
    /// The path is OU (score form): in the log-SNR clock the lanes compute its closed-form
    /// coefficients themselves ([`Self::ou_log_snr_coeffs`]).
    ou: bool,
    /// Per lane: the path's coefficients, and of them `alpha_t`, `alpha_t^2`, `sigma_t^2`,
    /// `alpha_t'`, and `dt / d lambda` (log-SNR clock).
    coeffs: Vec<PathCoeffs>,
    alpha: Vec<f64>,
    alpha2: Vec<f64>,
    sigma2: Vec<f64>,
    dalpha: Vec<f64>,
    dt_dlog_snr: Vec<f64>,
    /// Per distinct covariance eigenvalue and lane: `1 / (alpha^2 l + sigma^2)`, its log,
    /// and `s'(l)/2` (denoiser form only).
    level_inv: Vec<f64>,
    level_ln: Vec<f64>,
    level_ds: Vec<f64>,
    /// Per component and lane: `ln pi_k - (1/2) ln det S_k - (d/2) ln 2 pi`.
    log_norm: Vec<f64>,
    /// Scratch per lane: log-determinant, `u_k . z_k`, running max and its component.
    acc: Vec<f64>,
    wmax: Vec<f64>,
    kmax: Vec<usize>,
    /// Per component, eigen-coordinate and lane: `u = S_k^{-1}`-scaled coordinates.
    u: Vec<f64>,
    /// Per coordinate and lane: the point, the score.
    x: Vec<f64>,
    score: Vec<f64>,
    /// Per component and lane: log-weights, then responsibilities.
    resp: Vec<f64>,
    /// Per lane: sum of the unnormalised responsibilities.
    total: Vec<f64>,
}

impl<'a> MarginalLanes<'a> {
    /// Scratch for `lanes` lanes of `mix`.
    pub fn new(mix: &'a Mixture, lanes: usize) -> Self {
        let (k, d, levels) = (
            mix.n_components(),
            mix.dim(),
            mix.eigen_levels().values.len(),
        );
        let per = |n: usize| vec![0.0; n * lanes];
        let form = mix.process().velocity_form();
        MarginalLanes {
            mix,
            lanes,
            form,
            ou: mix.process().is_ou() && form == VelocityForm::Score,
            coeffs: vec![mix.coeffs(1.0); lanes],
            alpha: per(1),
            alpha2: per(1),
            sigma2: per(1),
            dalpha: per(1),
            dt_dlog_snr: per(1),
            level_inv: per(levels),
            level_ln: per(levels),
            level_ds: per(levels),
            log_norm: per(k),
            acc: per(1),
            wmax: per(1),
            kmax: vec![0; lanes],
            u: per(k * d),
            x: per(d),
            score: per(d),
            resp: per(k),
            total: per(1),
        }
    }

    /// The number of lanes `L`.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The mixture.
    pub fn mixture(&self) -> &'a Mixture {
        self.mix
    }

    /// For every lane `l < L`: `out[l d..(l + 1) d] = v(x[l d..(l + 1) d], t[l])`. Every
    /// time must lie in the path's domain (not checked; a lane with a bad time gets NaN,
    /// like `Marginal` would). `t` has `L` entries, `x` and `out` `L d`.
    pub fn velocities(&mut self, t: &[f64], x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the feature was detected on this CPU.
            return unsafe { self.velocities_avx2(t, x, out, Clock::Time) };
        }
        self.velocities_impl(t, x, out, Clock::Time)
    }

    /// The PF-ODE in the log-SNR `lambda = ln(alpha^2 / sigma^2)` as its clock: for every
    /// lane, `out[l d..(l + 1) d] = v(x_l, t_l) dt/d lambda` at the time `t_l` of log-SNR
    /// `lambda[l]`, with the path's coefficients computed from the log-SNR
    /// ([`Process::coeffs_at_log_snr`](super::process::Process::coeffs_at_log_snr); OU:
    /// one exponential instead of three) and scaled by
    /// [`PathCoeffs::dt_dlog_snr`]. Bitwise what [`Marginal`](super::Marginal) gives after
    /// `set_coeffs(coeffs_at_log_snr(lambda))`, times that factor.
    ///
    /// ```
    /// use flowcert::model::{builtin, Marginal, MarginalLanes};
    /// let mix = builtin::two_mode(0.1);
    /// let mut lanes = MarginalLanes::new(&mix, 2);
    /// let (snr, x) = ([-1.0, 2.0], [0.1, 0.2, -1.0, 0.3]);
    /// let mut v = [0.0; 4];
    /// lanes.velocities_log_snr(&snr, &x, &mut v);
    /// let c = mix.process().coeffs_at_log_snr(2.0);
    /// let mut m = Marginal::new(&mix, 1.0).unwrap();
    /// m.set_coeffs(c);
    /// let mut one = [0.0; 2];
    /// m.velocity_into(&x[2..], &mut one);
    /// assert_eq!(v[2..], [one[0] * c.dt_dlog_snr(), one[1] * c.dt_dlog_snr()]);
    /// ```
    pub fn velocities_log_snr(&mut self, log_snr: &[f64], x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the feature was detected on this CPU.
            return unsafe { self.velocities_avx2(log_snr, x, out, Clock::LogSnr) };
        }
        self.velocities_impl(log_snr, x, out, Clock::LogSnr)
    }

    /// [`Self::velocities`] compiled with AVX2, so that the lane loops run four lanes
    /// per instruction instead of two. Without FMA: Rust never contracts `a * b + c`, so
    /// every lane performs the same IEEE operations as the baseline build, bit for bit
    /// (tests/it/lanes.rs compares against `Marginal` on every lane).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn velocities_avx2(&mut self, t: &[f64], x: &[f64], out: &mut [f64], clock: Clock) {
        self.velocities_impl(t, x, out, clock)
    }

    #[inline(always)]
    fn velocities_impl(&mut self, t: &[f64], x: &[f64], out: &mut [f64], clock: Clock) {
        let (nl, d) = (self.lanes, self.mix.dim());
        assert!(
            t.len() == nl && x.len() == nl * d && out.len() == nl * d,
            "MarginalLanes::velocities: buffers do not match {nl} lanes of dimension {d}"
        );
        if clock == Clock::LogSnr && self.ou {
            self.ou_log_snr_coeffs(t);
        } else {
            for (l, &tl) in t.iter().enumerate() {
                let c = match clock {
                    Clock::Time => self.mix.coeffs(tl),
                    Clock::LogSnr => self.mix.process().coeffs_at_log_snr(tl),
                };
                (self.alpha[l], self.alpha2[l], self.sigma2[l]) = (c.alpha, c.alpha2, c.sigma2);
                self.dalpha[l] = c.dalpha;
                self.dt_dlog_snr[l] = c.dt_dlog_snr();
                self.coeffs[l] = c;
            }
        }
        for l in 0..nl {
            for i in 0..d {
                self.x[i * nl + l] = x[l * d + i];
            }
        }
        self.covariance_factors();
        self.log_weights();
        self.responsibilities();
        match self.form {
            VelocityForm::Score => {
                self.scores();
                for l in 0..nl {
                    for i in 0..d {
                        out[l * d + i] = -self.x[i * nl + l] - self.score[i * nl + l];
                    }
                }
            }
            VelocityForm::Denoiser => {
                self.denoiser_velocities();
                for l in 0..nl {
                    for i in 0..d {
                        out[l * d + i] = self.score[i * nl + l];
                    }
                }
            }
        }
        if clock == Clock::LogSnr {
            for (o, &scale) in out.chunks_exact_mut(d.max(1)).zip(&self.dt_dlog_snr) {
                o.iter_mut().for_each(|v| *v *= scale);
            }
        }
    }

    /// The OU coefficients at the log-SNRs `lambda` (theory/07-gaussian-paths.md):
    /// `alpha^2 = 1 / (1 + e^{-lambda})`, `sigma^2 = 1 / (1 + e^{lambda})` from `e =
    /// e^{-|lambda|}` (`variances_at_log_snr`, shared with [`Ou`](super::process::Ou)'s
    /// `coeffs_at_log_snr`), and `dt / d lambda = -sigma^2 / 2`, the operations of
    /// [`PathCoeffs::dt_dlog_snr`], so every lane's bits are theirs; the time itself
    /// (a logarithm per lane) is not needed by the score-form velocity and is skipped, as
    /// is the dynamic dispatch per lane. `coeffs` is left stale (the score form reads
    /// only the arrays written here).
    #[inline(always)]
    fn ou_log_snr_coeffs(&mut self, lambda: &[f64]) {
        let e = &mut self.total;
        for (e, &l) in e.iter_mut().zip(lambda) {
            *e = (-l.abs()).exp();
        }
        for (l, (&lam, &e)) in lambda.iter().zip(&*e).enumerate() {
            let (alpha2, sigma2) = variances_at_log_snr(lam, e);
            let alpha = alpha2.sqrt();
            (self.alpha[l], self.alpha2[l], self.sigma2[l]) = (alpha, alpha2, sigma2);
            self.dalpha[l] = -alpha;
            // PathCoeffs::dt_dlog_snr with the OU path's h = 1.
            self.dt_dlog_snr[l] = sigma2 / (-2.0 * 1.0);
        }
    }

    /// `Marginal::set_time` after the coefficients: per distinct eigenvalue `1/s` and
    /// `ln s`, then per component the log-normaliser.
    #[inline(always)]
    fn covariance_factors(&mut self) {
        let (nl, d) = (self.lanes, self.mix.dim());
        let levels = self.mix.eigen_levels();
        for (v, &lv) in levels.values.iter().enumerate() {
            let (inv, ln) = (
                &mut self.level_inv[v * nl..(v + 1) * nl],
                &mut self.level_ln[v * nl..(v + 1) * nl],
            );
            for l in 0..nl {
                let s = self.alpha2[l] * lv + self.sigma2[l];
                inv[l] = 1.0 / s;
                ln[l] = s;
            }
            for s in ln.iter_mut() {
                *s = s.ln();
            }
            if self.form == VelocityForm::Denoiser {
                for (ds, c) in self.level_ds[v * nl..(v + 1) * nl]
                    .iter_mut()
                    .zip(&self.coeffs)
                {
                    *ds = c.half_ds(lv);
                }
            }
        }
        let half_d_ln_2pi = 0.5 * d as f64 * LN_2PI;
        for (k, c) in self.mix.components().iter().enumerate() {
            let logdet = &mut self.acc[..nl];
            logdet.fill(0.0);
            for &v in &levels.index[k * d..(k + 1) * d] {
                for (acc, &ln) in logdet.iter_mut().zip(&self.level_ln[v * nl..(v + 1) * nl]) {
                    *acc += ln;
                }
            }
            for (ln_k, &ld) in self.log_norm[k * nl..(k + 1) * nl].iter_mut().zip(&*logdet) {
                *ln_k = c.log_weight - 0.5 * ld - half_d_ln_2pi;
            }
        }
    }

    /// `Marginal::prepare` up to the exponentials: `u`, log-weights (into `resp`), and
    /// the largest log-weight per lane with its component.
    #[inline(always)]
    fn log_weights(&mut self) {
        let (nl, d) = (self.lanes, self.mix.dim());
        let levels = self.mix.eigen_levels();
        self.wmax.fill(f64::NEG_INFINITY);
        self.kmax.fill(usize::MAX);
        for (k, c) in self.mix.components().iter().enumerate() {
            let q = c.eigvecs.as_slice();
            let quad = &mut self.acc[..nl];
            quad.fill(0.0);
            for j in 0..d {
                let inv = &self.level_inv[levels.index[k * d + j] * nl..][..nl];
                let u = &mut self.u[(k * d + j) * nl..][..nl];
                let m = c.mean_rot[j];
                for l in 0..nl {
                    let mut z = -self.alpha[l] * m;
                    for i in 0..d {
                        z += q[j * d + i] * self.x[i * nl + l];
                    }
                    let uj = z * inv[l];
                    u[l] = uj;
                    quad[l] += z * uj;
                }
            }
            let lw = &mut self.resp[k * nl..(k + 1) * nl];
            for l in 0..nl {
                lw[l] = self.log_norm[k * nl + l] - 0.5 * quad[l];
                if lw[l] > self.wmax[l] {
                    (self.wmax[l], self.kmax[l]) = (lw[l], k);
                }
            }
        }
    }

    /// `Marginal::prepare` from the exponentials on: normalised responsibilities.
    #[inline(always)]
    fn responsibilities(&mut self) {
        let (nl, kc) = (self.lanes, self.mix.n_components());
        for k in 0..kc {
            for l in 0..nl {
                let r = &mut self.resp[k * nl + l];
                // exp(0) = 1 exactly: the largest term needs no exponential.
                *r = if k == self.kmax[l] {
                    1.0
                } else {
                    (*r - self.wmax[l]).exp()
                };
            }
        }
        self.total.fill(0.0);
        for k in 0..kc {
            for (tot, &e) in self.total.iter_mut().zip(&self.resp[k * nl..(k + 1) * nl]) {
                *tot += e;
            }
        }
        for k in 0..kc {
            for (r, &tot) in self.resp[k * nl..(k + 1) * nl].iter_mut().zip(&self.total) {
                *r /= tot;
            }
        }
    }

    /// `Marginal::component_scores`: `s = sum_k r_k (-Q_k u_k)`, each component score
    /// summed over eigen-coordinates first, then weighted, as there.
    #[inline(always)]
    fn scores(&mut self) {
        let (nl, d) = (self.lanes, self.mix.dim());
        // score_i = sum_k r_k s_k[i], with s_k[i] = 0 - sum_j q_k[j d + i] u_k[j].
        self.score.fill(0.0);
        let comp = &mut self.acc[..nl];
        for i in 0..d {
            for (k, c) in self.mix.components().iter().enumerate() {
                let q = c.eigvecs.as_slice();
                comp.fill(0.0);
                for j in 0..d {
                    let qji = q[j * d + i];
                    let u = &self.u[(k * d + j) * nl..][..nl];
                    for (s, &uj) in comp.iter_mut().zip(u) {
                        *s -= qji * uj;
                    }
                }
                let r = &self.resp[k * nl..(k + 1) * nl];
                let score = &mut self.score[i * nl..(i + 1) * nl];
                for l in 0..nl {
                    score[l] += r[l] * comp[l];
                }
            }
        }
    }

    /// `Marginal::denoiser_velocity` into `score`: `v = sum_k r_k (alpha' mu_k + Q_k
    /// diag(s'/2) u_k)`, each component summed over eigen-coordinates first, then weighted.
    #[inline(always)]
    fn denoiser_velocities(&mut self) {
        let (nl, d) = (self.lanes, self.mix.dim());
        let levels = self.mix.eigen_levels();
        self.score.fill(0.0);
        let comp = &mut self.acc[..nl];
        for i in 0..d {
            for (k, c) in self.mix.components().iter().enumerate() {
                let q = c.eigvecs.as_slice();
                for (s, &da) in comp.iter_mut().zip(&self.dalpha) {
                    *s = da * c.mean[i];
                }
                for j in 0..d {
                    let qji = q[j * d + i];
                    let u = &self.u[(k * d + j) * nl..][..nl];
                    let ds = &self.level_ds[levels.index[k * d + j] * nl..][..nl];
                    for l in 0..nl {
                        comp[l] += qji * (ds[l] * u[l]);
                    }
                }
                let r = &self.resp[k * nl..(k + 1) * nl];
                let out = &mut self.score[i * nl..(i + 1) * nl];
                for l in 0..nl {
                    out[l] += r[l] * comp[l];
                }
            }
        }
    }
}
