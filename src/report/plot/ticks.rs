//! Axis ranges and tick marks, with labels written from exact decimals.
//!
//! A tick value is held as a decimal `m * 10^e` (integer `m`), so its label is built from
//! digits, never from a float: no `0.30000000000000004`, no `9.999999999999999e-5`. Every
//! label of one axis has the same number of decimals (the data's precision at that step).
//!
//! Placement, in order of preference, taking the first that gives at least
//! [`MIN_TICKS`] ticks whose labels do not collide:
//!
//! ```text
//! linear axis     1, 2, 2.5 or 5 x 10^k steps (integers only on an integer axis)
//! log axis        decades (every k-th one when there are many)
//!                 1-2-5 within each decade                  (data inside one or two decades)
//!                 1..9 within each decade
//!                 a linear step placed on the log scale     (data inside a factor of ~2)
//! integer log     powers of two, then every integer
//! ```

/// The fewest tick labels an axis gets.
pub const MIN_TICKS: usize = 3;
/// The most tick labels an axis gets.
pub const MAX_TICKS: usize = 10;

/// A decimal `m * 10^e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dec {
    m: i64,
    e: i32,
}

impl Dec {
    fn value(self) -> f64 {
        if self.e >= 0 {
            self.m as f64 * 10f64.powi(self.e)
        } else {
            self.m as f64 / 10f64.powi(-self.e)
        }
    }

    /// Plain decimal text with exactly `decimals` digits after the point.
    fn plain(self, decimals: u32) -> String {
        // Rescale to exponent -decimals (exact: decimals >= -e by construction).
        let shift = self.e + decimals as i32;
        let m = if shift >= 0 {
            self.m.saturating_mul(10i64.saturating_pow(shift as u32))
        } else {
            self.m / 10i64.pow((-shift) as u32)
        };
        let neg = m < 0;
        let digits = m.unsigned_abs().to_string();
        let d = decimals as usize;
        let body = if d == 0 {
            digits
        } else if digits.len() > d {
            format!(
                "{}.{}",
                &digits[..digits.len() - d],
                &digits[digits.len() - d..]
            )
        } else {
            format!("0.{}{}", "0".repeat(d - digits.len()), digits)
        };
        if neg { format!("\u{2212}{body}") } else { body }
    }

    /// `a.bc x 10^k` with the mantissa's own digits (`10^k` when the mantissa is 1).
    fn scientific(self) -> String {
        if self.m == 0 {
            return "0".into();
        }
        let neg = self.m < 0;
        let mut digits = self.m.unsigned_abs().to_string();
        let k = self.e + digits.len() as i32 - 1;
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
        }
        let mant = if digits.len() == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let sign = if neg { "\u{2212}" } else { "" };
        if mant == "1" {
            format!("{sign}10{}", superscript(k))
        } else {
            format!("{sign}{mant}\u{d7}10{}", superscript(k))
        }
    }
}

/// `k` in Unicode superscript digits (`-3` -> `⁻³`).
///
/// ```
/// assert_eq!(flowcert::report::plot::ticks::superscript(-12), "\u{207b}\u{b9}\u{b2}");
/// ```
pub fn superscript(k: i32) -> String {
    const SUP: [char; 10] = [
        '\u{2070}', '\u{b9}', '\u{b2}', '\u{b3}', '\u{2074}', '\u{2075}', '\u{2076}', '\u{2077}',
        '\u{2078}', '\u{2079}',
    ];
    let mut s = String::new();
    if k < 0 {
        s.push('\u{207b}');
    }
    for c in k.unsigned_abs().to_string().chars() {
        s.push(SUP[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

/// One tick: where, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// The value on the axis.
    pub value: f64,
    /// Its label.
    pub label: String,
}

/// How the values of an axis map to its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (values must be > 0).
    Log,
}

/// Label a set of decimals of one axis alike: plain decimals inside `[1e-3, 1e5)`,
/// scientific otherwise; with the same number of decimals on every label when `uniform`
/// (linear steps), each with its own otherwise (decades and 1-2-5 ticks of a log axis).
fn label_all(ticks: &[Dec], uniform: bool) -> Vec<Tick> {
    let max_abs = ticks.iter().map(|d| d.value().abs()).fold(0.0, f64::max);
    let min_abs = ticks
        .iter()
        .map(|d| d.value().abs())
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let plain = max_abs < 1e5 && min_abs >= 1e-3;
    // The decimals a tick needs (trailing zeros of its mantissa removed).
    let needs = |d: &Dec| {
        let (mut m, mut e) = (d.m, d.e);
        while m != 0 && m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        if m == 0 { 0 } else { (-e).max(0) as u32 }
    };
    let common = ticks.iter().map(needs).max().unwrap_or(0);
    ticks
        .iter()
        .map(|d| Tick {
            value: d.value(),
            label: if !plain {
                d.scientific()
            } else if uniform {
                d.plain(common)
            } else {
                d.plain(needs(d))
            },
        })
        .collect()
}

/// Multiples of the step `m * 10^e` inside `[lo, hi]`.
fn multiples(lo: f64, hi: f64, m: i64, e: i32) -> Vec<Dec> {
    let step = Dec { m, e }.value();
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    if last < first || last - first > 1000 {
        return Vec::new();
    }
    (first..=last)
        .map(|i| Dec { m: i * m, e })
        .filter(|d| d.value() >= lo - step * 1e-9 && d.value() <= hi + step * 1e-9)
        .collect()
}

/// Linear candidates for `[lo, hi]`: steps `{1, 2, 2.5, 5} x 10^k` that give between
/// [`MIN_TICKS`] and [`MAX_TICKS`] ticks (integers only when `integer`), those nearest six
/// ticks first.
fn linear_candidates(lo: f64, hi: f64, integer: bool) -> Vec<Vec<Dec>> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let k0 = (span / MAX_TICKS as f64).log10().floor() as i32 - 1;
    let mut out = Vec::new();
    for k in k0..k0 + 4 {
        for (m, e) in [(1, k), (2, k), (25, k - 1), (5, k)] {
            if integer && e < 0 {
                continue;
            }
            let t = multiples(lo, hi, m, e);
            if (MIN_TICKS..=MAX_TICKS).contains(&t.len()) {
                out.push(t);
            }
        }
    }
    out.sort_by_key(|t| t.len().abs_diff(6));
    out
}

/// Log candidates for `[lo, hi]` (both > 0), in order of preference.
fn log_candidates(lo: f64, hi: f64, integer: bool) -> Vec<Vec<Dec>> {
    let (a, b) = (lo.log10(), hi.log10());
    let mut out = Vec::new();
    let k_lo = a.floor() as i32 - 1;
    let k_hi = b.ceil() as i32 + 1;
    let within = |d: &Dec| {
        let v = d.value();
        v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9)
    };
    if integer {
        let powers: Vec<Dec> = (0..63)
            .map(|p| Dec { m: 1i64 << p, e: 0 })
            .filter(within)
            .collect();
        if powers.len() >= MIN_TICKS {
            out.push(thin(powers));
        }
    }
    let decades: Vec<Dec> = (k_lo..=k_hi)
        .map(|k| Dec { m: 1, e: k })
        .filter(|d| !integer || d.e >= 0)
        .filter(within)
        .collect();
    if decades.len() >= MIN_TICKS {
        out.push(thin(decades));
    }
    for mantissas in [&[1, 2, 5][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
        let t: Vec<Dec> = (k_lo..=k_hi)
            .flat_map(|k| mantissas.iter().map(move |&m| Dec { m, e: k }))
            .filter(|d| !integer || d.e >= 0)
            .filter(within)
            .collect();
        if (MIN_TICKS..=MAX_TICKS).contains(&t.len()) {
            out.push(t);
        }
    }
    out.extend(linear_candidates(lo, hi, integer));
    out
}

/// Keep every k-th element (from the first) so that at most 8 remain.
fn thin(v: Vec<Dec>) -> Vec<Dec> {
    let k = v.len().div_ceil(8).max(1);
    v.into_iter().step_by(k).collect()
}

/// Ticks for an axis over `[lo, hi]`: the first candidate (module doc) whose labels `fit`
/// (the caller's test that no two labels collide at the axis length); the coarsest
/// candidate when none fits. Never fewer than two ticks: the ends of the range.
///
/// ```
/// use flowcert::report::plot::ticks::{ticks, Scale};
/// let t = ticks(0.0, 1.0, Scale::Linear, false, &|_| true);
/// let labels: Vec<_> = t.iter().map(|t| t.label.as_str()).collect();
/// assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
/// // Inside one decade of a log axis: a linear step, labelled to its precision.
/// let t = ticks(0.0145, 0.031, Scale::Log, false, &|_| true);
/// let labels: Vec<_> = t.iter().map(|t| t.label.as_str()).collect();
/// assert_eq!(labels, ["0.0150", "0.0175", "0.0200", "0.0225", "0.0250", "0.0275", "0.0300"]);
/// // Integer N on a log axis: powers of two.
/// let t = ticks(0.8, 10.0, Scale::Log, true, &|_| true);
/// assert_eq!(t.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["1", "2", "4", "8"]);
/// ```
pub fn ticks(
    lo: f64,
    hi: f64,
    scale: Scale,
    integer: bool,
    fit: &dyn Fn(&[Tick]) -> bool,
) -> Vec<Tick> {
    let candidates = match scale {
        Scale::Linear => linear_candidates(lo, hi, integer),
        Scale::Log if lo > 0.0 => log_candidates(lo, hi, integer),
        Scale::Log => Vec::new(),
    };
    // A linear step labels alike; decades and 1-2-5 ticks each to their own digits.
    let labelled: Vec<Vec<Tick>> = candidates
        .iter()
        .map(|c| {
            let step = c.windows(2).map(|w| w[1].value() - w[0].value());
            let uniform = scale == Scale::Linear
                || c.len() < 2
                || step
                    .clone()
                    .all(|s| (s - (c[1].value() - c[0].value())).abs() <= 1e-9 * s.abs());
            label_all(c, uniform)
        })
        .collect();
    if let Some(t) = labelled.iter().find(|t| fit(t)) {
        return t.clone();
    }
    if let Some(t) = labelled.iter().min_by_key(|t| t.len()) {
        return t.clone();
    }
    // Degenerate range: the two ends, to three significant digits.
    [lo, hi]
        .into_iter()
        .map(|v| Tick {
            value: v,
            label: crate::digits::sig(v, 3),
        })
        .collect()
}

/// The displayed range of an axis over data in `[lo, hi]`: padded by 4% of the span (of
/// the log span on a log axis), and widened around the centre when the data are
/// (nearly) constant, so a flat series is drawn flat instead of magnified rounding:
/// a linear span is at least 5% of `|centre|` each side (1 around 0), a log span at least
/// a factor 1.4 each side.
///
/// ```
/// use flowcert::report::plot::ticks::{range, Scale};
/// let (a, b) = range(11.91308, 11.91309, Scale::Linear);
/// assert!(a < 11.4 && b > 12.4);
/// let (a, b) = range(1.0, 100.0, Scale::Log);
/// assert!(a < 1.0 && b > 100.0 && a > 0.8);
/// ```
pub fn range(lo: f64, hi: f64, scale: Scale) -> (f64, f64) {
    match scale {
        Scale::Linear => {
            if !(lo.is_finite() && hi.is_finite()) {
                return (0.0, 1.0);
            }
            let c = 0.5 * (lo + hi);
            let min_half = if c == 0.0 { 1.0 } else { 0.05 * c.abs() };
            if hi - lo < 2e-3 * lo.abs().max(hi.abs()) || hi - lo < 1e-300 {
                return (c - min_half, c + min_half);
            }
            let pad = 0.04 * (hi - lo);
            (lo - pad, hi + pad)
        }
        Scale::Log => {
            if !(lo.is_finite() && hi.is_finite() && lo > 0.0) {
                return (0.1, 10.0);
            }
            let (a, b) = (lo.log10(), hi.log10());
            let c = 0.5 * (a + b);
            let min_half = 1.4f64.log10();
            let (a, b) = if b - a < 2.0 * min_half * 0.25 {
                (c - min_half, c + min_half)
            } else {
                let pad = 0.04 * (b - a);
                (a - pad, b + pad)
            };
            (10f64.powf(a), 10f64.powf(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &[Tick]) -> Vec<String> {
        t.iter().map(|t| t.label.clone()).collect()
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(Dec { m: 3, e: -1 }.plain(1), "0.3");
        assert_eq!(Dec { m: 25, e: -2 }.plain(2), "0.25");
        assert_eq!(Dec { m: -5, e: -5 }.plain(5), "\u{2212}0.00005");
        assert_eq!(Dec { m: 12, e: 2 }.plain(0), "1200");
        assert_eq!(Dec { m: 1, e: -4 }.scientific(), "10\u{207b}\u{2074}");
        assert_eq!(
            Dec { m: 25, e: -6 }.scientific(),
            "2.5\u{d7}10\u{207b}\u{2075}"
        );
    }

    #[test]
    fn sub_decade_log_axes_get_three_labels() {
        for (lo, hi) in [
            (0.0145, 0.031),
            (2.3, 4.6),
            (0.9, 1.1),
            (500.0, 3000.0),
            (1e-5, 1.2e-5),
        ] {
            let (a, b) = range(lo, hi, Scale::Log);
            let t = ticks(a, b, Scale::Log, false, &|_| true);
            assert!(t.len() >= MIN_TICKS, "[{lo}, {hi}]: {:?}", labels(&t));
            assert!(t.iter().all(|t| t.value >= a && t.value <= b));
        }
    }

    #[test]
    fn many_decades_are_thinned() {
        let t = ticks(1e-12, 1e3, Scale::Log, false, &|_| true);
        assert!((MIN_TICKS..=8).contains(&t.len()), "{:?}", labels(&t));
    }

    #[test]
    fn a_collision_test_moves_to_a_coarser_candidate() {
        let all = ticks(0.0, 1.0, Scale::Linear, false, &|_| true);
        let fewer = ticks(0.0, 1.0, Scale::Linear, false, &|t| t.len() <= 3);
        assert!(fewer.len() < all.len() && fewer.len() >= MIN_TICKS);
    }
}
