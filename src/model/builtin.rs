//! The built-in suite of mixtures that `flowcert check` and `flowcert reproduce` run on.
//! Each carries what makes it a test problem: the two-mode mixtures have a tight,
//! closed-form L(t); the ring has many boundaries; `aniso8` has a shared anisotropic
//! covariance (global bounds, d = 8); `hetero3` has heterogeneous covariances (local bounds).

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::error::ModelError;
use super::mixture::{Mixture, MixtureSpec};

fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|r| m.row(r).iter().copied().collect())
        .collect()
}

fn build(weights: Vec<f64>, means: Vec<Vec<f64>>, covs: Vec<DMatrix<f64>>) -> Mixture {
    MixtureSpec {
        weights,
        means,
        covariances: covs.iter().map(rows).collect(),
    }
    .check()
    .expect("built-in mixtures are valid by construction")
}

/// A Haar-like random rotation of `R^d` (QR of a Gaussian matrix, signs fixed), from a seed.
///
/// ```
/// let q = flowcert::model::builtin::rotation(4, 1);
/// assert!((q.transpose() * &q - nalgebra::DMatrix::<f64>::identity(4, 4)).norm() < 1e-12);
/// ```
pub fn rotation(d: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g = DMatrix::from_fn(d, d, |_, _| StandardNormal.sample(&mut rng));
    let qr = g.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..d {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

/// `Q diag(spectrum) Q^T`, symmetrised exactly.
///
/// ```
/// let c = flowcert::model::builtin::rotated_covariance(&[1.0, 2.0], 3);
/// assert!((c.trace() - 3.0).abs() < 1e-12);
/// ```
pub fn rotated_covariance(spectrum: &[f64], seed: u64) -> DMatrix<f64> {
    let q = rotation(spectrum.len(), seed);
    let c = &q * DMatrix::from_diagonal(&DVector::from_column_slice(spectrum)) * q.transpose();
    (&c + c.transpose()) * 0.5
}

/// Two equal-weight isotropic modes in 2-D at `(-1.5, 0)` and `(1.5, 0)` (means 3 apart),
/// covariance `sigma0^2 I`.
///
/// ```
/// assert_eq!(flowcert::model::builtin::two_mode(0.05).n_components(), 2);
/// ```
pub fn two_mode(sigma0: f64) -> Mixture {
    let c = DMatrix::identity(2, 2) * (sigma0 * sigma0);
    build(
        vec![0.5, 0.5],
        vec![vec![-1.5, 0.0], vec![1.5, 0.0]],
        vec![c.clone(), c],
    )
}

/// `k` equal-weight isotropic modes on a circle of the given radius in 2-D.
///
/// ```
/// assert_eq!(flowcert::model::builtin::ring(8, 3.0, 0.1).n_components(), 8);
/// ```
pub fn ring(k: usize, radius: f64, sigma0: f64) -> Mixture {
    let means = (0..k)
        .map(|i| {
            let a = 2.0 * std::f64::consts::PI * i as f64 / k as f64;
            vec![radius * a.cos(), radius * a.sin()]
        })
        .collect();
    let c = DMatrix::identity(2, 2) * (sigma0 * sigma0);
    build(vec![1.0 / k as f64; k], means, vec![c; k])
}

/// Three modes in `R^8` sharing one anisotropic covariance with spectrum
/// geometric from 0.02 to 1, in a fixed random basis.
///
/// ```
/// let m = flowcert::model::builtin::aniso8();
/// assert!(m.has_shared_covariance() && m.dim() == 8);
/// ```
pub fn aniso8() -> Mixture {
    let d = 8;
    let spectrum: Vec<f64> = (0..d)
        .map(|i| 0.02 * 50f64.powf(i as f64 / (d - 1) as f64))
        .collect();
    let cov = rotated_covariance(&spectrum, 8);
    let mut rng = ChaCha8Rng::seed_from_u64(88);
    let means = (0..3)
        .map(|_| {
            let v = DVector::<f64>::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
            (v.normalize() * 2.0).iter().copied().collect()
        })
        .collect();
    build(
        vec![0.3, 0.3, 0.4],
        means,
        vec![cov.clone(), cov.clone(), cov],
    )
}

/// Three modes in `R^3` with heterogeneous (rotated, anisotropic) covariances.
///
/// ```
/// assert!(!flowcert::model::builtin::hetero3().has_shared_covariance());
/// ```
pub fn hetero3() -> Mixture {
    build(
        vec![0.3, 0.3, 0.4],
        vec![
            vec![2.0, 0.0, 0.0],
            vec![-1.0, 1.5, 0.0],
            vec![0.0, -1.5, 1.0],
        ],
        vec![
            rotated_covariance(&[0.05, 0.2, 0.5], 31),
            DMatrix::identity(3, 3) * 0.01,
            rotated_covariance(&[1.0, 0.1, 0.02], 33),
        ],
    )
}

/// A built-in mixture, by name: `two-mode-s0.05`, `two-mode-s0.1`, `two-mode-s0.3`
/// ([`two_mode`]), `ring8` ([`ring`] of 8 modes, radius 3, sigma0 0.1), `aniso8`
/// ([`aniso8`]) and `hetero3` ([`hetero3`]). `builtin:NAME` on the command line.
///
/// ```
/// use flowcert::model::builtin::Builtin;
/// let b: Builtin = "ring8".parse().unwrap();
/// assert_eq!((b, b.name(), b.mixture().n_components()), (Builtin::Ring8, "ring8", 8));
/// let e = "nope".parse::<Builtin>().unwrap_err().to_string();
/// assert!(e.contains("unknown built-in mixture 'nope'") && e.contains("hetero3"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Builtin {
    /// Two isotropic modes 3 apart, sigma0 = 0.05.
    TwoModeS005,
    /// Two isotropic modes 3 apart, sigma0 = 0.1.
    TwoModeS01,
    /// Two isotropic modes 3 apart, sigma0 = 0.3.
    TwoModeS03,
    /// Eight modes on a circle of radius 3, sigma0 = 0.1.
    Ring8,
    /// Three modes in `R^8` with a shared anisotropic covariance.
    Aniso8,
    /// Three modes in `R^3` with heterogeneous covariances.
    Hetero3,
}

impl Builtin {
    /// The whole suite, in report order.
    pub const ALL: [Builtin; 6] = [
        Builtin::TwoModeS005,
        Builtin::TwoModeS01,
        Builtin::TwoModeS03,
        Builtin::Ring8,
        Builtin::Aniso8,
        Builtin::Hetero3,
    ];

    /// The name (`builtin:NAME` on the command line, the label in reports).
    pub fn name(self) -> &'static str {
        match self {
            Builtin::TwoModeS005 => "two-mode-s0.05",
            Builtin::TwoModeS01 => "two-mode-s0.1",
            Builtin::TwoModeS03 => "two-mode-s0.3",
            Builtin::Ring8 => "ring8",
            Builtin::Aniso8 => "aniso8",
            Builtin::Hetero3 => "hetero3",
        }
    }

    /// The mixture.
    pub fn mixture(self) -> Mixture {
        match self {
            Builtin::TwoModeS005 => two_mode(0.05),
            Builtin::TwoModeS01 => two_mode(0.1),
            Builtin::TwoModeS03 => two_mode(0.3),
            Builtin::Ring8 => ring(8, 3.0, 0.1),
            Builtin::Aniso8 => aniso8(),
            Builtin::Hetero3 => hetero3(),
        }
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Builtin {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        Builtin::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| ModelError::UnknownBuiltin {
                given: s.to_string(),
                valid: Builtin::ALL.map(Builtin::name).join(", "),
            })
    }
}

impl From<Builtin> for String {
    fn from(b: Builtin) -> String {
        b.name().to_string()
    }
}

impl TryFrom<String> for Builtin {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        s.parse()
    }
}

/// The whole suite as `(name, mixture)` pairs, in report order.
///
/// ```
/// assert_eq!(flowcert::model::builtin::suite().len(), flowcert::model::builtin::Builtin::ALL.len());
/// ```
pub fn suite() -> Vec<(&'static str, Mixture)> {
    Builtin::ALL.map(|b| (b.name(), b.mixture())).to_vec()
}
