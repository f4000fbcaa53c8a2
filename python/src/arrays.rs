//! Points in and arrays out. A batch of points is an `(n, d)` C-contiguous float64 array:
//! its buffer is exactly the library's `d x n` column-major matrix, so it is read in
//! place. Outputs are allocated once by numpy and filled in place.

use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors;
use flowcert::model::Mixture;

/// Values in one batch at most (8 GB of float64): checked before anything is allocated.
pub const MAX_VALUES: usize = 1 << 30;

/// The buffer of `x` (`(n, d)`, C-contiguous) after checking its shape against the
/// mixture; `field` names it in errors. Finiteness is checked by [`check_finite`].
pub fn points<'a>(
    x: &'a PyReadonlyArray2<'_, f64>,
    mix: &Mixture,
    field: &str,
) -> PyResult<(&'a [f64], usize)> {
    let d = mix.dim();
    let shape = x.shape();
    if shape[1] != d {
        return Err(errors::raise(
            errors::Kind::Input,
            format!(
                "{field} has shape ({}, {}) but the mixture has dimension d = {d}: pass an array of shape (n, {d}), one point per row",
                shape[0], shape[1]
            ),
        ));
    }
    if !x.is_c_contiguous() {
        return Err(errors::raise(
            errors::Kind::Input,
            format!("{field} is not C-contiguous: pass numpy.ascontiguousarray({field})"),
        ));
    }
    let s = x.as_slice().map_err(|e| {
        errors::raise(
            errors::Kind::Input,
            format!("{field}: {e}; pass numpy.ascontiguousarray({field})"),
        )
    })?;
    Ok((s, shape[0]))
}

/// Every coordinate finite, else the model's error naming `field[i][j]` (as the CLI
/// names `points[i][j]` of a points file).
pub fn check_finite(xs: &[f64], d: usize, mix: &Mixture, field: &str) -> Result<(), String> {
    match xs.chunks(d).position(|x| x.iter().any(|v| !v.is_finite())) {
        None => Ok(()),
        Some(i) => Err(bad_point(mix, field, i, &xs[i * d..(i + 1) * d])),
    }
}

/// The model's message for point `i` of `field`, which holds a non-finite coordinate.
pub fn bad_point(mix: &Mixture, field: &str, i: usize, x: &[f64]) -> String {
    match mix.check_point(&format!("{field}[{i}]"), x) {
        Err(e) => e.to_string(),
        Ok(()) => format!("{field}[{i}] is not finite: every number must be finite"),
    }
}

/// The first non-finite output value, as a computation error naming the row.
pub fn check_output(out: &[f64], per_row: usize, what: &str) -> Result<(), String> {
    match out.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(bad_output(what, i / per_row.max(1), out[i])),
    }
}

/// The message for a non-finite `value` of `what` at point `i`.
pub fn bad_output(what: &str, i: usize, value: f64) -> String {
    format!(
        "{what} of point {i} is {value}: the computation left the range of double precision; move the point closer to the data or t away from 0"
    )
}

/// Refuse a batch of `n` rows of `per_row` values beyond [`MAX_VALUES`].
pub fn check_size(n: usize, per_row: usize, field: &str) -> PyResult<()> {
    match n.checked_mul(per_row) {
        Some(v) if v <= MAX_VALUES => Ok(()),
        _ => Err(errors::raise(
            errors::Kind::Input,
            format!(
                "{field}: {n} rows of {per_row} values exceed the limit of {MAX_VALUES} values per call; split the batch"
            ),
        )),
    }
}
