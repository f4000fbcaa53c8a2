//! Elementwise activations of the hidden layers and their Lipschitz bounds.

use serde::{Deserialize, Serialize};

/// Upper bound on `sup_z |silu'(z)|`; the supremum is 1.0998393... at z = 2.3994.
const SILU_LIPSCHITZ: f64 = 1.1;

/// Elementwise activation of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Activation {
    /// `silu(z) = z / (1 + exp(-z))`: smooth, exp-based (cheaper than `tanh`;
    /// the `exp` is an inlined polynomial so whole layers vectorise).
    Silu,
    /// `relu(z) = max(z, 0)`, with `relu'(0) = 0`.
    Relu,
    /// `z`: the network is affine.
    Identity,
}

impl Activation {
    /// Value of the activation at `z`.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.eval(-1.0), 0.0);
    /// assert!((Activation::Silu.eval(1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
    /// ```
    pub fn eval(self, z: f64) -> f64 {
        self.eval_with_derivative(z).0
    }

    /// Derivative of the activation at `z`.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.derivative(2.0), 1.0);
    /// assert_eq!(Activation::Silu.derivative(0.0), 0.5);
    /// ```
    pub fn derivative(self, z: f64) -> f64 {
        self.eval_with_derivative(z).1
    }

    /// `(act(z), act'(z))` in one pass (one `exp` for SiLU).
    /// NaN inputs give NaN outputs, so divergence is never hidden.
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Identity.eval_with_derivative(3.0), (3.0, 1.0));
    /// ```
    #[inline]
    pub fn eval_with_derivative(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Silu => {
                let s = 1.0 / (1.0 + exp(-z));
                (z * s, s * (1.0 + z * (1.0 - s)))
            }
            Activation::Relu => {
                if z > 0.0 {
                    (z, 1.0)
                } else if z <= 0.0 {
                    (0.0, 0.0)
                } else {
                    (z, z)
                }
            }
            Activation::Identity => (z, 1.0),
        }
    }

    /// A certified upper bound on the Lipschitz constant `sup |act'|`:
    /// 1 for ReLU and identity, 1.1 for SiLU (true value 1.09984).
    ///
    /// ```
    /// use flowcert::nn::Activation;
    /// assert_eq!(Activation::Relu.lipschitz_bound(), 1.0);
    /// assert!(Activation::Silu.lipschitz_bound() > Activation::Silu.derivative(2.3994));
    /// ```
    pub fn lipschitz_bound(self) -> f64 {
        match self {
            Activation::Silu => SILU_LIPSCHITZ,
            Activation::Relu | Activation::Identity => 1.0,
        }
    }
}

/// `ln 2 = LN2_HI + LN2_LO` (fdlibm's split): `n * LN2_HI` is exact for |n| < 2^11.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// `1.5 * 2^52`: adding it rounds to an integer held in the low mantissa bits.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;

/// `exp(x)` to within a few ulp, branch-free and call-free so that loops over
/// it vectorise (the libm call dominated SiLU layers). Arguments are clamped to
/// `[-708, 709]` (results then saturate near 0 or at 8e307); NaN stays NaN.
///
/// ```text
/// x = n ln2 + r, |r| <= ln2 / 2;  exp(x) = 2^n * sum_{i<=12} r^i / i!
/// ```
/// (Taylor remainder `r^13 / 13! < 2e-16` relative.)
#[inline(always)]
fn exp(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let t = x * std::f64::consts::LOG2_E + ROUND_SHIFT;
    let n = t - ROUND_SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // low 12 mantissa bits of t hold n mod 2^12; add the exponent bias and shift
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error of the inlined exp, in units of f64::EPSILON.
    const EXP_ULPS: f64 = 4.0;

    #[test]
    fn exp_matches_libm() {
        let mut worst: f64 = 0.0;
        for i in 0..=200_000 {
            let x = -700.0 + i as f64 * 0.007_000_3;
            let (fast, libm) = (exp(x), x.exp());
            worst = worst.max(((fast - libm) / libm).abs());
        }
        assert!(
            worst <= EXP_ULPS * f64::EPSILON,
            "worst relative error {worst:e}"
        );
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(-1e4) < 1e-300 && exp(1e4) > 1e300);
    }
}
