//! `log p_t`, score, velocity and Hessian at a batch of points, and exact samples
//! (theory/01-model.md). One `Marginal` per call, points in order, as the library's
//! batch methods and `flowcert eval` compute them.

use std::time::Instant;

use nalgebra::DMatrix;
use numpy::{PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2};
use pyo3::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::arrays::{self, bad_output, bad_point};
use crate::errors::{self, Failure};
use crate::mixture::Mixture;
use crate::process;
use flowcert::model::{Marginal, Mixture as Mix};

type PointFn = fn(&mut Marginal<'_>, &[f64], &mut [f64]);

/// A pointwise quantity: `per_row` values per point, computed by `f`, named `what`.
#[derive(Clone, Copy)]
struct Quantity {
    per_row: usize,
    f: PointFn,
    what: &'static str,
}

/// Points per block of [`eval_into`]: the block's inputs and outputs stay in L1/L2 between
/// the evaluation and the finiteness checks.
const BLOCK: usize = 256;

/// No NaN or inf in `s` (branch-free, so the compiler vectorises it).
fn all_finite(s: &[f64]) -> bool {
    !s.iter().fold(false, |bad, v| bad | !v.is_finite())
}

/// Apply `f` at every point of `xs` (d per point) into `out` (`per_row` per point), block
/// by block: each block's points are checked before and its values after, in cache.
fn eval_into(mix: &Mix, t: f64, xs: &[f64], out: &mut [f64], q: Quantity) -> Result<(), Failure> {
    let Quantity { per_row, f, what } = q;
    let d = mix.dim();
    let mut p = Marginal::new(mix, t).map_err(|e| errors::bad(e.to_string()))?;
    for (b, (xb, ob)) in xs
        .chunks(BLOCK * d)
        .zip(out.chunks_mut(BLOCK * per_row))
        .enumerate()
    {
        let first = b * BLOCK;
        if !all_finite(xb) {
            let i = xb.chunks(d).position(|x| !all_finite(x)).unwrap_or(0);
            let x = &xb[i * d..(i + 1) * d];
            return Err(errors::bad(bad_point(mix, "x", first + i, x)));
        }
        for (x, o) in xb.chunks(d).zip(ob.chunks_mut(per_row)) {
            f(&mut p, x, o);
        }
        if !all_finite(ob) {
            let i = ob.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(errors::failed(bad_output(what, first + i / per_row, ob[i])));
        }
    }
    Ok(())
}

/// The shared body of the pointwise functions: check, allocate `(n, ...shape)`, fill.
fn pointwise<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: &PyReadonlyArray2<'py, f64>,
    t: f64,
    process: Option<&Bound<'py, PyAny>>,
    q: Quantity,
) -> PyResult<(Bound<'py, PyArray1<f64>>, usize)> {
    let per_row = q.per_row;
    let mix = process::on(&mixture.get().inner, process)?;
    let (xs, n) = arrays::points(x, &mix, "x")?;
    arrays::check_size(n, per_row, "x")?;
    let out = PyArray1::<f64>::zeros(py, [n * per_row], false);
    {
        let mut rw = out.readwrite();
        let o = rw.as_slice_mut().map_err(errors::computation)?;
        py.detach(|| eval_into(&mix, t, xs, o, q))?;
    }
    Ok((out, n))
}

fn logp_at(p: &mut Marginal<'_>, x: &[f64], o: &mut [f64]) {
    o[0] = p.log_density(x);
}

fn hessian_at(p: &mut Marginal<'_>, x: &[f64], o: &mut [f64]) {
    let d = x.len();
    let mut h = DMatrix::zeros(d, d);
    let mut s = vec![0.0; d];
    p.hessian_into(x, &mut h, &mut s);
    for r in 0..d {
        for c in 0..d {
            o[r * d + c] = h[(r, c)];
        }
    }
}

/// `log p_t(x)` for each row of `x` (shape `(n,)`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, process = None))]
pub fn logp<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: PyReadonlyArray2<'py, f64>,
    t: f64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let q = Quantity {
        per_row: 1,
        f: logp_at,
        what: "log p_t",
    };
    Ok(pointwise(py, mixture, &x, t, process, q)?.0)
}

/// The score `grad log p_t(x)` for each row of `x` (shape `(n, d)`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, process = None))]
pub fn score<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: PyReadonlyArray2<'py, f64>,
    t: f64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let d = mixture.get().inner.dim();
    let q = Quantity {
        per_row: d,
        f: |p, x, o| p.score_into(x, o),
        what: "score",
    };
    let (out, n) = pointwise(py, mixture, &x, t, process, q)?;
    out.reshape([n, d])
}

/// The PF-ODE velocity `-x - score` for each row of `x` (shape `(n, d)`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, process = None))]
pub fn velocity<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: PyReadonlyArray2<'py, f64>,
    t: f64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let d = mixture.get().inner.dim();
    let q = Quantity {
        per_row: d,
        f: |p, x, o| p.velocity_into(x, o),
        what: "velocity",
    };
    let (out, n) = pointwise(py, mixture, &x, t, process, q)?;
    out.reshape([n, d])
}

/// The Hessian of `log p_t` for each row of `x` (shape `(n, d, d)`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, process = None))]
pub fn hessian<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: PyReadonlyArray2<'py, f64>,
    t: f64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray3<f64>>> {
    let d = mixture.get().inner.dim();
    let q = Quantity {
        per_row: d * d,
        f: hessian_at,
        what: "Hessian",
    };
    let (out, n) = pointwise(py, mixture, &x, t, process, q)?;
    out.reshape([n, d, d])
}

/// `n` exact samples of `p_t` (ChaCha8 seeded with `seed`, as `flowcert sample`):
/// the points `(n, d)` and their mixture components `(n,)`.
#[pyfunction]
#[pyo3(signature = (mixture, n, t = 0.0, seed = 0, process = None))]
#[allow(clippy::type_complexity)]
pub fn sample<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    n: usize,
    t: f64,
    seed: u64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<i64>>)> {
    let mix = process::on(&mixture.get().inner, process)?;
    let d = mix.dim();
    if !(t.is_finite() && t >= 0.0) {
        return Err(errors::raise(
            errors::Kind::Input,
            format!("t {t} is not a valid OU time: give a finite number >= 0"),
        ));
    }
    // Any time of the closed domain samples exactly (t = 0: the data law; where alpha = 0,
    // e.g. rectified t = 1: N(0, sigma^2 I)), as `flowcert sample`.
    let path = mix.process();
    let dom = path.domain();
    if !path.is_ou() && t != 0.0 && !dom.closure_contains(t) {
        return Err(errors::raise(
            errors::Kind::Input,
            format!(
                "t {t} is not a time of the {} path: give 0 (the data law) or a time in the closure of {dom}",
                path.label()
            ),
        ));
    }
    if n == 0 {
        return Err(errors::raise(
            errors::Kind::Input,
            "n 0 asks for no samples: give n = 1 or more".into(),
        ));
    }
    arrays::check_size(n, d, "n")?;
    let (xs, labels) = py.detach(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        mix.sample_labelled(t, n, &mut rng)
    });
    let points = PyArray1::from_vec(py, Vec::from(xs.data)).reshape([n, d])?;
    let labels = PyArray1::from_vec(py, labels.into_iter().map(|k| k as i64).collect());
    Ok((points, labels))
}

/// Seconds per call of the library's own batch method (`Marginal::score_batch` or
/// `velocity_batch` on a `d x n` matrix), the best of `repeats`, timed in Rust: the
/// baseline of the throughput benchmark (`python/bench/`).
fn timed(mix: &Mix, xs: &[f64], t: f64, repeats: usize, velocity: bool) -> Result<f64, Failure> {
    let d = mix.dim();
    let m = DMatrix::from_column_slice(d, xs.len() / d, xs);
    let mut p = Marginal::new(mix, t).map_err(|e| errors::bad(e.to_string()))?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let out = if velocity {
            p.velocity_batch(&m)
        } else {
            p.score_batch(&m)
        };
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    Ok(best)
}

/// Benchmark only: the Rust library's `score_batch` time on `x` (best of `repeats`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, repeats = 5))]
pub fn score_timed(
    py: Python<'_>,
    mixture: &Bound<'_, Mixture>,
    x: PyReadonlyArray2<'_, f64>,
    t: f64,
    repeats: usize,
) -> PyResult<f64> {
    let mix = &mixture.get().inner;
    let (xs, _) = arrays::points(&x, mix, "x")?;
    Ok(py.detach(|| timed(mix, xs, t, repeats, false))?)
}

/// Benchmark only: the Rust library's `velocity_batch` time on `x` (best of `repeats`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t, repeats = 5))]
pub fn velocity_timed(
    py: Python<'_>,
    mixture: &Bound<'_, Mixture>,
    x: PyReadonlyArray2<'_, f64>,
    t: f64,
    repeats: usize,
) -> PyResult<f64> {
    let mix = &mixture.get().inner;
    let (xs, _) = arrays::points(&x, mix, "x")?;
    Ok(py.detach(|| timed(mix, xs, t, repeats, true))?)
}
