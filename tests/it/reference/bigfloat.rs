//! A small binary floating-point type with [`PREC`] bits of mantissa on `num_bigint`:
//! enough to evaluate the model's formulas *naively* (`1/tau^2 - 1`, `-I - H`, ...) and
//! still keep ~300 correct bits at `t = 50`, where `1/tau^2 - 1 ~ e^{-100} ~ 2^{-144}`.
//! Written for the tests only: truncating arithmetic (error below `2^{-PREC+2}` relative
//! per operation), `exp` by halving and squaring, `ln` and `sqrt` by Newton's method.
//! It shares no code with the implementation under test.

use num_bigint::BigInt;
use std::cmp::Ordering;

/// Mantissa bits kept after every operation.
pub const PREC: u64 = 480;

/// `m * 2^e`.
#[derive(Clone, Debug)]
pub struct Big {
    m: BigInt,
    e: i64,
}

impl Big {
    pub fn zero() -> Big {
        Big {
            m: BigInt::from(0),
            e: 0,
        }
    }

    fn norm(mut self) -> Big {
        let bits = self.m.bits();
        if bits > PREC {
            let sh = bits - PREC;
            self.m >>= sh;
            self.e += sh as i64;
        }
        self
    }

    /// The exact value of a double.
    pub fn from_f64(x: f64) -> Big {
        assert!(x.is_finite(), "Big::from_f64({x})");
        if x == 0.0 {
            return Big::zero();
        }
        let bits = x.to_bits();
        let sign = if bits >> 63 == 1 { -1i64 } else { 1 };
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = (bits & ((1u64 << 52) - 1)) as i64;
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1i64 << 52), exp - 1075)
        };
        Big {
            m: BigInt::from(sign * m),
            e,
        }
    }

    pub fn from_i64(x: i64) -> Big {
        Big {
            m: BigInt::from(x),
            e: 0,
        }
        .norm()
    }

    /// Nearest double (within one ulp).
    pub fn to_f64(&self) -> f64 {
        let bits = self.m.bits();
        if bits == 0 {
            return 0.0;
        }
        let sh = bits.saturating_sub(62);
        let top: BigInt = &self.m >> sh;
        let v = i64::try_from(&top).expect("62 bits fit in i64") as f64;
        ldexp(v, self.e + sh as i64)
    }

    /// `log2 |x|` rounded up (magnitude), `i64::MIN` for zero.
    fn mag(&self) -> i64 {
        if self.is_zero() {
            i64::MIN
        } else {
            self.m.bits() as i64 + self.e
        }
    }

    pub fn is_zero(&self) -> bool {
        self.m.bits() == 0
    }

    pub fn is_negative(&self) -> bool {
        self.m.sign() == num_bigint::Sign::Minus
    }

    pub fn neg(&self) -> Big {
        Big {
            m: -self.m.clone(),
            e: self.e,
        }
    }

    pub fn abs(&self) -> Big {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    pub fn add(&self, o: &Big) -> Big {
        if self.is_zero() {
            return o.clone();
        }
        if o.is_zero() {
            return self.clone();
        }
        // A summand below the other's last kept bit changes nothing.
        let gap = PREC as i64 + 8;
        if self.mag() > o.mag() + gap {
            return self.clone();
        }
        if o.mag() > self.mag() + gap {
            return o.clone();
        }
        let e = self.e.min(o.e);
        let a: BigInt = &self.m << (self.e - e) as u64;
        let b: BigInt = &o.m << (o.e - e) as u64;
        Big { m: a + b, e }.norm()
    }

    pub fn sub(&self, o: &Big) -> Big {
        self.add(&o.neg())
    }

    pub fn mul(&self, o: &Big) -> Big {
        Big {
            m: &self.m * &o.m,
            e: self.e + o.e,
        }
        .norm()
    }

    pub fn div(&self, o: &Big) -> Big {
        assert!(!o.is_zero(), "Big division by zero");
        let sh = PREC as i64 + 4 + o.m.bits() as i64 - self.m.bits() as i64;
        let sh = sh.max(0);
        let num: BigInt = &self.m << sh as u64;
        Big {
            m: num / &o.m,
            e: self.e - o.e - sh,
        }
        .norm()
    }

    pub fn mul_f(&self, x: f64) -> Big {
        self.mul(&Big::from_f64(x))
    }

    pub fn add_f(&self, x: f64) -> Big {
        self.add(&Big::from_f64(x))
    }

    /// `x * 2^k`, exact.
    pub fn ldexp(&self, k: i64) -> Big {
        Big {
            m: self.m.clone(),
            e: self.e + k,
        }
    }

    pub fn cmp(&self, o: &Big) -> Ordering {
        let d = self.sub(o);
        if d.is_zero() {
            Ordering::Equal
        } else if d.is_negative() {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }

    pub fn max(&self, o: &Big) -> Big {
        if self.cmp(o) == Ordering::Less {
            o.clone()
        } else {
            self.clone()
        }
    }

    /// `e^x`: `x / 2^k` with `|x / 2^k| < 2^{-24}`, a Taylor series, then `k` squarings.
    pub fn exp(&self) -> Big {
        if self.is_zero() {
            return Big::from_i64(1);
        }
        let k = (self.mag() + 24).max(0);
        let y = self.ldexp(-k);
        let one = Big::from_i64(1);
        let mut sum = one.clone();
        let mut term = one;
        for n in 1..200 {
            term = term.mul(&y).div(&Big::from_i64(n));
            if term.is_zero() || term.mag() < -(PREC as i64) - 8 {
                break;
            }
            sum = sum.add(&term);
        }
        for _ in 0..k {
            sum = sum.mul(&sum);
        }
        sum
    }

    /// `ln x` (`x > 0`): Newton on `e^y = x` from the double estimate.
    pub fn ln(&self) -> Big {
        assert!(
            !self.is_negative() && !self.is_zero(),
            "Big::ln of a non-positive"
        );
        // ln x = ln(m 2^e) with m scaled to [1, 2): ln(m') + e' ln 2 in doubles for a start.
        let sh = self.m.bits() as i64 - 1;
        let frac = self.ldexp(-(self.e + sh)).to_f64();
        let mut y = Big::from_f64(frac.ln() + (self.e + sh) as f64 * std::f64::consts::LN_2);
        for _ in 0..8 {
            // y <- y + (x e^{-y} - 1)
            let corr = self.mul(&y.neg().exp()).sub(&Big::from_i64(1));
            y = y.add(&corr);
            if corr.is_zero() || corr.mag() < y.mag() - PREC as i64 + 4 {
                break;
            }
        }
        y
    }

    /// `(sin x, cos x)` for `|x| <= 2` by their Taylor series (the paths' angles lie in
    /// `[0, pi/2]`; the terms fall below `2^{-PREC}` after ~90 of them).
    pub fn sin_cos(&self) -> (Big, Big) {
        assert!(self.mag() <= 2, "Big::sin_cos wants |x| <= 2");
        let x2 = self.mul(self);
        let (mut sin, mut cos) = (self.clone(), Big::from_i64(1));
        let (mut ts, mut tc) = (self.clone(), Big::from_i64(1));
        for n in 1..400i64 {
            // ts: x^{2n+1}/(2n+1)!, tc: x^{2n}/(2n)!, alternating.
            tc = tc.mul(&x2).div(&Big::from_i64((2 * n - 1) * (2 * n))).neg();
            ts = ts.mul(&x2).div(&Big::from_i64((2 * n) * (2 * n + 1))).neg();
            if tc.is_zero() || tc.mag() < -(PREC as i64) - 8 {
                break;
            }
            cos = cos.add(&tc);
            sin = sin.add(&ts);
        }
        (sin, cos)
    }

    /// `pi` by Machin's formula `16 atan(1/5) - 4 atan(1/239)`.
    pub fn pi() -> Big {
        let atan_inv = |n: i64| {
            let x = Big::from_i64(1).div(&Big::from_i64(n));
            let x2 = x.mul(&x);
            let (mut sum, mut pow) = (x.clone(), x);
            for k in 1..2000i64 {
                pow = pow.mul(&x2).neg();
                let term = pow.div(&Big::from_i64(2 * k + 1));
                if term.is_zero() || term.mag() < -(PREC as i64) - 8 {
                    break;
                }
                sum = sum.add(&term);
            }
            sum
        };
        atan_inv(5).mul_f(16.0).sub(&atan_inv(239).mul_f(4.0))
    }

    /// `sqrt x` (`x >= 0`): Newton from the double estimate.
    pub fn sqrt(&self) -> Big {
        assert!(!self.is_negative(), "Big::sqrt of a negative");
        if self.is_zero() {
            return Big::zero();
        }
        let sh = (self.m.bits() as i64 + self.e) & !1; // even
        let scaled = self.ldexp(-sh).to_f64();
        let mut y = Big::from_f64(scaled.sqrt()).ldexp(sh / 2);
        let half = Big::from_f64(0.5);
        for _ in 0..6 {
            y = y.add(&self.div(&y)).mul(&half);
        }
        y
    }
}

/// `v * 2^k` without intermediate overflow or underflow.
fn ldexp(mut v: f64, mut k: i64) -> f64 {
    while k > 1000 {
        v *= 2f64.powi(1000);
        k -= 1000;
    }
    while k < -1000 {
        v *= 2f64.powi(-1000);
        k += 1000;
    }
    v * 2f64.powi(k as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values cross-checked with mpmath at 60 digits.
    #[test]
    fn elementary_functions() {
        let x = Big::from_f64(-100.0).exp();
        assert!((x.to_f64() / 3.720_075_976_020_836e-44 - 1.0).abs() < 1e-15);
        let l = Big::from_f64(10.0).ln();
        assert!((l.to_f64() - std::f64::consts::LN_10).abs() < 1e-16);
        let s = Big::from_f64(2.0).sqrt();
        assert!((s.to_f64() - std::f64::consts::SQRT_2).abs() < 1e-16);
        // 1 - (1 - 2^-200) = 2^-200 exactly.
        let one = Big::from_i64(1);
        let tiny = one.ldexp(-200);
        assert_eq!(one.sub(&one.sub(&tiny)).to_f64(), 2f64.powi(-200));
    }
}
