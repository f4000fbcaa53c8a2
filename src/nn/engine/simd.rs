//! Vector registers for the training kernels: one small trait, [`Simd`], with an
//! AVX-512, an AVX2 + FMA and a portable (one lane) implementation per precision.
//!
//! Every method is `#[inline(always)]` and only ever runs inside a function compiled for
//! the backend's features (see [`super::SimdBackend`]), where the intrinsics inline.
//! Every operation rounds like its scalar counterpart (`min`/`max` keep a NaN in the
//! second operand, as `f64::clamp` keeps it), so a lane computes what scalar code would.
//! `fma` is fused wherever the reference path's matrix products fuse (x86 with FMA,
//! aarch64), so that `f64` training is bit-identical to it on every machine.

// Every method is an `unsafe fn` whose whole body is one or two intrinsic calls.
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
    /// Lane `i` from `p[i * stride]` (a row of a column-major matrix); `stride * LANES`
    /// must fit in an `i32`.
    unsafe fn gather(p: *const Self::E, stride: usize) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`, rounded once where the hardware fuses (see the module docs).
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `max(a, b)`, `b` if either is NaN.
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// `min(a, b)`, `b` if either is NaN.
    unsafe fn min(a: Self::V, b: Self::V) -> Self::V;
    /// `-a` (the sign bit flipped).
    unsafe fn neg(a: Self::V) -> Self::V;
    /// [`Elem::pow2_from_shifted`] in every lane.
    unsafe fn pow2_from_shifted(t: Self::V) -> Self::V;
    /// `a * b + c` rounded once on every backend (the portable one calls `mul_add`).
    unsafe fn fma_exact(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// [`Elem::lookup16`] in every lane: `table[bits(t) mod 16]`.
    unsafe fn lookup16(t: Self::V, table: &[Self::E; 16]) -> Self::V;
    /// [`Elem::scale_by_shifted`] in every lane: `v 2^floor(k / 16)`, `k` in the low
    /// mantissa bits of `t`.
    unsafe fn scale_by_shifted(v: Self::V, t: Self::V) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Simd;
    use std::arch::x86_64::*;

    /// One x86 backend: the register type and the intrinsics of each operation.
    macro_rules! backend {
        (
            $name:ident, $e:ty, $v:ty, $lanes:literal, $mask:ty,
            zero $zero:ident, splat $splat:ident, load $load:ident, store $store:ident,
            add $add:ident, sub $sub:ident, mul $mul:ident, div $div:ident, fma $fma:ident,
            max $max:ident, min $min:ident,
            bits $to_int:ident $from_int:ident $int_xor:ident $int_add:ident $int_shl:ident
                $int_shr:ident $int_splat:ident $int_ty:ty, sign $sign:expr, bias $bias:expr,
                shift $shift:literal,
            lookup |$lt:ident, $ltab:ident| $lookup:expr,
            mask |$n:ident| $make_mask:expr,
            load_masked |$lp:ident, $lm:ident| $load_masked:expr,
            gather |$gp:ident, $gs:ident| $gather:expr,
            store_masked |$sp:ident, $sv:ident, $sm:ident| $store_masked:expr
        ) => {
            #[derive(Clone, Copy)]
            pub(in super::super) struct $name;

            impl Simd for $name {
                type E = $e;
                type V = $v;
                type Mask = $mask;
                const LANES: usize = $lanes;
                #[inline(always)]
                unsafe fn zero() -> $v {
                    $zero()
                }
                #[inline(always)]
                unsafe fn splat(x: $e) -> $v {
                    $splat(x)
                }
                #[inline(always)]
                unsafe fn load(p: *const $e) -> $v {
                    $load(p)
                }
                #[inline(always)]
                unsafe fn store(p: *mut $e, v: $v) {
                    $store(p, v)
                }
                #[inline(always)]
                unsafe fn mask($n: usize) -> $mask {
                    $make_mask
                }
                #[inline(always)]
                unsafe fn load_masked($lp: *const $e, $lm: $mask) -> $v {
                    $load_masked
                }
                #[inline(always)]
                unsafe fn store_masked($sp: *mut $e, $sv: $v, $sm: $mask) {
                    $store_masked
                }
                #[inline(always)]
                unsafe fn gather($gp: *const $e, $gs: usize) -> $v {
                    $gather
                }
                #[inline(always)]
                unsafe fn add(a: $v, b: $v) -> $v {
                    $add(a, b)
                }
                #[inline(always)]
                unsafe fn sub(a: $v, b: $v) -> $v {
                    $sub(a, b)
                }
                #[inline(always)]
                unsafe fn mul(a: $v, b: $v) -> $v {
                    $mul(a, b)
                }
                #[inline(always)]
                unsafe fn div(a: $v, b: $v) -> $v {
                    $div(a, b)
                }
                #[inline(always)]
                unsafe fn fma(a: $v, b: $v, c: $v) -> $v {
                    $fma(a, b, c)
                }
                #[inline(always)]
                unsafe fn max(a: $v, b: $v) -> $v {
                    $max(a, b)
                }
                #[inline(always)]
                unsafe fn min(a: $v, b: $v) -> $v {
                    $min(a, b)
                }
                #[inline(always)]
                unsafe fn neg(a: $v) -> $v {
                    $from_int($int_xor($to_int(a), $int_splat($sign)))
                }
                #[inline(always)]
                unsafe fn pow2_from_shifted(t: $v) -> $v {
                    $from_int($int_shl::<$shift>($int_add($to_int(t), $int_splat($bias))))
                }
                #[inline(always)]
                unsafe fn fma_exact(a: $v, b: $v, c: $v) -> $v {
                    $fma(a, b, c)
                }
                #[inline(always)]
                unsafe fn lookup16($lt: $v, $ltab: &[$e; 16]) -> $v {
                    $lookup
                }
                #[inline(always)]
                unsafe fn scale_by_shifted(v: $v, t: $v) -> $v {
                    let n = $int_shl::<$shift>($int_shr::<4>($to_int(t)));
                    $from_int($int_add($to_int(v), n))
                }
            }
        };
    }

    backend!(Avx512F64, f64, __m512d, 8, __mmask8,
        zero _mm512_setzero_pd, splat _mm512_set1_pd, load _mm512_loadu_pd, store _mm512_storeu_pd,
        add _mm512_add_pd, sub _mm512_sub_pd, mul _mm512_mul_pd, div _mm512_div_pd,
        fma _mm512_fmadd_pd, max _mm512_max_pd, min _mm512_min_pd,
        bits _mm512_castpd_si512 _mm512_castsi512_pd _mm512_xor_si512 _mm512_add_epi64
            _mm512_slli_epi64 _mm512_srli_epi64 _mm512_set1_epi64 i64, sign i64::MIN,
            bias 1023, shift 52,
        lookup |t, tab| _mm512_permutex2var_pd(
            _mm512_loadu_pd(tab.as_ptr()),
            _mm512_castpd_si512(t),
            _mm512_loadu_pd(tab.as_ptr().add(8)),
        ),
        mask |n| ((1u32 << n) - 1) as __mmask8,
        load_masked |p, m| _mm512_maskz_loadu_pd(m, p),
        gather |p, s| {
            let s = s as i64;
            let at = _mm512_set_epi64(7 * s, 6 * s, 5 * s, 4 * s, 3 * s, 2 * s, s, 0);
            _mm512_i64gather_pd::<8>(at, p)
        },
        store_masked |p, v, m| _mm512_mask_storeu_pd(p, m, v));

    backend!(Avx512F32, f32, __m512, 16, __mmask16,
        zero _mm512_setzero_ps, splat _mm512_set1_ps, load _mm512_loadu_ps, store _mm512_storeu_ps,
        add _mm512_add_ps, sub _mm512_sub_ps, mul _mm512_mul_ps, div _mm512_div_ps,
        fma _mm512_fmadd_ps, max _mm512_max_ps, min _mm512_min_ps,
        bits _mm512_castps_si512 _mm512_castsi512_ps _mm512_xor_si512 _mm512_add_epi32
            _mm512_slli_epi32 _mm512_srli_epi32 _mm512_set1_epi32 i32, sign i32::MIN,
            bias 127, shift 23,
        lookup |t, tab| _mm512_permutexvar_ps(_mm512_castps_si512(t), _mm512_loadu_ps(tab.as_ptr())),
        mask |n| ((1u32 << n) - 1) as __mmask16,
        load_masked |p, m| _mm512_maskz_loadu_ps(m, p),
        gather |p, s| _mm512_i32gather_ps::<4>(
            _mm512_mullo_epi32(
                _mm512_set1_epi32(s as i32),
                _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
            ),
            p,
        ),
        store_masked |p, v, m| _mm512_mask_storeu_ps(p, m, v));

    backend!(Avx2F64, f64, __m256d, 4, __m256i,
        zero _mm256_setzero_pd, splat _mm256_set1_pd, load _mm256_loadu_pd, store _mm256_storeu_pd,
        add _mm256_add_pd, sub _mm256_sub_pd, mul _mm256_mul_pd, div _mm256_div_pd,
        fma _mm256_fmadd_pd, max _mm256_max_pd, min _mm256_min_pd,
        bits _mm256_castpd_si256 _mm256_castsi256_pd _mm256_xor_si256 _mm256_add_epi64
            _mm256_slli_epi64 _mm256_srli_epi64 _mm256_set1_epi64x i64, sign i64::MIN,
            bias 1023, shift 52,
        lookup |t, tab| _mm256_i64gather_pd::<8>(
            tab.as_ptr(),
            _mm256_and_si256(_mm256_castpd_si256(t), _mm256_set1_epi64x(15)),
        ),
        mask |n| _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_set_epi64x(3, 2, 1, 0)),
        load_masked |p, m| _mm256_maskload_pd(p, m),
        gather |p, s| {
            let s = s as i64;
            _mm256_i64gather_pd::<8>(p, _mm256_set_epi64x(3 * s, 2 * s, s, 0))
        },
        store_masked |p, v, m| _mm256_maskstore_pd(p, m, v));

    backend!(Avx2F32, f32, __m256, 8, __m256i,
        zero _mm256_setzero_ps, splat _mm256_set1_ps, load _mm256_loadu_ps, store _mm256_storeu_ps,
        add _mm256_add_ps, sub _mm256_sub_ps, mul _mm256_mul_ps, div _mm256_div_ps,
        fma _mm256_fmadd_ps, max _mm256_max_ps, min _mm256_min_ps,
        bits _mm256_castps_si256 _mm256_castsi256_ps _mm256_xor_si256 _mm256_add_epi32
            _mm256_slli_epi32 _mm256_srli_epi32 _mm256_set1_epi32 i32, sign i32::MIN,
            bias 127, shift 23,
        lookup |t, tab| _mm256_i32gather_ps::<4>(
            tab.as_ptr(),
            _mm256_and_si256(_mm256_castps_si256(t), _mm256_set1_epi32(15)),
        ),
        mask |n| _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n as i32),
            _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0),
        ),
        load_masked |p, m| _mm256_maskload_ps(p, m),
        gather |p, s| _mm256_i32gather_ps::<4>(
            p,
            _mm256_mullo_epi32(_mm256_set1_epi32(s as i32), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0)),
        ),
        store_masked |p, v, m| _mm256_maskstore_ps(p, m, v));
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

impl<E: Elem> Simd for Portable<E> {
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
        *p
    }
    #[inline(always)]
    unsafe fn store(p: *mut E, v: E) {
        *p = v
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
    unsafe fn gather(p: *const E, _stride: usize) -> E {
        *p
    }
    #[inline(always)]
    unsafe fn add(a: E, b: E) -> E {
        a + b
    }
    #[inline(always)]
    unsafe fn sub(a: E, b: E) -> E {
        a - b
    }
    #[inline(always)]
    unsafe fn mul(a: E, b: E) -> E {
        a * b
    }
    #[inline(always)]
    unsafe fn div(a: E, b: E) -> E {
        a / b
    }
    #[inline(always)]
    unsafe fn fma(a: E, b: E, c: E) -> E {
        if portable_fuses() {
            a.fused_mul_add(b, c)
        } else {
            a * b + c
        }
    }
    #[inline(always)]
    unsafe fn max(a: E, b: E) -> E {
        if a > b { a } else { b }
    }
    #[inline(always)]
    unsafe fn min(a: E, b: E) -> E {
        if a < b { a } else { b }
    }
    #[inline(always)]
    unsafe fn neg(a: E) -> E {
        -a
    }
    #[inline(always)]
    unsafe fn pow2_from_shifted(t: E) -> E {
        E::pow2_from_shifted(t)
    }
    #[inline(always)]
    unsafe fn fma_exact(a: E, b: E, c: E) -> E {
        a.fused_mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn lookup16(t: E, table: &[E; 16]) -> E {
        t.lookup16(table)
    }
    #[inline(always)]
    unsafe fn scale_by_shifted(v: E, t: E) -> E {
        v.scale_by_shifted(t)
    }
}
