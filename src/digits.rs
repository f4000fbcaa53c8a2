//! Numbers as text with a fixed number of significant digits: every table, note and
//! message that shows a measured number goes through [`sig`], so pinned outputs do not move
//! with the last bits of floating point.

/// Format `v` with `digits` significant digits (scientific outside [1e-3, 1e6)).
///
/// ```
/// use flowcert::digits::sig;
/// assert_eq!(sig(3.14159, 3), "3.14");
/// assert_eq!(sig(0.000012345, 3), "1.23e-5");
/// assert_eq!(sig(-2.0, 3), "-2.00");
/// assert_eq!(sig(f64::NAN, 3), "NaN");
/// ```
pub fn sig(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return format!("{:.*}", digits.saturating_sub(1), 0.0);
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{:.*e}", digits.saturating_sub(1), v);
        return s;
    }
    let mag = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{:.*}", decimals, v);
    // Rounding may carry into a new digit (9.99 -> 10.0): re-format once.
    let rounded: f64 = s.parse().unwrap_or(v);
    if rounded.abs() >= 10f64.powi(mag + 1) {
        let decimals = (digits as i32 - 2 - mag).max(0) as usize;
        return format!("{:.*}", decimals, v);
    }
    s
}

/// `n` and a noun, singular for 1 (`"1 column"`, `"3 columns"`).
///
/// ```
/// use flowcert::digits::count;
/// assert_eq!(count(1, "column"), "1 column");
/// assert_eq!(count(0, "row"), "0 rows");
/// ```
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
