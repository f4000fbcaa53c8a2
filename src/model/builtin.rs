//! The built-in suite of mixtures that `flowcert check` and `flowcert reproduce` run on.
//! Each carries what makes it a test problem: the two-mode mixtures have a tight,
//! closed-form L(t); the ring has many boundaries; `aniso8` has a shared anisotropic
//! covariance (global bounds, d = 8); `hetero3` has heterogeneous covariances (local bounds).

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

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

/// The names of the built-in suite, in report order.
pub const SUITE: [&str; 6] = [
    "two-mode-s0.05",
    "two-mode-s0.1",
    "two-mode-s0.3",
    "ring8",
    "aniso8",
    "hetero3",
];

/// A built-in mixture by name (see [`SUITE`]).
///
/// ```
/// assert!(flowcert::model::builtin::by_name("ring8").is_some());
/// assert!(flowcert::model::builtin::by_name("nope").is_none());
/// ```
pub fn by_name(name: &str) -> Option<Mixture> {
    Some(match name {
        "two-mode-s0.05" => two_mode(0.05),
        "two-mode-s0.1" => two_mode(0.1),
        "two-mode-s0.3" => two_mode(0.3),
        "ring8" => ring(8, 3.0, 0.1),
        "aniso8" => aniso8(),
        "hetero3" => hetero3(),
        _ => return None,
    })
}

/// The whole suite as `(name, mixture)` pairs.
///
/// ```
/// assert_eq!(flowcert::model::builtin::suite().len(), flowcert::model::builtin::SUITE.len());
/// ```
pub fn suite() -> Vec<(&'static str, Mixture)> {
    SUITE
        .iter()
        .map(|&n| (n, by_name(n).expect("suite names resolve")))
        .collect()
}
