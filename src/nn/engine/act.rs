//! The forward epilogue of a hidden layer on registers: `(a, a') = (act(z + b),
//! act'(z + b))` for a block of columns, SiLU in explicit SIMD.
//!
//! Each lane performs the operations of [`silu_pair`](super::super::elem::silu_pair)
//! in the same order and with the same roundings (`f64`: [`super::silu64`], shared with
//! the scalar activation; `f32`: the `exp` of [`Elem`], Horner steps fused), so every
//! backend and the scalar reference agree to the bit. Several registers go through the chain side by
//! side, so its latency overlaps.

// Raw-pointer epilogue over a block the caller owns.
#![allow(unsafe_op_in_unsafe_fn)]

use super::super::elem::{Elem, relu_pair};
use super::simd::Simd;
use crate::nn::Activation;

/// Registers whose SiLU chains interleave: enough to cover the latency of the Horner
/// chain (a multiply and an add per term); eight for the long `f64` polynomial where
/// 32 registers hold them (AVX-512), four otherwise.
const fn group<S: Simd>() -> usize {
    if S::LANES == 8 && size_of::<S::E>() == 8 {
        8
    } else {
        4
    }
}

/// `z <- act(z + b)`, `d <- act'(z + b)` for `nr` columns of `m = bias.len()` entries.
///
/// # Safety
/// `z` and `d` must be valid for `m * nr` entries each; backend features enabled.
#[inline(always)]
pub(super) unsafe fn activate<S: Simd>(
    act: Activation,
    z: *mut S::E,
    d: *mut S::E,
    bias: &[S::E],
    nr: usize,
) {
    let m = bias.len();
    for j in 0..nr {
        let (zc, dc) = (z.add(j * m), d.add(j * m));
        match act {
            Activation::Silu => silu_column::<S>(zc, dc, bias),
            Activation::Relu => each(zc, dc, bias, relu_pair),
            Activation::Identity => each(zc, dc, bias, |v| (v, <S::E as Elem>::ONE)),
        }
    }
}

#[inline(always)]
unsafe fn each<E: Elem>(z: *mut E, d: *mut E, bias: &[E], f: impl Fn(E) -> (E, E)) {
    for (i, &b) in bias.iter().enumerate() {
        (*z.add(i), *d.add(i)) = f(*z.add(i) + b);
    }
}

/// One column: groups of [`group`] registers, then of four, then single registers,
/// then a masked one.
#[inline(always)]
unsafe fn silu_column<S: Simd>(z: *mut S::E, d: *mut S::E, bias: &[S::E]) {
    let (l, m, b) = (S::LANES, bias.len(), bias.as_ptr());
    let mut i = 0;
    if group::<S>() == 8 {
        i = silu_groups::<S, 8>(z, d, b, m);
    }
    i += silu_groups::<S, 4>(z.add(i), d.add(i), b.add(i), m - i);
    while i < m {
        if i + l <= m {
            let mut v = [S::add(S::load(z.add(i)), S::load(b.add(i)))];
            let dv = silu::<S, 1>(&mut v);
            S::store(z.add(i), v[0]);
            S::store(d.add(i), dv[0]);
        } else {
            let mask = S::mask(m - i);
            let zv = S::load_masked(z.add(i), mask);
            let mut v = [S::add(zv, S::load_masked(b.add(i), mask))];
            let dv = silu::<S, 1>(&mut v);
            S::store_masked(z.add(i), v[0], mask);
            S::store_masked(d.add(i), dv[0], mask);
        }
        i += l;
    }
}

/// Whole groups of `G` registers from the start of `m` entries; returns the entries done.
#[inline(always)]
unsafe fn silu_groups<S: Simd, const G: usize>(
    z: *mut S::E,
    d: *mut S::E,
    b: *const S::E,
    m: usize,
) -> usize {
    let l = S::LANES;
    let mut i = 0;
    while i + G * l <= m {
        let mut v = [S::zero(); G];
        for (g, vg) in v.iter_mut().enumerate() {
            let k = i + g * l;
            *vg = S::add(S::load(z.add(k)), S::load(b.add(k)));
        }
        let dv = silu::<S, G>(&mut v);
        for g in 0..G {
            let k = i + g * l;
            S::store(z.add(k), v[g]);
            S::store(d.add(k), dv[g]);
        }
        i += G * l;
    }
    i
}

/// `v <- silu(v)`, returning `silu'(v)`, lane by lane as the scalar code does: in
/// `f64` the table-driven kernel of [`super::silu64`], in `f32` this one:
///
/// ```text
/// x = clamp(-v);  t = x log2e + SHIFT;  n = t - SHIFT;  r = (x - n LN2_HI) - n LN2_LO
/// e = (Horner of TAYLOR at r) 2^n;  s = 1 / (1 + e);  silu' = s (1 + v (1 - s));  silu = v s
/// ```
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn silu<S: Simd, const G: usize>(v: &mut [S::V; G]) -> [S::V; G] {
    if size_of::<S::E>() == 8 {
        return super::silu64::silu::<S, G>(v);
    }
    let c = |x: S::E| S::splat(x);
    let (lo, hi) = (c(S::E::EXP_LO), c(S::E::EXP_HI));
    let (log2e, shift) = (c(S::E::LOG2_E), c(S::E::ROUND_SHIFT));
    let (ln2hi, ln2lo) = (c(S::E::LN2_HI), c(S::E::LN2_LO));
    let one = c(S::E::ONE);
    let (mut t, mut r, mut p) = ([S::zero(); G], [S::zero(); G], [c(S::E::TAYLOR[0]); G]);
    for g in 0..G {
        let x = S::min(hi, S::max(lo, S::neg(v[g])));
        t[g] = S::add(S::mul(x, log2e), shift);
        let n = S::sub(t[g], shift);
        r[g] = S::sub(S::sub(x, S::mul(n, ln2hi)), S::mul(n, ln2lo));
    }
    for &k in &S::E::TAYLOR[1..] {
        let k = c(k);
        for g in 0..G {
            p[g] = if S::E::FUSED_HORNER {
                S::fma(p[g], r[g], k)
            } else {
                S::add(S::mul(p[g], r[g]), k)
            };
        }
    }
    let mut dv = [S::zero(); G];
    for g in 0..G {
        let e = S::mul(p[g], S::pow2_from_shifted(t[g]));
        let s = S::div(one, S::add(one, e));
        dv[g] = S::mul(s, S::add(one, S::mul(v[g], S::sub(one, s))));
        v[g] = S::mul(v[g], s);
    }
    dv
}
