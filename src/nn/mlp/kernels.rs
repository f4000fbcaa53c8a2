//! Matrix products in the shapes a layer needs, on owned column-major buffers.
//!
//! Products whose dimensions all exceed 5 go to nalgebra's `gemm`, which
//! hands them to matrixmultiply. nalgebra runs any product with a dimension
//! <= 5 (the d = 2..5 input and read-out layers) through a strided gemv loop;
//! those go to two plain kernels instead, whose inner loops run along the long
//! dimension over contiguous slices:
//!
//! ```text
//! axpy form  c[:, j] = sum_p a[:, p] B[p, j]    (rows of c many)
//! dot form   c[i, j] = <a^T[:, i], b[:, j]>     (rows of c few, inner dim long)
//! ```
//!
//! No view, transposed or strided, is ever passed to `gemm`.

use nalgebra::DMatrix;

use crate::nn::engine::dot4;

/// nalgebra's threshold: `gemm` uses matrixmultiply only above it.
const SMALL: usize = 5;

/// `c = a b`, given `at = a^T` (both owned, `a: m x k`, `b: k x n`).
pub(super) fn mul(c: &mut DMatrix<f64>, a: &DMatrix<f64>, at: &DMatrix<f64>, b: &DMatrix<f64>) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    debug_assert_eq!(b.nrows(), k);
    debug_assert_eq!(c.shape(), (m, n));
    debug_assert_eq!(at.shape(), (k, m));
    if m > SMALL && k > SMALL && n > SMALL {
        c.gemm(1.0, a, b, 0.0);
    } else if m > SMALL || k <= SMALL {
        axpy_form(c.as_mut_slice(), m, n, a.as_slice(), k, b.as_slice(), 1, k);
    } else {
        dot_form(c.as_mut_slice(), m, n, at.as_slice(), k, b.as_slice());
    }
}

/// `c = a b^T` (`a: m x k`, `b: n x k`), the weight gradient `delta a_{l-1}^T`.
/// `bt` (`k x n`) and `ct` (`n x m`) are scratch buffers.
pub(super) fn mul_bt(
    c: &mut DMatrix<f64>,
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    bt: &mut DMatrix<f64>,
    ct: &mut DMatrix<f64>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.nrows());
    debug_assert_eq!(b.ncols(), k);
    debug_assert_eq!(c.shape(), (m, n));
    if m > SMALL && k > SMALL && n > SMALL {
        b.transpose_to(bt);
        c.gemm(1.0, a, bt, 0.0);
    } else if m >= n {
        // c[:, j] = sum_p a[:, p] b[j, p]
        axpy_form(c.as_mut_slice(), m, n, a.as_slice(), k, b.as_slice(), n, 1);
    } else {
        // c^T[:, i] = sum_p b[:, p] a[i, p], then transpose
        axpy_form(ct.as_mut_slice(), n, m, b.as_slice(), k, a.as_slice(), m, 1);
        ct.transpose_to(c);
    }
}

/// `c (m x n) = a (m x k) B` with `B[p, j] = b[p * rs + j * cs]`.
#[allow(clippy::too_many_arguments)]
fn axpy_form(
    c: &mut [f64],
    m: usize,
    n: usize,
    a: &[f64],
    k: usize,
    b: &[f64],
    rs: usize,
    cs: usize,
) {
    for (j, cj) in c.chunks_exact_mut(m).take(n).enumerate() {
        cj.fill(0.0);
        for (p, ap) in a.chunks_exact(m).take(k).enumerate() {
            let s = b[p * rs + j * cs];
            for (ci, ai) in cj.iter_mut().zip(ap) {
                *ci += ai * s;
            }
        }
    }
}

/// `c (m x n)` with `c[i, j] = <at[:, i], b[:, j]>` (`at: k x m`, `b: k x n`).
fn dot_form(c: &mut [f64], m: usize, n: usize, at: &[f64], k: usize, b: &[f64]) {
    for (cj, bj) in c.chunks_exact_mut(m).zip(b.chunks_exact(k)).take(n) {
        for (ci, ai) in cj.iter_mut().zip(at.chunks_exact(k)) {
            *ci = dot4(ai, bj);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::EXACT;

    fn test_matrix(r: usize, c: usize, salt: f64) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) as f64 * 0.37 + salt).sin())
    }

    /// Every dispatch branch agrees with nalgebra's product.
    #[test]
    fn kernels_match_nalgebra() {
        for &(m, k, n) in &[
            (64, 2, 9),
            (2, 64, 9),
            (3, 3, 9),
            (9, 9, 9),
            (64, 64, 1),
            (1, 7, 2),
        ] {
            let (a, b) = (test_matrix(m, k, 0.1), test_matrix(k, n, 0.2));
            let mut c = DMatrix::zeros(m, n);
            mul(&mut c, &a, &a.transpose(), &b);
            assert!((&c - &a * &b).amax() <= EXACT, "mul {m}x{k}x{n}");
            let bn = test_matrix(n, k, 0.3);
            let (mut bt, mut ct) = (DMatrix::zeros(k, n), DMatrix::zeros(n, m));
            mul_bt(&mut c, &a, &bn, &mut bt, &mut ct);
            assert!(
                (&c - &a * bn.transpose()).amax() <= EXACT,
                "mul_bt {m}x{k}x{n}"
            );
        }
    }
}
