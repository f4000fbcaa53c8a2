//! Register-blocked matrix products for the training step, on column-major buffers.
//!
//! ```text
//! C (m x n) = A (m x k) B,   A(i, p) = a[i + p lda],   B(p, j) = b[p rs + j cs]
//! ```
//! The micro-kernel keeps an `MV x NR` block of C in registers (`MV` vectors of rows
//! by `NR` columns), loads a column segment of A and broadcasts entries of B; any
//! strides of B are allowed, so `A B^T` (the weight gradient) needs no transpose.
//! A finished block of columns is handed to an epilogue (bias, activation, its
//! derivative, ...) while it is still in cache.
//!
//! Each entry is accumulated in a fixed order that does not depend on the vector width
//! ([`Mode`]), so every backend gives the same bits, and in `f64` the same bits as the
//! reference products of [`Mlp::forward`](crate::nn::Mlp::forward): matrixmultiply's
//! fused, 256-deep blocks for products whose dimensions all exceed 5, and the
//! reference kernels' unfused or four-sum orders below that.

// The kernels are unsafe fns over raw pointers; each caller states the bounds.
#![allow(unsafe_op_in_unsafe_fn)]

use super::super::elem::Elem;
use super::simd::Simd;

/// Depth of matrixmultiply's blocks over the inner dimension (`D_KC`).
pub(super) const KC: usize = 256;
/// Dimensions up to this size bypass matrixmultiply in the reference path (nalgebra's
/// `SMALL_DIM`).
const SMALL: usize = 5;

/// How each entry `c_ij = sum_p a_ip b_pj` is accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `c = fma(a_ip, b_pj, c)` in order of `p`, restarting from 0 every [`KC`] terms
    /// and adding the block sums in order.
    Fused,
    /// `c = c + a_ip b_pj` (two roundings) in order of `p`.
    Unfused,
    /// Four running sums over `p mod 4`, then `(s0 + s1) + (s2 + s3) + tail`.
    Dot4,
    /// [`DOT_LANES`] running sums over `p mod DOT_LANES` (fused), then summed pairwise
    /// (`s_i + s_{i+8}`, then `+ 4`, `+ 2`, `+ 1`): for outputs much narrower than a
    /// register (single precision; the same order on every backend).
    DotLanes,
}

impl Mode {
    /// The reference order of `c = a b` (`a: m x k`, `b: k x n`).
    pub(super) fn reference_mul(m: usize, k: usize, n: usize) -> Mode {
        if m > SMALL && k > SMALL && n > SMALL {
            Mode::Fused
        } else if m > SMALL || k <= SMALL {
            Mode::Unfused
        } else {
            Mode::Dot4
        }
    }

    /// The order for `c = a b` (`a: m x k`) in single precision: dot products along
    /// `k` where C has at most a quarter as many rows as the widest register has lanes,
    /// fused register blocks otherwise (the choice, like the orders, does not depend on
    /// the backend, so neither do the bytes).
    pub(super) fn fast_mul(m: usize, k: usize) -> Mode {
        if 4 * m <= DOT_LANES && k >= DOT_LANES {
            Mode::DotLanes
        } else {
            Mode::Fused
        }
    }

    /// The reference order of `c = a b^T` (`a: m x k`, `b: n x k`).
    pub(super) fn reference_mul_bt(m: usize, k: usize, n: usize) -> Mode {
        if m > SMALL && k > SMALL && n > SMALL {
            Mode::Fused
        } else {
            Mode::Unfused
        }
    }
}

/// A read-only matrix operand: element `(r, s)` at `ptr[r * rs + s * cs]`.
#[derive(Clone, Copy)]
pub(super) struct Mat<E> {
    pub ptr: *const E,
    pub rs: usize,
    pub cs: usize,
}

impl<E> Mat<E> {
    /// Column-major with leading dimension `ld`.
    pub(super) fn col_major(ptr: *const E, ld: usize) -> Self {
        Mat { ptr, rs: 1, cs: ld }
    }
    /// Its transpose (no data moves).
    pub(super) fn t(self) -> Self {
        Mat {
            ptr: self.ptr,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// Work on a block of finished columns of C (first column, count), while it is in
/// cache. A trait rather than a closure, so that `#[inline(always)]` keeps it inside
/// the backend's `#[target_feature]` function.
pub(super) trait Epilogue {
    /// # Safety
    /// Columns `j0 .. j0 + nr` of C are finished and valid.
    unsafe fn finish(&mut self, j0: usize, nr: usize);
}

/// No epilogue.
pub(super) struct Nothing;

impl Epilogue for Nothing {
    #[inline(always)]
    unsafe fn finish(&mut self, _j0: usize, _nr: usize) {}
}

/// `C = A B` with the accumulation order `mode`, then `epi.finish(j0, nr)` for every block of
/// `nr` finished columns starting at `j0`. C is column-major with leading dimension
/// `ldc`. `A` must be column-major (`a.rs == 1`); in [`Mode::Dot4`] and
/// [`Mode::DotLanes`], `b` must be too and `at` is `A^T`, column-major.
///
/// Blocks are `MV` vectors of rows by `NR` columns; a C narrower than `MV` vectors (the
/// read-out, `d_out` rows) is done one vector of rows by `NW` columns instead, so that
/// as many independent accumulators as the full block has hide the latency of the fused
/// multiply-adds (`1 x 6` of them would leave the FMA units idle three cycles in four).
/// The order of every entry's sum is that of `mode` either way.
///
/// # Safety
/// The operands must be valid for the given shapes, C must not alias A or B, and the
/// backend's CPU features must be enabled.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<S: Simd, const MV: usize, const NR: usize, const NW: usize>(
    mode: Mode,
    (m, n, k): (usize, usize, usize),
    a: Mat<S::E>,
    at: Mat<S::E>,
    b: Mat<S::E>,
    c: *mut S::E,
    ldc: usize,
    epi: &mut impl Epilogue,
) {
    debug_assert!(m > 0 && n > 0 && k > 0 && a.rs == 1);
    let narrow = m < MV * S::LANES;
    let step = if narrow { NW } else { NR };
    let mut j0 = 0;
    while j0 < n {
        let nr = step.min(n - j0);
        match mode {
            Mode::Fused => {
                let mut k0 = 0;
                while k0 < k {
                    let kc = KC.min(k - k0);
                    if narrow {
                        rows::<S, 1, NW, true>(m, nr, kc, a, b, c, ldc, j0, k0);
                    } else {
                        rows::<S, MV, NR, true>(m, nr, kc, a, b, c, ldc, j0, k0);
                    }
                    k0 += kc;
                }
            }
            Mode::Unfused if narrow => rows::<S, 1, NW, false>(m, nr, k, a, b, c, ldc, j0, 0),
            Mode::Unfused => rows::<S, MV, NR, false>(m, nr, k, a, b, c, ldc, j0, 0),
            Mode::Dot4 => {
                debug_assert!(b.rs == 1 && at.rs == 1);
                for j in j0..j0 + nr {
                    let bj = std::slice::from_raw_parts(b.ptr.add(j * b.cs), k);
                    for i in 0..m {
                        let ai = std::slice::from_raw_parts(at.ptr.add(i * at.cs), k);
                        *c.add(i + j * ldc) = dot4(ai, bj);
                    }
                }
            }
            Mode::DotLanes => {
                debug_assert!(b.rs == 1 && at.rs == 1);
                for j in j0..j0 + nr {
                    let bj = b.ptr.add(j * b.cs);
                    for i in 0..m {
                        *c.add(i + j * ldc) = dot_lanes::<S>(at.ptr.add(i * at.cs), bj, k);
                    }
                }
            }
        }
        epi.finish(j0, nr);
        j0 += nr;
    }
}

/// Columns `j0 .. j0 + nr` of C, inner indices `k0 .. k0 + kc` (added to C if `k0 > 0`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn rows<S: Simd, const MV: usize, const NR: usize, const FUSED: bool>(
    m: usize,
    nr: usize,
    kc: usize,
    a: Mat<S::E>,
    b: Mat<S::E>,
    c: *mut S::E,
    ldc: usize,
    j0: usize,
    k0: usize,
) {
    let l = S::LANES;
    let acc = k0 > 0;
    let at = |i: usize| (a.ptr.add(i + k0 * a.cs), b.ptr.add(k0 * b.rs + j0 * b.cs));
    let cp = |i: usize| c.add(i + j0 * ldc);
    let none = S::mask(0);
    let mut i = 0;
    while i + MV * l <= m {
        let (ap, bp) = at(i);
        cols::<S, MV, NR, FUSED, false>(kc, ap, a.cs, bp, b, cp(i), ldc, none, acc, nr);
        i += MV * l;
    }
    while i < m {
        let (ap, bp) = at(i);
        if m - i < l {
            let mask = S::mask(m - i);
            cols::<S, 1, NR, FUSED, true>(kc, ap, a.cs, bp, b, cp(i), ldc, mask, acc, nr);
        } else {
            cols::<S, 1, NR, FUSED, false>(kc, ap, a.cs, bp, b, cp(i), ldc, none, acc, nr);
        }
        i += l;
    }
}

/// `nr <= NR` columns of one row block: one `NR`-wide kernel, or kernels 8, 4, 2 and 1
/// wide for a narrower block (a batch's last columns, a weight gradient with few columns).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn cols<S: Simd, const MV: usize, const NR: usize, const FUSED: bool, const PART: bool>(
    kc: usize,
    a: *const S::E,
    lda: usize,
    b: *const S::E,
    bm: Mat<S::E>,
    c: *mut S::E,
    ldc: usize,
    mask: S::Mask,
    accumulate: bool,
    nr: usize,
) {
    if nr == NR {
        return micro::<S, MV, NR, FUSED, PART>(kc, a, lda, b, bm, c, ldc, mask, accumulate);
    }
    let mut q = 0;
    let at = |q: usize| (b.add(q * bm.cs), c.add(q * ldc));
    while NR > 8 && nr - q >= 8 {
        let (bq, cq) = at(q);
        micro::<S, MV, 8, FUSED, PART>(kc, a, lda, bq, bm, cq, ldc, mask, accumulate);
        q += 8;
    }
    if NR > 4 && nr - q >= 4 {
        let (bq, cq) = at(q);
        micro::<S, MV, 4, FUSED, PART>(kc, a, lda, bq, bm, cq, ldc, mask, accumulate);
        q += 4;
    }
    while nr - q >= 2 {
        let (bq, cq) = at(q);
        micro::<S, MV, 2, FUSED, PART>(kc, a, lda, bq, bm, cq, ldc, mask, accumulate);
        q += 2;
    }
    if q < nr {
        let (bq, cq) = at(q);
        micro::<S, MV, 1, FUSED, PART>(kc, a, lda, bq, bm, cq, ldc, mask, accumulate);
    }
}

/// `C[0 .. MV L, 0 .. NR] (+)= A[0 .. MV L, 0 .. kc] B[0 .. kc, 0 .. NR]`, with pointers
/// already offset to the block; in `PART` mode the last vector of rows is masked.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn micro<S: Simd, const MV: usize, const NR: usize, const FUSED: bool, const PART: bool>(
    kc: usize,
    a: *const S::E,
    lda: usize,
    b: *const S::E,
    bm: Mat<S::E>,
    c: *mut S::E,
    ldc: usize,
    mask: S::Mask,
    accumulate: bool,
) {
    let l = S::LANES;
    let mut acc = [[S::zero(); NR]; MV];
    for p in 0..kc {
        let ap = a.add(p * lda);
        let mut av = [S::zero(); MV];
        for (v, slot) in av.iter_mut().enumerate() {
            *slot = if PART && v == MV - 1 {
                S::load_masked(ap.add(v * l), mask)
            } else {
                S::load(ap.add(v * l))
            };
        }
        let bp = b.add(p * bm.rs);
        for jj in 0..NR {
            let bv = S::splat(*bp.add(jj * bm.cs));
            for v in 0..MV {
                acc[v][jj] = if FUSED {
                    S::fma(av[v], bv, acc[v][jj])
                } else {
                    S::add(acc[v][jj], S::mul(av[v], bv))
                };
            }
        }
    }
    for jj in 0..NR {
        for (v, row) in acc.iter().enumerate() {
            let p = c.add(jj * ldc + v * l);
            let last = PART && v == MV - 1;
            let mut r = row[jj];
            if accumulate {
                let old = if last {
                    S::load_masked(p, mask)
                } else {
                    S::load(p)
                };
                r = S::add(r, old);
            }
            if last {
                S::store_masked(p, r, mask);
            } else {
                S::store(p, r);
            }
        }
    }
}

/// Running sums of [`Mode::DotLanes`]: the widest register of any backend (16 x f32).
pub(super) const DOT_LANES: usize = 16;

/// `sum_p x_p y_p` over `k` contiguous entries in the order of [`Mode::DotLanes`].
#[inline(always)]
unsafe fn dot_lanes<S: Simd>(x: *const S::E, y: *const S::E, k: usize) -> S::E {
    let l = S::LANES;
    let nv = DOT_LANES / l;
    let mut acc = [S::zero(); DOT_LANES];
    let mut p = 0;
    while p + DOT_LANES <= k {
        for (v, a) in acc.iter_mut().enumerate().take(nv) {
            *a = S::fma(S::load(x.add(p + v * l)), S::load(y.add(p + v * l)), *a);
        }
        p += DOT_LANES;
    }
    for (v, a) in acc.iter_mut().enumerate().take(nv) {
        let q = p + v * l;
        if q + l <= k {
            *a = S::fma(S::load(x.add(q)), S::load(y.add(q)), *a);
        } else if q < k {
            let mask = S::mask(k - q);
            *a = S::fma(
                S::load_masked(x.add(q), mask),
                S::load_masked(y.add(q), mask),
                *a,
            );
        }
    }
    let mut s = [<S::E as Elem>::ZERO; DOT_LANES];
    for (v, a) in acc.iter().enumerate().take(nv) {
        S::store(s.as_mut_ptr().add(v * l), *a);
    }
    let mut h = DOT_LANES / 2;
    while h > 0 {
        for i in 0..h {
            s[i] = s[i] + s[i + h];
        }
        h /= 2;
    }
    s[0]
}

/// Dot product with four running sums (the reference kernels' order; the summation
/// order is fixed, so results are deterministic).
#[inline(always)]
pub(crate) fn dot4<E: Elem>(x: &[E], y: &[E]) -> E {
    let mut acc = [E::ZERO; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for i in 0..4 {
            acc[i] = acc[i] + xs[i] * ys[i];
        }
    }
    let tail = xr.iter().zip(yr).map(|(&a, &b)| a * b).sum::<E>();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
