//! Adam (Kingma & Ba 2015) with bias correction and learning-rate schedules.
//!
//! ```text
//! m_t = beta1 m_{t-1} + (1 - beta1) g_t
//! v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
//! theta_t = theta_{t-1} - lr_t * (m_t / (1 - beta1^t)) / (sqrt(v_t / (1 - beta2^t)) + eps)
//! ```
//!
//! `lr_t = lr * schedule.factor(t, T)` for a run of `T` steps.

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::NnError;

/// Learning-rate decay over a run of `total` steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LrSchedule {
    /// `lr_t = lr`.
    Constant,
    /// Cosine decay from `lr` to `final_fraction * lr` at the last step:
    /// `lr_t = lr (f + (1 - f)(1 + cos(pi t / T)) / 2)`.
    Cosine {
        /// Fraction `f` of `lr` left at the end, in `[0, 1]`.
        final_fraction: f64,
    },
    /// Multiply by `factor` every `every` steps: `lr_t = lr factor^floor(t / every)`.
    Step {
        /// Steps between decays, `>= 1`.
        every: usize,
        /// Decay factor in `(0, 1]`.
        factor: f64,
    },
}

impl LrSchedule {
    /// Multiplier of the base learning rate at step `step` (0-based) of `total`.
    ///
    /// ```
    /// use flowcert::nn::LrSchedule;
    /// let s = LrSchedule::Cosine { final_fraction: 0.1 };
    /// assert_eq!(s.factor(0, 100), 1.0);
    /// assert!((s.factor(100, 100) - 0.1).abs() < 1e-15);
    /// assert_eq!(LrSchedule::Step { every: 10, factor: 0.5 }.factor(25, 100), 0.25);
    /// ```
    pub fn factor(&self, step: usize, total: usize) -> f64 {
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine { final_fraction } => {
                let frac = step.min(total) as f64 / total.max(1) as f64;
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * frac).cos());
                final_fraction + (1.0 - final_fraction) * cos
            }
            LrSchedule::Step { every, factor } => {
                let k = (step / every.max(1)).min(i32::MAX as usize) as i32;
                factor.powi(k)
            }
        }
    }

    fn validate(&self) -> Result<(), NnError> {
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Cosine { final_fraction } => {
                if (0.0..=1.0).contains(&final_fraction) {
                    Ok(())
                } else {
                    Err(NnError::InvalidParameter {
                        name: "schedule.final_fraction",
                        value: final_fraction,
                        fix: "use a fraction in [0, 1], e.g. 0.01",
                    })
                }
            }
            LrSchedule::Step { every, factor } => {
                if every == 0 {
                    return Err(NnError::InvalidParameter {
                        name: "schedule.every",
                        value: 0.0,
                        fix: "use a decay period of 1 or more steps",
                    });
                }
                if !(factor > 0.0 && factor <= 1.0) {
                    return Err(NnError::InvalidParameter {
                        name: "schedule.factor",
                        value: factor,
                        fix: "use a factor in (0, 1], e.g. 0.5",
                    });
                }
                Ok(())
            }
        }
    }
}

/// Raw Adam settings; validate with [`AdamConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Base learning rate, finite and `> 0`.
    pub lr: f64,
    /// First-moment decay, in `[0, 1)`.
    pub beta1: f64,
    /// Second-moment decay, in `[0, 1)`.
    pub beta2: f64,
    /// Denominator guard, finite and `> 0`.
    pub eps: f64,
    /// Learning-rate decay.
    pub schedule: LrSchedule,
}

impl Default for AdamConfig {
    /// `lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8`, constant schedule.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: LrSchedule::Constant,
        }
    }
}

/// An [`AdamConfig`] that passed [`AdamConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidAdamConfig(AdamConfig);

impl Deref for ValidAdamConfig {
    type Target = AdamConfig;
    fn deref(&self) -> &AdamConfig {
        &self.0
    }
}

impl AdamConfig {
    /// Validate every setting.
    ///
    /// ```
    /// use flowcert::nn::AdamConfig;
    /// assert!(AdamConfig::default().check().is_ok());
    /// let bad = AdamConfig { beta2: 1.0, ..AdamConfig::default() };
    /// assert!(bad.check().unwrap_err().to_string().contains("beta2"));
    /// ```
    pub fn check(self) -> Result<ValidAdamConfig, NnError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(NnError::InvalidParameter {
                name: "lr",
                value: self.lr,
                fix: "use a finite positive learning rate, e.g. 1e-3",
            });
        }
        for (name, value) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&value) {
                return Err(NnError::InvalidParameter {
                    name,
                    value,
                    fix: "use a decay in [0, 1), e.g. 0.9 for beta1 and 0.999 for beta2",
                });
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(NnError::InvalidParameter {
                name: "eps",
                value: self.eps,
                fix: "use a small finite positive guard, e.g. 1e-8",
            });
        }
        self.schedule.validate()?;
        Ok(ValidAdamConfig(self))
    }
}

/// Adam state: first and second moments of every parameter, and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    cfg: ValidAdamConfig,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl Adam {
    /// Fresh optimizer (zero moments) for `param_count` parameters.
    ///
    /// ```
    /// use flowcert::nn::{Adam, AdamConfig};
    /// // minimise |p|^2 from p = (1, -2)
    /// let cfg = AdamConfig { lr: 0.1, ..AdamConfig::default() }.check().unwrap();
    /// let mut adam = Adam::new(2, &cfg);
    /// let mut p = [1.0, -2.0];
    /// for _ in 0..200 {
    ///     let g = [2.0 * p[0], 2.0 * p[1]];
    ///     adam.step_flat(&mut p, &g, cfg.lr);
    /// }
    /// assert!(p[0].abs() < 0.05 && p[1].abs() < 0.05);
    /// ```
    pub fn new(param_count: usize, cfg: &ValidAdamConfig) -> Self {
        Self {
            cfg: *cfg,
            m: vec![0.0; param_count],
            v: vec![0.0; param_count],
            t: 0,
        }
    }

    /// Number of steps taken so far.
    ///
    /// ```
    /// use flowcert::nn::{Adam, AdamConfig};
    /// let mut adam = Adam::new(1, &AdamConfig::default().check().unwrap());
    /// adam.step_flat(&mut [1.0], &[1.0], 1e-3);
    /// assert_eq!(adam.steps_taken(), 1);
    /// ```
    pub fn steps_taken(&self) -> u64 {
        self.t
    }

    /// Learning rate at step `step` of a `total`-step run, from the schedule.
    ///
    /// ```
    /// use flowcert::nn::{Adam, AdamConfig};
    /// let adam = Adam::new(1, &AdamConfig::default().check().unwrap());
    /// assert_eq!(adam.lr_at(5, 10), 1e-3);
    /// ```
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        self.cfg.lr * self.cfg.schedule.factor(step, total)
    }

    /// One step on a flat parameter vector with gradient `grads`.
    ///
    /// # Panics
    /// If the lengths differ from each other or exceed `param_count`.
    ///
    /// ```
    /// use flowcert::nn::{Adam, AdamConfig};
    /// let mut adam = Adam::new(2, &AdamConfig::default().check().unwrap());
    /// let mut p = [0.0, 0.0];
    /// adam.step_flat(&mut p, &[3.0, -0.5], 0.1);
    /// // the first bias-corrected step moves each coordinate by lr against its gradient sign
    /// assert!((p[0] + 0.1).abs() < 1e-6 && (p[1] - 0.1).abs() < 1e-6);
    /// ```
    pub fn step_flat(&mut self, params: &mut [f64], grads: &[f64], lr: f64) {
        self.step_with(lr, |update| update(params, grads));
    }

    /// One step on parameters stored in blocks: `visit` must call the updater
    /// once per `(parameter block, gradient block)`, always in the same order
    /// (the moments are matched to parameters by position).
    ///
    /// # Panics
    /// If the blocks add up to more than `param_count` entries, or a block's
    /// gradient has a different length than its parameters.
    ///
    /// ```
    /// use flowcert::nn::{Adam, AdamConfig};
    /// let mut adam = Adam::new(3, &AdamConfig::default().check().unwrap());
    /// let (mut a, mut b) = ([1.0, 1.0], [1.0]);
    /// adam.step_with(1e-3, |update| {
    ///     update(&mut a, &[1.0, -1.0]);
    ///     update(&mut b, &[0.0]);
    /// });
    /// assert!(a[0] < 1.0 && a[1] > 1.0 && b[0] == 1.0);
    /// ```
    pub fn step_with(&mut self, lr: f64, visit: impl FnOnce(&mut dyn FnMut(&mut [f64], &[f64]))) {
        self.t += 1;
        let (b1, b2, eps) = (self.cfg.beta1, self.cfg.beta2, self.cfg.eps);
        let t = self.t as f64;
        let step_size = lr / (1.0 - b1.powf(t));
        let inv_sqrt_bc2 = 1.0 / (1.0 - b2.powf(t)).sqrt();
        let (m, v) = (&mut self.m, &mut self.v);
        let mut offset = 0;
        let mut update = |p: &mut [f64], g: &[f64]| {
            assert_eq!(
                p.len(),
                g.len(),
                "Adam: parameter and gradient blocks differ"
            );
            let end = offset + p.len();
            assert!(end <= m.len(), "Adam: more parameters than param_count");
            let (mb, vb) = (&mut m[offset..end], &mut v[offset..end]);
            let k = Step {
                b1,
                b2,
                eps,
                step_size,
                inv_sqrt_bc2,
            };
            k.update(p, g, mb, vb);
            offset = end;
        };
        visit(&mut update);
    }
}

/// The constants of one Adam step; [`Step::update`] applies it to a block.
#[derive(Clone, Copy)]
struct Step {
    b1: f64,
    b2: f64,
    eps: f64,
    step_size: f64,
    inv_sqrt_bc2: f64,
}

impl Step {
    /// The update of the module docs on one block, vectorised as wide as the CPU
    /// allows (elementwise: `sqrt` and `/` round correctly in every width, and nothing
    /// is fused, so every width gives the same bits).
    fn update(self, p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            use super::SimdBackend;
            match SimdBackend::detect() {
                // SAFETY: the backend's features were detected on this CPU.
                SimdBackend::Avx512 => return unsafe { self.update_avx512(p, g, m, v) },
                SimdBackend::Avx2 => return unsafe { self.update_avx2(p, g, m, v) },
                _ => {}
            }
        }
        self.update_plain(p, g, m, v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn update_avx512(self, p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
        self.update_plain(p, g, m, v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn update_avx2(self, p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
        self.update_plain(p, g, m, v)
    }

    #[inline(always)]
    fn update_plain(self, p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64]) {
        let Step {
            b1,
            b2,
            eps,
            step_size,
            inv_sqrt_bc2,
        } = self;
        for (((pi, &gi), mi), vi) in p.iter_mut().zip(g).zip(m).zip(v) {
            *mi = b1 * *mi + (1.0 - b1) * gi;
            *vi = b2 * *vi + (1.0 - b2) * gi * gi;
            *pi -= step_size * *mi / (vi.sqrt() * inv_sqrt_bc2 + eps);
        }
    }
}
