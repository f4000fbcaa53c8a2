//! The `f64` SiLU of the students: a table-driven `exp`, fused multiply-adds and one
//! division, written once over [`Simd`] so that every backend (AVX-512, AVX2 + FMA,
//! portable) and the scalar activation of the reference path
//! ([`Activation::eval_with_derivative`](crate::nn::Activation::eval_with_derivative))
//! compute the same bits.
//!
//! ```text
//! x = clamp(-z, -708, 709);   k = round(16 x / ln2),  j = k mod 16,  n = floor(k / 16)
//! r = x - k ln2/16            (|r| <= ln2/32 = 0.0217; ln2/16 = HI + LO, two fmas)
//! e^x = 2^n * 2^(j/16) * P(r),   P(r) = sum_{i <= 7} r^i / i!   (Horner, fused)
//!       remainder r^8 / 8! < 1.3e-18 relative; 2^(j/16) from a 16-entry table
//! s = 1 / (1 + e^x),   silu(z) = z s,   silu'(z) = s (1 + z (1 - s)) = fma(z s, 1 - s, s)
//! ```
//! Against the unfused degree-12 Taylor `exp` it replaces (25 roundings deep, 24 vector
//! operations), the chain is 7 fused steps and one table permute: about half the vector
//! operations per register. `exp` stays within [`EXP_ULPS`] of libm on `[-708, 709]`; the
//! clamp keeps `2^n` normal, so the tails saturate (`s` reaches 1, and about `1e-308`);
//! NaN stays NaN. Every product-sum is fused on every backend (`Simd::fma_exact`), so no
//! result depends on whether the CPU has an FMA unit, only the speed does.

// Raw SIMD intrinsics behind the trait; callers state the preconditions.
#![allow(unsafe_op_in_unsafe_fn)]

use super::super::elem::{Elem, TAYLOR_64};
use super::simd::{Portable, Simd};

/// Relative error of [`exp`] against libm allowed by the tests, in units of `f64::EPSILON`.
#[cfg(test)]
const EXP_ULPS: f64 = 2.0;

/// `2^(j/16)`, `j = 0 .. 15`, correctly rounded.
pub(crate) const EXP2_TABLE: [f64; 16] = [
    f64::from_bits(0x3ff0_0000_0000_0000),
    f64::from_bits(0x3ff0_b558_6cf9_890f),
    f64::from_bits(0x3ff1_72b8_3c7d_517b),
    f64::from_bits(0x3ff2_387a_6e75_6238),
    f64::from_bits(0x3ff3_06fe_0a31_b715),
    f64::from_bits(0x3ff3_dea6_4c12_3422),
    f64::from_bits(0x3ff4_bfda_d536_2a27),
    f64::from_bits(0x3ff5_ab07_dd48_5429),
    f64::from_bits(0x3ff6_a09e_667f_3bcd),
    f64::from_bits(0x3ff7_a114_73eb_0187),
    f64::from_bits(0x3ff8_ace5_422a_a0db),
    f64::from_bits(0x3ff9_c491_82a3_f090),
    f64::from_bits(0x3ffa_e89f_995a_d3ad),
    f64::from_bits(0x3ffc_199b_dd85_529c),
    f64::from_bits(0x3ffd_5818_dcfb_a487),
    f64::from_bits(0x3ffe_a4af_a2a4_90da),
];

/// `1 / i!` for `i = 7 .. 0`, Horner order: the tail of [`TAYLOR_64`].
pub(crate) const POLY: [f64; 8] = {
    let mut p = [0.0; 8];
    let mut i = 0;
    while i < 8 {
        p[i] = TAYLOR_64[TAYLOR_64.len() - 8 + i];
        i += 1;
    }
    p
};

/// `16 / ln 2`.
const INV_LN2_16: f64 = f64::from_bits(0x4037_1547_652b_82fe);
/// `ln2 / 16 = LN2_16_HI + LN2_16_LO` (the high part rounded, the low part the rest).
const LN2_16_HI: f64 = f64::from_bits(0x3fa6_2e42_fefa_39ef);
const LN2_16_LO: f64 = 1.449_404_258_653_937_2e-18;
/// `1.5 * 2^52`: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// The clamp of `exp`'s argument: `2^n 2^(j/16)` stays a normal number.
const X_LO: f64 = -708.0;
const X_HI: f64 = 709.0;

/// `x_g <- e^{x_g}` for `G` registers (`x` already clamped), with the polynomial
/// `poly` (Horner order, constant term last; [`POLY`] unless a test mutates it).
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn exp_regs<S: Simd, const G: usize>(x: &mut [S::V; G], poly: &[f64; 8]) {
    let c = |v: f64| S::splat(S::E::from_f64(v));
    let (inv, shift) = (c(INV_LN2_16), c(SHIFT));
    let (hi, lo) = (c(-LN2_16_HI), c(-LN2_16_LO));
    let table = EXP2_TABLE.map(S::E::from_f64);
    let (mut t, mut r) = ([S::zero(); G], [S::zero(); G]);
    for g in 0..G {
        t[g] = S::fma_exact(x[g], inv, shift);
        let k = S::sub(t[g], shift);
        r[g] = S::fma_exact(k, lo, S::fma_exact(k, hi, x[g]));
    }
    let mut p = [c(poly[0]); G];
    for &a in &poly[1..] {
        let a = c(a);
        for g in 0..G {
            p[g] = S::fma_exact(p[g], r[g], a);
        }
    }
    for g in 0..G {
        let scale = S::scale_by_shifted(S::lookup16(t[g], &table), t[g]);
        x[g] = S::mul(p[g], scale);
    }
}

/// `v <- silu(v)` lane by lane, returning `silu'(v)` (see the module docs).
///
/// # Safety
/// The backend's CPU features must be enabled; `S::E` must be `f64` (other element
/// types compute garbage: the constants are rounded to them).
#[inline(always)]
#[allow(clippy::needless_range_loop)]
pub(super) unsafe fn silu<S: Simd, const G: usize>(v: &mut [S::V; G]) -> [S::V; G] {
    silu_with::<S, G>(v, &POLY)
}

#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn silu_with<S: Simd, const G: usize>(v: &mut [S::V; G], poly: &[f64; 8]) -> [S::V; G] {
    let c = |v: f64| S::splat(S::E::from_f64(v));
    let (lo, hi, one) = (c(X_LO), c(X_HI), c(1.0));
    let mut e = [S::zero(); G];
    for g in 0..G {
        e[g] = S::min(hi, S::max(lo, S::neg(v[g])));
    }
    exp_regs::<S, G>(&mut e, poly);
    let mut d = [S::zero(); G];
    for g in 0..G {
        let s = S::div(one, S::add(one, e[g]));
        v[g] = S::mul(v[g], s);
        d[g] = S::fma_exact(v[g], S::sub(one, s), s);
    }
    d
}

/// `(silu(z), silu'(z))` in `f64`, bit-identical to the SIMD kernels: the activation of
/// the reference forward pass. Uses the FMA instruction where the CPU has one (found
/// at run time), correctly rounded software `fma` otherwise (same bits, slower).
#[inline]
pub(crate) fn silu_pair(z: f64) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the feature the function is compiled for.
        return unsafe { silu_pair_fma(z) };
    }
    silu_pair_with(z, &POLY)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn silu_pair_fma(z: f64) -> (f64, f64) {
    silu_pair_with(z, &POLY)
}

#[inline(always)]
fn silu_pair_with(z: f64, poly: &[f64; 8]) -> (f64, f64) {
    let mut v = [z];
    // SAFETY: the portable backend needs no CPU features.
    let d = unsafe { silu_with::<Portable<f64>, 1>(&mut v, poly) };
    (v[0], d[0])
}

/// `e^x` as the SiLU computes it (clamped to `[-708, 709]`), with polynomial `poly`.
#[cfg(test)]
fn exp_with(x: f64, poly: &[f64; 8]) -> f64 {
    let mut v = [x.clamp(X_LO, X_HI)];
    // SAFETY: the portable backend needs no CPU features.
    unsafe { exp_regs::<Portable<f64>, 1>(&mut v, poly) };
    v[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worst relative error of `exp_with(., poly)` against libm over `[-708, 709]`,
    /// in units of `f64::EPSILON`: a fine sweep plus every point where `j` or `n` changes
    /// near the ends of the range.
    fn worst_exp_ulps(poly: &[f64; 8]) -> f64 {
        let mut worst: f64 = 0.0;
        let mut check = |x: f64| {
            let (fast, libm) = (exp_with(x, poly), x.exp());
            worst = worst.max(((fast - libm) / libm).abs() / f64::EPSILON);
        };
        for i in 0..=400_000 {
            check(X_LO + i as f64 * (X_HI - X_LO) / 400_000.0);
        }
        for k in -16_340i32..=16_360 {
            let x = k as f64 * std::f64::consts::LN_2 / 16.0;
            if (X_LO..=X_HI).contains(&x) {
                check(x);
                check(x + std::f64::consts::LN_2 / 32.0 - 1e-12);
            }
        }
        worst
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_libm() {
        let worst = worst_exp_ulps(&POLY);
        assert!(worst <= EXP_ULPS, "worst error {worst} ulp");
    }

    /// The kept mutation: a wrong coefficient (1/5! replaced by 1/4!, the classic slip)
    /// or a polynomial one degree short must fail the accuracy test above.
    #[test]
    fn a_wrong_coefficient_is_caught() {
        let mut wrong = POLY;
        wrong[2] = 1.0 / 24.0;
        assert!(worst_exp_ulps(&wrong) > EXP_ULPS);
        let mut short = POLY;
        short[0] = 0.0;
        assert!(worst_exp_ulps(&short) > EXP_ULPS);
    }

    #[test]
    fn silu_matches_libm_and_saturates() {
        let eps = f64::EPSILON;
        for i in -80_000..=80_000 {
            let z = i as f64 * 0.008_75;
            let (v, d) = silu_pair(z);
            let s = 1.0 / (1.0 + (-z).exp());
            let (v_ref, d_ref) = (z * s, s * (1.0 + z * (1.0 - s)));
            // libm's exp, the division and the products each round: a few ulp of the
            // terms (silu' crosses zero at z = -1.278, so measure against its terms)
            assert!((v - v_ref).abs() <= 6.0 * eps * v_ref.abs(), "silu({z})");
            let scale = s + (z * s * (1.0 - s)).abs();
            assert!((d - d_ref).abs() <= 8.0 * eps * scale, "silu'({z})");
        }
        assert_eq!(silu_pair(0.0), (0.0, 0.5));
        let (v, d) = silu_pair(800.0);
        assert_eq!((v, d), (800.0, 1.0));
        let (v, d) = silu_pair(-800.0);
        assert!(v <= 0.0 && v > -1e-300 && d.abs() < 1e-300);
        let (v, d) = silu_pair(f64::NAN);
        assert!(v.is_nan() && d.is_nan());
    }
}
