//! Vector registers for the training kernels: one small trait, [`Simd`], with an
//! AVX-512, an AVX2 + FMA and a portable (one lane) implementation per precision.
//!
//! Only the matrix-product micro-kernel uses these types; elementwise passes are plain
//! loops that the compiler vectorises inside the same `#[target_feature]` functions.
//! Every method is `#[inline(always)]` and only ever runs inside a function compiled for
//! the backend's features (see [`super::SimdBackend`]), where the intrinsics inline.
//!
//! `fma` is fused wherever the reference path's matrix products fuse (x86 with FMA,
//! aarch64), so that `f64` training is bit-identical to it on every machine.

// Every method is an `unsafe fn` whose whole body is one intrinsic call.
#![allow(unsafe_op_in_unsafe_fn)]

use super::super::elem::Elem;

/// A vector of `LANES` elements of type `E` and the operations the kernels need.
///
/// # Safety
/// Every method may only be called where the backend's CPU features are enabled;
/// pointers must be valid for `LANES` elements (masked forms: for the first `n`).
pub(super) trait Simd: Copy {
    /// Element type.
    type E: Elem;
    /// One register.
    type V: Copy;
    /// Which lanes a partial load or store touches.
    type Mask: Copy;
    /// Elements per register.
    const LANES: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: Self::E) -> Self::V;
    unsafe fn load(p: *const Self::E) -> Self::V;
    unsafe fn store(p: *mut Self::E, v: Self::V);
    /// The first `n < LANES` lanes.
    unsafe fn mask(n: usize) -> Self::Mask;
    /// Load the masked lanes (others read as zero, their memory is not touched).
    unsafe fn load_masked(p: *const Self::E, m: Self::Mask) -> Self::V;
    /// Store the masked lanes only.
    unsafe fn store_masked(p: *mut Self::E, v: Self::V, m: Self::Mask);
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`, rounded once where the hardware fuses (see the module docs).
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Simd;
    use std::arch::x86_64::*;

    /// AVX-512F, 8 x f64.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx512F64;
    /// AVX-512F, 16 x f32.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx512F32;
    /// AVX2 + FMA, 4 x f64.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx2F64;
    /// AVX2 + FMA, 8 x f32.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx2F32;

    impl Simd for Avx512F64 {
        type E = f64;
        type V = __m512d;
        type Mask = __mmask8;
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> __m512d {
            _mm512_setzero_pd()
        }
        #[inline(always)]
        unsafe fn splat(x: f64) -> __m512d {
            _mm512_set1_pd(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> __m512d {
            unsafe { _mm512_loadu_pd(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f64, v: __m512d) {
            unsafe { _mm512_storeu_pd(p, v) }
        }
        #[inline(always)]
        unsafe fn mask(n: usize) -> __mmask8 {
            ((1u32 << n) - 1) as __mmask8
        }
        #[inline(always)]
        unsafe fn load_masked(p: *const f64, m: __mmask8) -> __m512d {
            unsafe { _mm512_maskz_loadu_pd(m, p) }
        }
        #[inline(always)]
        unsafe fn store_masked(p: *mut f64, v: __m512d, m: __mmask8) {
            unsafe { _mm512_mask_storeu_pd(p, m, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m512d, b: __m512d) -> __m512d {
            _mm512_add_pd(a, b)
        }
        #[inline(always)]
        unsafe fn mul(a: __m512d, b: __m512d) -> __m512d {
            _mm512_mul_pd(a, b)
        }
        #[inline(always)]
        unsafe fn fma(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
            _mm512_fmadd_pd(a, b, c)
        }
    }

    impl Simd for Avx512F32 {
        type E = f32;
        type V = __m512;
        type Mask = __mmask16;
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> __m512 {
            _mm512_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m512 {
            _mm512_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn mask(n: usize) -> __mmask16 {
            ((1u32 << n) - 1) as __mmask16
        }
        #[inline(always)]
        unsafe fn load_masked(p: *const f32, m: __mmask16) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(m, p) }
        }
        #[inline(always)]
        unsafe fn store_masked(p: *mut f32, v: __m512, m: __mmask16) {
            unsafe { _mm512_mask_storeu_ps(p, m, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            _mm512_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn mul(a: __m512, b: __m512) -> __m512 {
            _mm512_mul_ps(a, b)
        }
        #[inline(always)]
        unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
            _mm512_fmadd_ps(a, b, c)
        }
    }

    impl Simd for Avx2F64 {
        type E = f64;
        type V = __m256d;
        type Mask = __m256i;
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn zero() -> __m256d {
            _mm256_setzero_pd()
        }
        #[inline(always)]
        unsafe fn splat(x: f64) -> __m256d {
            _mm256_set1_pd(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> __m256d {
            unsafe { _mm256_loadu_pd(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f64, v: __m256d) {
            unsafe { _mm256_storeu_pd(p, v) }
        }
        #[inline(always)]
        unsafe fn mask(n: usize) -> __m256i {
            _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_set_epi64x(3, 2, 1, 0))
        }
        #[inline(always)]
        unsafe fn load_masked(p: *const f64, m: __m256i) -> __m256d {
            unsafe { _mm256_maskload_pd(p, m) }
        }
        #[inline(always)]
        unsafe fn store_masked(p: *mut f64, v: __m256d, m: __m256i) {
            unsafe { _mm256_maskstore_pd(p, m, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m256d, b: __m256d) -> __m256d {
            _mm256_add_pd(a, b)
        }
        #[inline(always)]
        unsafe fn mul(a: __m256d, b: __m256d) -> __m256d {
            _mm256_mul_pd(a, b)
        }
        #[inline(always)]
        unsafe fn fma(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
            _mm256_fmadd_pd(a, b, c)
        }
    }

    impl Simd for Avx2F32 {
        type E = f32;
        type V = __m256;
        type Mask = __m256i;
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> __m256 {
            _mm256_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            _mm256_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn mask(n: usize) -> __m256i {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(n as i32),
                _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0),
            )
        }
        #[inline(always)]
        unsafe fn load_masked(p: *const f32, m: __m256i) -> __m256 {
            unsafe { _mm256_maskload_ps(p, m) }
        }
        #[inline(always)]
        unsafe fn store_masked(p: *mut f32, v: __m256, m: __m256i) {
            unsafe { _mm256_maskstore_ps(p, m, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn mul(a: __m256, b: __m256) -> __m256 {
            _mm256_mul_ps(a, b)
        }
        #[inline(always)]
        unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
    }
}

/// One lane of `E`: the fallback for CPUs without AVX2 + FMA and other architectures.
#[derive(Clone, Copy)]
pub(super) struct Portable<E>(std::marker::PhantomData<E>);

/// Whether the portable backend fuses `a * b + c`: exactly where the reference
/// products (matrixmultiply) do, i.e. on aarch64 and on x86-64 with AVX2 and FMA
/// (where this backend only runs when asked for; `mul_add` then calls libm's `fma`,
/// which uses the instruction).
#[inline(always)]
fn portable_fuses() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        cfg!(target_arch = "aarch64")
    }
}

impl<E: Elem + FusedMulAdd> Simd for Portable<E> {
    type E = E;
    type V = E;
    type Mask = ();
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn zero() -> E {
        E::ZERO
    }
    #[inline(always)]
    unsafe fn splat(x: E) -> E {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const E) -> E {
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(p: *mut E, v: E) {
        unsafe { *p = v }
    }
    #[inline(always)]
    unsafe fn mask(_n: usize) {}
    #[inline(always)]
    unsafe fn load_masked(_p: *const E, _m: ()) -> E {
        unreachable!("a one-lane register has no partial loads")
    }
    #[inline(always)]
    unsafe fn store_masked(_p: *mut E, _v: E, _m: ()) {
        unreachable!("a one-lane register has no partial stores")
    }
    #[inline(always)]
    unsafe fn add(a: E, b: E) -> E {
        a + b
    }
    #[inline(always)]
    unsafe fn mul(a: E, b: E) -> E {
        a * b
    }
    #[inline(always)]
    unsafe fn fma(a: E, b: E, c: E) -> E {
        if portable_fuses() {
            a.fused_mul_add(b, c)
        } else {
            a * b + c
        }
    }
}

/// `f64::mul_add` / `f32::mul_add` behind one name.
pub(super) trait FusedMulAdd {
    fn fused_mul_add(self, b: Self, c: Self) -> Self;
}

impl FusedMulAdd for f64 {
    #[inline(always)]
    fn fused_mul_add(self, b: f64, c: f64) -> f64 {
        self.mul_add(b, c)
    }
}

impl FusedMulAdd for f32 {
    #[inline(always)]
    fn fused_mul_add(self, b: f32, c: f32) -> f32 {
        self.mul_add(b, c)
    }
}
