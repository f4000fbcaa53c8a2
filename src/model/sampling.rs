//! Exact sampling from the marginal `p_t` of the mixture's path (theory/01-model.md,
//! theory/07-gaussian-paths.md):
//!
//! ```text
//! k ~ Categorical(pi),  z ~ N(0, I_d),  x = alpha_t mu_k + Q_k diag(sqrt(alpha_t^2 lambda_k + sigma_t^2)) z
//! ```
//! valid at every time of the closure of the path's domain (at `t = 0` it samples the data
//! law, singular covariances included; where `alpha = 0` it samples `N(0, sigma^2 I)`).

use nalgebra::DMatrix;
use rand::Rng;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::mixture::Mixture;

impl Mixture {
    /// `n` exact samples of `p_t` as the columns of a d x n matrix, with their component labels.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    /// let (xs, labels) = mix.sample_labelled(0.5, 10, &mut rng);
    /// assert_eq!((xs.ncols(), labels.len()), (10, 10));
    /// ```
    pub fn sample_labelled<R: Rng + ?Sized>(
        &self,
        t: f64,
        n: usize,
        rng: &mut R,
    ) -> (DMatrix<f64>, Vec<usize>) {
        let d = self.dim();
        let c = self.coeffs(t.max(0.0));
        let mut cdf = Vec::with_capacity(self.n_components());
        let mut acc = 0.0;
        for comp in self.components() {
            acc += comp.weight;
            cdf.push(acc);
        }
        let mut out = DMatrix::zeros(d, n);
        let mut labels = Vec::with_capacity(n);
        let mut z = vec![0.0; d];
        for col in 0..n {
            let u: f64 = rng.random::<f64>() * acc;
            let k = cdf.iter().position(|&v| u < v).unwrap_or(cdf.len() - 1);
            let comp = &self.components()[k];
            for (j, zj) in z.iter_mut().enumerate() {
                let g: f64 = rng.sample(StandardNormal);
                *zj = g * (c.alpha2 * comp.eigvals[j] + c.sigma2).sqrt();
            }
            let q = comp.eigvecs.as_slice();
            let mut x = out.column_mut(col);
            for i in 0..d {
                let mut v = c.alpha * comp.mean[i];
                for (j, zj) in z.iter().enumerate() {
                    v += q[j * d + i] * zj;
                }
                x[i] = v;
            }
            labels.push(k);
        }
        (out, labels)
    }

    /// `n` exact samples of `p_t` as the columns of a d x n matrix.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    /// assert_eq!(mix.sample(1.0, 5, &mut rng).shape(), (2, 5));
    /// ```
    pub fn sample<R: Rng + ?Sized>(&self, t: f64, n: usize, rng: &mut R) -> DMatrix<f64> {
        self.sample_labelled(t, n, rng).0
    }

    /// Exact mean of `p_t`: `alpha_t sum_k pi_k mu_k`.
    ///
    /// ```
    /// let m = flowcert::model::builtin::two_mode(0.1).moment_mean(0.3);
    /// assert!(m.norm() < 1e-15);
    /// ```
    pub fn moment_mean(&self, t: f64) -> nalgebra::DVector<f64> {
        let c = self.coeffs(t);
        let mut m = nalgebra::DVector::zeros(self.dim());
        for comp in self.components() {
            m += &comp.mean * (comp.weight * c.alpha);
        }
        m
    }

    /// Exact covariance of `p_t`: `sum_k pi_k (S_k + m_k m_k^T) - m m^T`.
    ///
    /// ```
    /// let c = flowcert::model::builtin::two_mode(0.1).moment_covariance(0.0);
    /// assert!((c[(0, 0)] - (0.01 + 2.25)).abs() < 1e-12);
    /// ```
    pub fn moment_covariance(&self, t: f64) -> DMatrix<f64> {
        let c = self.coeffs(t);
        let d = self.dim();
        let mean = self.moment_mean(t);
        let mut cov = DMatrix::zeros(d, d);
        for comp in self.components() {
            let m = &comp.mean * c.alpha;
            let s = &comp.cov * c.alpha2 + DMatrix::identity(d, d) * c.sigma2;
            cov += (s + &m * m.transpose()) * comp.weight;
        }
        cov - &mean * mean.transpose()
    }
}
