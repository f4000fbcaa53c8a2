//! An independent high-precision evaluation of the velocity Jacobian `J(x, t)` of a
//! Gaussian-mixture OU marginal, straight from the definitions of theory/01-model.md,
//! in [`PREC`]-bit arithmetic ([`Big`]):
//!
//! ```text
//! alpha = e^{-t},  sigma^2 = 1 - alpha^2,  S_k = alpha^2 Sigma_k + sigma^2 I  (inverted by Gauss-Jordan)
//! r_k  ∝ pi_k det(S_k)^{-1/2} exp(-(x - alpha mu_k)^T S_k^{-1} (x - alpha mu_k) / 2)
//! s_k  = -S_k^{-1} (x - alpha mu_k),   s = sum r_k s_k
//! H    = -sum r_k S_k^{-1} + sum r_k (s_k - s)(s_k - s)^T,   J = -I - H
//! ```
//! evaluated *naively*: the precision, not a rewriting, absorbs the cancellation of
//! `-I - H` at large `t` (480 bits against the 144 lost at `t = 50`). It takes the raw
//! [`MixtureSpec`] numbers and shares no code with `flowcert`'s model or bounds.
//!
//! Norms: for a symmetric `J` and any `v != 0`, `|v^T J v| / |v|^2 <= ||J||` and
//! `-v^T J v / |v|^2 <= lambda_max(-J)`. The Rayleigh quotients at the extreme
//! eigenvectors of `J` rounded to doubles are therefore rigorous lower bounds on
//! `||J||` and `lambda_max(-J)` and, since the quotient's error is quadratic in the
//! eigenvector's, equal to them to ~`1e-30` relative.

#![allow(dead_code)]

pub mod bigfloat;

pub use bigfloat::Big;
use flowcert::model::MixtureSpec;
use nalgebra::{DMatrix, SymmetricEigen};

/// `(alpha_t, alpha_t^2, sigma_t^2)` in high precision.
pub fn ou(t: f64) -> (Big, Big, Big) {
    let alpha = Big::from_f64(-t).exp();
    let alpha2 = alpha.mul(&alpha);
    let sigma2 = Big::from_i64(1).sub(&alpha2);
    (alpha, alpha2, sigma2)
}

/// The coefficients of a Gaussian path at one time in high precision, straight from the
/// table of theory/07-gaussian-paths.md (`alpha`, `sigma^2`, `f = alpha'/alpha`,
/// `h = g^2/2 = sigma sigma' - f sigma^2`), sharing no code with `flowcert::model::process`.
#[derive(Clone, Debug)]
pub struct PathBig {
    pub alpha: Big,
    pub alpha2: Big,
    pub sigma2: Big,
    pub f: Big,
    pub h: Big,
}

/// [`PathBig`] of a built-in path by name with its default parameters (`s` is the double
/// offset of `vp-cosine`, as the implementation takes it).
pub fn path(name: &str, t: f64) -> PathBig {
    let one = Big::from_i64(1);
    let tb = Big::from_f64(t);
    match name {
        "ou" => {
            let (alpha, alpha2, sigma2) = ou(t);
            PathBig {
                alpha,
                alpha2,
                sigma2,
                f: one.neg(),
                h: one,
            }
        }
        "vp-linear" => {
            let (b0, b1) = (Big::from_f64(0.1), Big::from_f64(20.0));
            let slope = b1.sub(&b0);
            let big_b = b0.mul(&tb).add(&slope.mul(&tb).mul(&tb).mul_f(0.5));
            let beta = b0.add(&slope.mul(&tb));
            let alpha = big_b.mul_f(-0.5).exp();
            let alpha2 = alpha.mul(&alpha);
            PathBig {
                alpha,
                sigma2: one.sub(&alpha2),
                alpha2,
                f: beta.mul_f(-0.5),
                h: beta.mul_f(0.5),
            }
        }
        "vp-cosine" => {
            let s = Big::from_f64(0.008);
            let w = Big::pi().mul_f(0.5).div(&one.add(&s));
            let (sin, cos) = w.mul(&tb.add(&s)).sin_cos();
            let (_, cos0) = w.mul(&s).sin_cos();
            let alpha = cos.div(&cos0);
            let alpha2 = alpha.mul(&alpha);
            // f = d ln alpha / dt = -w tan theta; g^2 = -2 f on a variance-preserving path.
            let f = w.mul(&sin).div(&cos).neg();
            PathBig {
                alpha,
                sigma2: one.sub(&alpha2),
                alpha2,
                h: f.neg(),
                f,
            }
        }
        "edm" => PathBig {
            alpha: one.clone(),
            alpha2: one,
            sigma2: tb.mul(&tb),
            f: Big::zero(),
            h: tb,
        },
        "rectified" => {
            let alpha = one.sub(&tb);
            let f = one.div(&alpha).neg();
            // h = sigma sigma' - f sigma^2 = t + t^2 / (1 - t).
            let h = tb.add(&tb.mul(&tb).div(&alpha));
            PathBig {
                alpha2: alpha.mul(&alpha),
                alpha,
                sigma2: tb.mul(&tb),
                f,
                h,
            }
        }
        other => panic!("no reference for path {other}"),
    }
}

/// Inverse and determinant of a symmetric positive definite matrix (Gauss-Jordan).
fn inverse_det(a: &[Vec<Big>]) -> (Vec<Vec<Big>>, Big) {
    let d = a.len();
    let mut m: Vec<Vec<Big>> = a.to_vec();
    let mut inv: Vec<Vec<Big>> = (0..d)
        .map(|r| (0..d).map(|c| Big::from_i64(i64::from(r == c))).collect())
        .collect();
    let mut det = Big::from_i64(1);
    for p in 0..d {
        let piv = m[p][p].clone();
        assert!(
            !piv.is_zero() && !piv.is_negative(),
            "S_k not positive definite"
        );
        det = det.mul(&piv);
        for c in 0..d {
            m[p][c] = m[p][c].div(&piv);
            inv[p][c] = inv[p][c].div(&piv);
        }
        for r in 0..d {
            if r == p {
                continue;
            }
            let f = m[r][p].clone();
            if f.is_zero() {
                continue;
            }
            for c in 0..d {
                let mv = m[p][c].mul(&f);
                m[r][c] = m[r][c].sub(&mv);
                let iv = inv[p][c].mul(&f);
                inv[r][c] = inv[r][c].sub(&iv);
            }
        }
    }
    (inv, det)
}

fn mat_vec(m: &[Vec<Big>], v: &[Big]) -> Vec<Big> {
    m.iter()
        .map(|row| {
            row.iter()
                .zip(v)
                .fold(Big::zero(), |acc, (a, b)| acc.add(&a.mul(b)))
        })
        .collect()
}

fn dot(a: &[Big], b: &[Big]) -> Big {
    a.iter()
        .zip(b)
        .fold(Big::zero(), |acc, (u, v)| acc.add(&u.mul(v)))
}

/// `J(x, t) = -I - H(x, t)` in high precision (rows).
pub fn jacobian(spec: &MixtureSpec, t: f64, x: &[f64]) -> Vec<Vec<Big>> {
    jacobian_on(spec, &path("ou", t), x)
}

/// `J(x, t) = f I - h H(x, t)` on a path (theory/07) in high precision (rows).
pub fn jacobian_on(spec: &MixtureSpec, c: &PathBig, x: &[f64]) -> Vec<Vec<Big>> {
    let d = x.len();
    let k_count = spec.weights.len();
    let (alpha, alpha2, sigma2) = (c.alpha.clone(), c.alpha2.clone(), c.sigma2.clone());
    let xb: Vec<Big> = x.iter().map(|&v| Big::from_f64(v)).collect();
    let mut precisions = Vec::with_capacity(k_count);
    let mut log_terms = Vec::with_capacity(k_count);
    let mut prefactors = Vec::with_capacity(k_count);
    let mut scores = Vec::with_capacity(k_count);
    for k in 0..k_count {
        let s: Vec<Vec<Big>> = (0..d)
            .map(|r| {
                (0..d)
                    .map(|c| {
                        let v = alpha2.mul_f(spec.covariances[k][r][c]);
                        if r == c { v.add(&sigma2) } else { v }
                    })
                    .collect()
            })
            .collect();
        let (p, det) = inverse_det(&s);
        let diff: Vec<Big> = (0..d)
            .map(|i| xb[i].sub(&alpha.mul_f(spec.means[k][i])))
            .collect();
        let pd = mat_vec(&p, &diff);
        log_terms.push(dot(&diff, &pd).mul_f(-0.5));
        prefactors.push(Big::from_f64(spec.weights[k]).div(&det.sqrt()));
        scores.push(pd.iter().map(Big::neg).collect::<Vec<_>>());
        precisions.push(p);
    }
    // Responsibilities: shift the exponents by their maximum.
    let top = log_terms
        .iter()
        .skip(1)
        .fold(log_terms[0].clone(), |a, b| a.max(b));
    let rho: Vec<Big> = (0..k_count)
        .map(|k| prefactors[k].mul(&log_terms[k].sub(&top).exp()))
        .collect();
    let total = rho.iter().fold(Big::zero(), |a, b| a.add(b));
    let r: Vec<Big> = rho.iter().map(|v| v.div(&total)).collect();
    let s: Vec<Big> = (0..d)
        .map(|i| (0..k_count).fold(Big::zero(), |a, k| a.add(&r[k].mul(&scores[k][i]))))
        .collect();
    let mut j = vec![vec![Big::zero(); d]; d];
    for (a, row) in j.iter_mut().enumerate() {
        for (b, entry) in row.iter_mut().enumerate() {
            // H_ab = sum_k r_k (-P_k + (s_k - s)(s_k - s)^T)_ab
            let mut h = Big::zero();
            for k in 0..k_count {
                let da = scores[k][a].sub(&s[a]);
                let db = scores[k][b].sub(&s[b]);
                let term = da.mul(&db).sub(&precisions[k][a][b]);
                h = h.add(&r[k].mul(&term));
            }
            let delta = if a == b { c.f.clone() } else { Big::zero() };
            *entry = delta.sub(&c.h.mul(&h));
        }
    }
    j
}

/// Rigorous lower bounds (tight to ~1e-30) on `||J||` and `lambda_max(-J)`, and the scale
/// `|lambda_min| + |lambda_max|` of the terms that make up `J`'s extreme eigenvalues.
#[derive(Debug, Clone, Copy)]
pub struct Norms {
    pub norm: f64,
    pub one_sided: f64,
    pub scale: f64,
}

/// `v^T J v / v^T v` in high precision.
pub fn rayleigh(j: &[Vec<Big>], v: &[f64]) -> Big {
    let vb: Vec<Big> = v.iter().map(|&x| Big::from_f64(x)).collect();
    dot(&vb, &mat_vec(j, &vb)).div(&dot(&vb, &vb))
}

/// [`Norms`] of a high-precision symmetric matrix, from the Rayleigh quotients at the
/// eigenvectors of its double rounding.
pub fn norms(j: &[Vec<Big>]) -> Norms {
    let d = j.len();
    let jf = DMatrix::from_fn(d, d, |r, c| j[r][c].to_f64());
    let jf = (&jf + jf.transpose()) * 0.5;
    let eig = SymmetricEigen::new(jf);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, _) in eig.eigenvalues.iter().enumerate() {
        let v: Vec<f64> = eig.eigenvectors.column(i).iter().copied().collect();
        let q = rayleigh(j, &v).to_f64();
        lo = lo.min(q);
        hi = hi.max(q);
    }
    Norms {
        norm: lo.abs().max(hi.abs()),
        one_sided: -lo,
        scale: lo.abs() + hi.abs(),
    }
}

/// Isotropic closed forms straight from the definitions, in high precision:
/// `tau^2 = sigma0^2 alpha^2 + sigma^2`, `a = 1/tau^2 - 1`, `q = alpha^2 D^2 / (4 tau^4)`.
pub fn isotropic_a_q(sigma0_sq: f64, diameter: f64, t: f64) -> (Big, Big) {
    let (_, alpha2, sigma2) = ou(t);
    let tau2 = alpha2.mul_f(sigma0_sq).add(&sigma2);
    let a = Big::from_i64(1).div(&tau2).sub(&Big::from_i64(1));
    let q = alpha2
        .mul_f(diameter)
        .mul_f(diameter)
        .div(&tau2.mul(&tau2).mul_f(4.0));
    (a, q)
}

/// `int_s^t a = (1/2) ln(tau_t^2 / tau_s^2)` and `int_s^t q = D^2/(8 kappa) (1/tau_s^2 -
/// 1/tau_t^2)`, the antiderivatives of theory/02 evaluated naively in high precision
/// (`kappa = 1 - sigma0^2 != 0`).
pub fn isotropic_integrals(sigma0_sq: f64, diameter: f64, s: f64, t: f64) -> (Big, Big) {
    let tau2 = |u: f64| {
        let (_, alpha2, sigma2) = ou(u);
        alpha2.mul_f(sigma0_sq).add(&sigma2)
    };
    let (ts, tt) = (tau2(s), tau2(t));
    let int_a = tt.div(&ts).ln().mul_f(0.5);
    let kappa = Big::from_i64(1).sub(&Big::from_f64(sigma0_sq));
    let one = Big::from_i64(1);
    let int_q = one
        .div(&ts)
        .sub(&one.div(&tt))
        .mul_f(diameter)
        .mul_f(diameter)
        .div(&kappa.mul_f(8.0));
    (int_a, int_q)
}
