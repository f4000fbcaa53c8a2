//! The Gaussian-mixture data law `p_0 = sum_k pi_k N(mu_k, Sigma_k)` (theory/01-model.md).
//!
//! A [`MixtureSpec`] is the raw, serde-readable form (the JSON of the CLI contract);
//! [`MixtureSpec::check`] validates it once and returns a [`Mixture`], which the
//! numerical core trusts without re-checking. Each covariance is stored with its
//! eigendecomposition `Sigma_k = Q_k diag(lambda_k) Q_k^T`, so that at any time
//!
//! ```text
//! S_k(t) = Q_k diag(alpha_t^2 lambda_k + sigma_t^2) Q_k^T
//! ```
//! is inverted, and its log-determinant taken, in O(d) after one rotation.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::error::ModelError;
use super::process::{PathCoeffs, Process};
use crate::{limits, tolerance};

/// Raw mixture description, as in the JSON mixture file of the CLI contract.
///
/// ```
/// use flowcert::model::MixtureSpec;
/// let spec: MixtureSpec = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[[[0.1]],[[0.1]]]}"#,
/// ).unwrap();
/// let mix = spec.check().unwrap();
/// assert_eq!((mix.dim(), mix.n_components()), (1, 2));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureSpec {
    /// Mixture weights `pi_k > 0`, summing to 1.
    pub weights: Vec<f64>,
    /// Means `mu_k`, each of length d.
    pub means: Vec<Vec<f64>>,
    /// Covariances `Sigma_k`, each d x d (rows), symmetric PSD.
    pub covariances: Vec<Vec<Vec<f64>>>,
}

/// One validated component with its eigendecomposition.
#[derive(Debug, Clone)]
pub struct Component {
    /// `pi_k`.
    pub weight: f64,
    /// `ln pi_k`.
    pub log_weight: f64,
    /// `mu_k`.
    pub mean: DVector<f64>,
    /// `Sigma_k` (exactly symmetrised).
    pub cov: DMatrix<f64>,
    /// Eigenvalues `lambda_k` of `Sigma_k` (clamped at 0).
    pub eigvals: Vec<f64>,
    /// Orthonormal eigenvectors `Q_k`, column-major (column j pairs with `eigvals[j]`).
    pub eigvecs: DMatrix<f64>,
    /// `Q_k^T mu_k`: the mean in the eigenbasis.
    pub mean_rot: Vec<f64>,
}

impl Component {
    /// Eigenvalues of `S_k(t)^{-1}` are `1 / (alpha^2 lambda_j + sigma^2)`; this returns
    /// `(min_j, max_j)` of `alpha^2 lambda_j + sigma^2`, the spectrum range of `S_k(t)`.
    pub fn s_range(&self, alpha2: f64, sigma2: f64) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = 0.0f64;
        for &l in &self.eigvals {
            let s = alpha2 * l + sigma2;
            lo = lo.min(s);
            hi = hi.max(s);
        }
        (lo, hi)
    }

    /// `ln pi_k + ln N(x; alpha_t mu_k, S_k(t))` up to the constant `-(d/2) ln 2 pi` shared by
    /// every component, with `S_k(t) = alpha_t^2 Sigma_k + sigma_t^2 I` (theory/01-model.md):
    ///
    /// ```text
    /// ln pi_k - 1/2 sum_j [ (q_j . x - alpha mu_rot_j)^2 / s_j + ln s_j ],   s_j = alpha^2 lambda_j + sigma^2
    /// ```
    /// The component with the largest value at `x` is the dominant one there; two
    /// components with equal values meet on the boundary between their modes.
    ///
    /// ```
    /// use flowcert::model::builtin;
    /// let mix = builtin::two_mode(0.1);
    /// let co = mix.coeffs(0.5);
    /// let origin = nalgebra::DVector::zeros(2);
    /// let (a, b) = (mix.components()[0].log_joint(&co, &origin), mix.components()[1].log_joint(&co, &origin));
    /// assert!((a - b).abs() < 1e-12); // the origin is on the boundary of the two modes
    /// ```
    pub fn log_joint(&self, co: &PathCoeffs, x: &DVector<f64>) -> f64 {
        let mut acc = self.log_weight;
        for (j, &l) in self.eigvals.iter().enumerate() {
            let s = co.alpha2 * l + co.sigma2;
            let z = self.eigvecs.column(j).dot(x) - co.alpha * self.mean_rot[j];
            acc -= 0.5 * (z * z / s + s.ln());
        }
        acc
    }

    /// `S_k(t)^{-1} = Q diag(1/(alpha^2 lambda + sigma^2)) Q^T` as a dense matrix.
    pub fn s_inverse(&self, alpha2: f64, sigma2: f64) -> DMatrix<f64> {
        let d = self.mean.len();
        let mut out = DMatrix::zeros(d, d);
        for (j, &l) in self.eigvals.iter().enumerate() {
            let w = 1.0 / (alpha2 * l + sigma2);
            let q = self.eigvecs.column(j);
            for c in 0..d {
                let qc = w * q[c];
                for r in 0..d {
                    out[(r, c)] += q[r] * qc;
                }
            }
        }
        out
    }
}

/// A validated Gaussian mixture in `R^d`, with the Gaussian path that noises it
/// (theory/07-gaussian-paths.md; the OU path of theory/01 unless [`Mixture::with_process`]
/// says otherwise): `p_t` is the law of `alpha_t x_0 + sigma_t z`, `x_0 ~` the mixture.
#[derive(Debug, Clone)]
pub struct Mixture {
    dim: usize,
    components: Vec<Component>,
    shared_cov: bool,
    levels: EigenLevels,
    process: Process,
}

/// The distinct covariance eigenvalues of a mixture: `values[index[k * d + j]]` is
/// `lambda_{k,j}`. Built once at validation so that moving `p_t` to a new time takes one
/// logarithm and one division per distinct eigenvalue (one in all for `sigma0^2 I`
/// covariances) instead of `K d` of each.
#[derive(Debug, Clone)]
pub(crate) struct EigenLevels {
    pub(crate) values: Vec<f64>,
    pub(crate) index: Vec<usize>,
}

impl EigenLevels {
    fn of(components: &[Component]) -> Self {
        let all: Vec<f64> = components
            .iter()
            .flat_map(|c| c.eigvals.iter().copied())
            .collect();
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by(|&a, &b| all[a].total_cmp(&all[b]));
        let mut values: Vec<f64> = Vec::new();
        let mut index = vec![0; all.len()];
        for &i in &order {
            // Equal values give bitwise-equal `alpha^2 l + sigma^2`, so sharing is exact.
            if values.last() != Some(&all[i]) {
                values.push(all[i]);
            }
            index[i] = values.len() - 1;
        }
        EigenLevels { values, index }
    }
}

fn check_finite(field: impl FnOnce() -> String, v: f64) -> Result<(), ModelError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ModelError::NonFinite {
            field: field(),
            value: v,
        })
    }
}

fn check_magnitude(field: impl FnOnce() -> String, v: f64, limit: f64) -> Result<(), ModelError> {
    if v.abs() <= limit {
        Ok(())
    } else {
        Err(ModelError::OutOfRange {
            field: field(),
            value: v,
            limit,
        })
    }
}

impl MixtureSpec {
    /// Parse the JSON mixture format.
    ///
    /// ```
    /// let e = flowcert::model::MixtureSpec::from_json("{").unwrap_err();
    /// assert!(e.to_string().contains("malformed"));
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        serde_json::from_str(text)
            .map_err(|e| ModelError::Json(crate::limits::json_error(text, &e)))
    }

    /// Validate: non-empty, consistent dimensions, finite numbers, positive weights
    /// summing to 1 within [`tolerance::WEIGHT_SUM`], symmetric PSD covariances; sizes
    /// within [`limits::MAX_COMPONENTS`], [`limits::MAX_DIM`] and
    /// [`limits::MAX_MIXTURE_ENTRIES`], means within [`limits::MAX_ABS_COORDINATE`] and
    /// covariance eigenvalues within [`limits::MAX_VARIANCE`] (beyond them f64 arithmetic
    /// of the model loses its significant digits).
    ///
    /// ```
    /// use flowcert::model::MixtureSpec;
    /// let bad = MixtureSpec { weights: vec![0.7], means: vec![vec![0.0]], covariances: vec![vec![vec![1.0]]] };
    /// assert!(bad.check().unwrap_err().to_string().contains("sum to"));
    /// ```
    pub fn check(&self) -> Result<Mixture, ModelError> {
        let k = self.weights.len();
        if k == 0 {
            return Err(ModelError::Empty);
        }
        for (field, got) in [
            ("means", self.means.len()),
            ("covariances", self.covariances.len()),
        ] {
            if got != k {
                return Err(ModelError::CountMismatch {
                    field,
                    got,
                    expected: k,
                });
            }
        }
        let d = self.means[0].len();
        if d == 0 {
            return Err(ModelError::ZeroDimension);
        }
        let entries = k.checked_mul(d).and_then(|v| v.checked_mul(d));
        for (what, value, limit) in [
            ("components K", k, limits::MAX_COMPONENTS),
            ("dimension d (the length of means[0])", d, limits::MAX_DIM),
            (
                "covariance entries K d^2",
                entries.unwrap_or(usize::MAX),
                limits::MAX_MIXTURE_ENTRIES,
            ),
        ] {
            if value > limit {
                return Err(ModelError::TooLarge { what, value, limit });
            }
        }
        for (i, &w) in self.weights.iter().enumerate() {
            check_finite(|| format!("weights[{i}]"), w)?;
            if w <= 0.0 {
                return Err(ModelError::NonPositiveWeight { index: i, value: w });
            }
        }
        let sum: f64 = self.weights.iter().sum();
        if (sum - 1.0).abs() > tolerance::WEIGHT_SUM {
            return Err(ModelError::WeightSum {
                sum,
                tol: tolerance::WEIGHT_SUM,
            });
        }
        let mut components = Vec::with_capacity(k);
        for idx in 0..k {
            let mean = &self.means[idx];
            if mean.len() != d {
                return Err(ModelError::DimensionMismatch {
                    field: format!("means[{idx}]"),
                    got: mean.len(),
                    expected: d,
                });
            }
            for (i, &v) in mean.iter().enumerate() {
                check_finite(|| format!("means[{idx}][{i}]"), v)?;
                check_magnitude(
                    || format!("means[{idx}][{i}]"),
                    v,
                    limits::MAX_ABS_COORDINATE,
                )?;
            }
            let cov = &self.covariances[idx];
            if cov.len() != d {
                return Err(ModelError::DimensionMismatch {
                    field: format!("covariances[{idx}]"),
                    got: cov.len(),
                    expected: d,
                });
            }
            for (r, row) in cov.iter().enumerate() {
                if row.len() != d {
                    return Err(ModelError::DimensionMismatch {
                        field: format!("covariances[{idx}][{r}]"),
                        got: row.len(),
                        expected: d,
                    });
                }
                for (c, &v) in row.iter().enumerate() {
                    check_finite(|| format!("covariances[{idx}][{r}][{c}]"), v)?;
                    check_magnitude(
                        || format!("covariances[{idx}][{r}][{c}]"),
                        v,
                        limits::MAX_VARIANCE,
                    )?;
                }
            }
            let m = DMatrix::from_fn(d, d, |r, c| cov[r][c]);
            components.push(build_component(idx, self.weights[idx], mean, m)?);
        }
        let shared_cov = components.iter().all(|c| c.cov == components[0].cov);
        let levels = EigenLevels::of(&components);
        Ok(Mixture {
            dim: d,
            components,
            shared_cov,
            levels,
            process: Process::default(),
        })
    }
}

fn build_component(
    idx: usize,
    weight: f64,
    mean: &[f64],
    m: DMatrix<f64>,
) -> Result<Component, ModelError> {
    let d = m.nrows();
    let scale = m
        .iter()
        .fold(0.0f64, |a, v| a.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let (mut worst, mut wi, mut wj) = (0.0f64, 0, 0);
    for i in 0..d {
        for j in (i + 1)..d {
            let diff = (m[(i, j)] - m[(j, i)]).abs();
            if diff > worst {
                (worst, wi, wj) = (diff, i, j);
            }
        }
    }
    if worst > tolerance::SYMMETRY_REL * scale {
        return Err(ModelError::Asymmetric {
            index: idx,
            i: wi,
            j: wj,
            diff: worst,
        });
    }
    let cov = (&m + m.transpose()) * 0.5;
    let eig = SymmetricEigen::new(cov.clone());
    let min_eig = eig
        .eigenvalues
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let max_eig = eig.eigenvalues.iter().cloned().fold(0.0f64, f64::max);
    if max_eig > limits::MAX_VARIANCE {
        return Err(ModelError::OutOfRange {
            field: format!("covariances[{idx}] (largest eigenvalue)"),
            value: max_eig,
            limit: limits::MAX_VARIANCE,
        });
    }
    if min_eig < -tolerance::PSD_REL * max_eig.max(1.0) {
        return Err(ModelError::NotPsd {
            index: idx,
            min_eigenvalue: min_eig,
        });
    }
    let eigvals: Vec<f64> = eig.eigenvalues.iter().map(|&l| l.max(0.0)).collect();
    let eigvecs = eig.eigenvectors;
    let mean = DVector::from_column_slice(mean);
    let mean_rot = (0..d).map(|j| eigvecs.column(j).dot(&mean)).collect();
    Ok(Component {
        weight,
        log_weight: weight.ln(),
        mean,
        cov,
        eigvals,
        eigvecs,
        mean_rot,
    })
}

impl Mixture {
    /// The dimension `d`.
    ///
    /// ```
    /// assert_eq!(flowcert::model::builtin::two_mode(0.1).dim(), 2);
    /// ```
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of components `K`.
    ///
    /// ```
    /// assert_eq!(flowcert::model::builtin::two_mode(0.1).n_components(), 2);
    /// ```
    pub fn n_components(&self) -> usize {
        self.components.len()
    }

    /// The validated components.
    ///
    /// ```
    /// let m = flowcert::model::builtin::two_mode(0.1);
    /// assert!((m.components()[0].weight - 0.5).abs() < 1e-15);
    /// ```
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The distinct covariance eigenvalues (for the time-dependent factors of `p_t`).
    pub(crate) fn eigen_levels(&self) -> &EigenLevels {
        &self.levels
    }

    /// True when every component has the same covariance (the global-bound case).
    ///
    /// ```
    /// assert!(flowcert::model::builtin::two_mode(0.1).has_shared_covariance());
    /// ```
    pub fn has_shared_covariance(&self) -> bool {
        self.shared_cov
    }

    /// `Some(sigma0^2)` when every covariance equals `sigma0^2 I`.
    ///
    /// ```
    /// let v = flowcert::model::builtin::two_mode(0.1).isotropic_variance().unwrap();
    /// assert!((v - 0.01).abs() < 1e-15);
    /// ```
    pub fn isotropic_variance(&self) -> Option<f64> {
        if !self.shared_cov {
            return None;
        }
        let c = &self.components[0].cov;
        let v = c[(0, 0)];
        let iso =
            (0..self.dim).all(|i| (0..self.dim).all(|j| c[(i, j)] == if i == j { v } else { 0.0 }));
        iso.then_some(v)
    }

    /// Largest distance between two means, `D = max_{j,k} |mu_j - mu_k|`.
    ///
    /// ```
    /// assert!((flowcert::model::builtin::two_mode(0.1).mean_diameter() - 3.0).abs() < 1e-12);
    /// ```
    pub fn mean_diameter(&self) -> f64 {
        let mut dmax = 0.0f64;
        for a in &self.components {
            for b in &self.components {
                dmax = dmax.max((&a.mean - &b.mean).norm());
            }
        }
        dmax
    }

    /// Back to the raw form (round-trips through [`MixtureSpec::check`]).
    ///
    /// ```
    /// let m = flowcert::model::builtin::two_mode(0.3);
    /// let again = m.to_spec().check().unwrap();
    /// assert_eq!(again.dim(), 2);
    /// ```
    pub fn to_spec(&self) -> MixtureSpec {
        MixtureSpec {
            weights: self.components.iter().map(|c| c.weight).collect(),
            means: self
                .components
                .iter()
                .map(|c| c.mean.iter().copied().collect())
                .collect(),
            covariances: self
                .components
                .iter()
                .map(|c| {
                    (0..self.dim)
                        .map(|r| c.cov.row(r).iter().copied().collect())
                        .collect()
                })
                .collect(),
        }
    }

    /// The Gaussian path that noises the mixture (OU unless set).
    ///
    /// ```
    /// assert!(flowcert::model::builtin::two_mode(0.1).process().is_ou());
    /// ```
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// The same data law noised by another path.
    ///
    /// ```
    /// use flowcert::model::process::ProcessSpec;
    /// let rf = ProcessSpec::named("rectified").check().unwrap();
    /// let mix = flowcert::model::builtin::two_mode(0.1).with_process(rf);
    /// assert_eq!(mix.coeffs(0.25).alpha, 0.75);
    /// assert!(mix.check_path_time("t", 1.0).is_err());
    /// ```
    pub fn with_process(mut self, process: Process) -> Mixture {
        self.process = process;
        self
    }

    /// The path's coefficients at `t` (not checked).
    #[inline]
    pub fn coeffs(&self, t: f64) -> PathCoeffs {
        self.process.coeffs(t)
    }

    /// Check that `t` is a time of the path's marginal domain (for OU: finite and > 0, as
    /// [`Mixture::check_time`]); `field` names it in the error, with the valid range.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// assert!(mix.check_path_time("t", 0.0).is_err() && mix.check_path_time("t", 7.0).is_ok());
    /// ```
    pub fn check_path_time(&self, field: &str, t: f64) -> Result<f64, ModelError> {
        self.process.check_time(field, t)
    }

    /// Check that an OU time is admissible (finite, > 0); `field` names it in the error.
    /// For a mixture on another path use [`Mixture::check_path_time`].
    ///
    /// ```
    /// assert!(flowcert::model::Mixture::check_time("t", 0.0).is_err());
    /// ```
    pub fn check_time(field: &str, t: f64) -> Result<f64, ModelError> {
        if t.is_finite() && t > 0.0 {
            Ok(t)
        } else {
            Err(ModelError::BadTime {
                field: field.to_string(),
                value: t,
            })
        }
    }

    /// Check that a point has dimension d and finite entries.
    ///
    /// ```
    /// let m = flowcert::model::builtin::two_mode(0.1);
    /// assert!(m.check_point("points[0]", &[1.0]).is_err());
    /// ```
    pub fn check_point(&self, field: &str, x: &[f64]) -> Result<(), ModelError> {
        if x.len() != self.dim {
            return Err(ModelError::PointDimension {
                field: field.to_string(),
                got: x.len(),
                expected: self.dim,
            });
        }
        for (i, &v) in x.iter().enumerate() {
            check_finite(|| format!("{field}[{i}]"), v)?;
        }
        Ok(())
    }
}
