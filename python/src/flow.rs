//! The exact flow map `Phi_{t_from -> t_to}` of the PF-ODE and its Jacobian from the
//! variational equation (theory/01-model.md, "Flow maps"), computed as `flowcert flow`
//! computes it: `ExactFlow::map_slice_par` into the output buffers, in input order.

use std::time::Instant;

use nalgebra::DMatrix;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::arrays::{self, check_finite, check_output};
use crate::errors::{self, Failure};
use crate::mixture::Mixture;
use crate::process;
use flowcert::dynamics::flow::spectral_norm;
use flowcert::dynamics::solver::SolverStats;
use flowcert::dynamics::{ExactFlow, Method, Teacher};

/// An OU time argument: finite and > 0 (the CLI's check, naming the Python argument).
pub fn time(field: &str, t: f64) -> PyResult<f64> {
    if t.is_finite() && t > 0.0 {
        Ok(t)
    } else {
        Err(errors::raise(
            errors::Kind::Input,
            format!("{field} {t} is not a valid OU time: give a finite number > 0"),
        ))
    }
}

/// `method`: `dopri5` or `dop853`, as `--method`.
pub fn method(name: &str) -> PyResult<Method> {
    match name {
        "dopri5" => Ok(Method::Dopri5),
        "dop853" => Ok(Method::Dop853),
        other => Err(errors::raise(
            errors::Kind::Input,
            format!(
                "method '{other}' is not known: give dopri5 (Dormand-Prince 5(4)) or dop853 (8(5,3))"
            ),
        )),
    }
}

/// The solver of `--method/--rtol/--atol`.
pub fn teacher(name: &str, rtol: f64, atol: f64) -> PyResult<Teacher> {
    Teacher::new(method(name)?, rtol, atol).map_err(errors::input)
}

struct Flowed {
    stats: SolverStats,
    norms: Option<Vec<f64>>,
}

fn run(
    flow: &ExactFlow<'_>,
    xs: &[f64],
    from: f64,
    to: f64,
    ys: &mut [f64],
    jac: Option<&mut [f64]>,
) -> Result<Flowed, Failure> {
    let mix = flow.mixture();
    let d = mix.dim();
    check_finite(xs, d, mix, "x").map_err(errors::bad)?;
    let mut jac = jac;
    let stats = flow
        .map_slice_par(xs, from, to, ys, jac.as_deref_mut(), &|_| {})
        .map_err(|e| {
            let kind = match e {
                flowcert::dynamics::FlowError::Solver(_) => errors::Kind::Computation,
                _ => errors::Kind::Input,
            };
            Failure(kind, errors::message(&anyhow::Error::from(e)))
        })?;
    check_output(ys, d, "Phi(x)").map_err(errors::failed)?;
    let norms = match jac {
        None => None,
        Some(m) => {
            check_output(m, d * d, "DPhi(x)").map_err(errors::failed)?;
            // The spectral norm of the column-major DPhi, as `flowcert flow` computes it;
            // then each block is transposed in place into the row-major (n, d, d) layout.
            let norms: Vec<f64> = m
                .par_chunks(d * d)
                .map(|c| spectral_norm(&DMatrix::from_column_slice(d, d, c)))
                .collect();
            m.par_chunks_mut(d * d).for_each(|c| {
                for r in 0..d {
                    for k in r + 1..d {
                        c.swap(r * d + k, k * d + r);
                    }
                }
            });
            Some(norms)
        }
    };
    Ok(Flowed { stats, norms })
}

/// `Phi_{t_from -> t_to}(x)` for each row of `x`; with `jacobian`, also `DPhi` (row-major
/// `(n, d, d)`) and its spectral norm. Returns a dict `y`, `jacobian`, `jacobian_norm`,
/// `stats` (`rhs_evals`, `steps`, `rejected`).
#[pyfunction]
#[pyo3(signature = (mixture, x, t_from, t_to, jacobian = false, rtol = 1e-10, atol = 1e-10, method = "dopri5", process = None))]
#[allow(clippy::too_many_arguments)]
pub fn flow<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    x: PyReadonlyArray2<'py, f64>,
    t_from: f64,
    t_to: f64,
    jacobian: bool,
    rtol: f64,
    atol: f64,
    method: &str,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mix = process::on(&mixture.get().inner, process)?;
    let from = process::time(&mix, "t_from", t_from)?;
    let to = process::time(&mix, "t_to", t_to)?;
    let teacher = teacher(method, rtol, atol)?;
    let (xs, n) = arrays::points(&x, &mix, "x")?;
    let d = mix.dim();
    arrays::check_size(n, if jacobian { d * d } else { d }, "x")?;
    let ys = PyArray1::<f64>::zeros(py, [n * d], false);
    let jac = jacobian.then(|| PyArray1::<f64>::zeros(py, [n * d * d], false));
    let flowed = {
        let mut yw = ys.readwrite();
        let y = yw.as_slice_mut().map_err(errors::computation)?;
        let mut jw = jac.as_ref().map(|j| j.readwrite());
        let j = match jw.as_mut() {
            Some(w) => Some(w.as_slice_mut().map_err(errors::computation)?),
            None => None,
        };
        let flow = ExactFlow::new(&mix, teacher);
        py.detach(|| run(&flow, xs, from, to, y, j))?
    };
    let out = PyDict::new(py);
    out.set_item("y", ys.reshape([n, d])?)?;
    match jac {
        Some(j) => {
            out.set_item("jacobian", j.reshape([n, d, d])?)?;
            out.set_item(
                "jacobian_norm",
                PyArray1::from_vec(py, flowed.norms.unwrap_or_default()),
            )?;
        }
        None => {
            out.set_item("jacobian", py.None())?;
            out.set_item("jacobian_norm", py.None())?;
        }
    }
    let stats = PyDict::new(py);
    stats.set_item("rhs_evals", flowed.stats.rhs_evals)?;
    stats.set_item("steps", flowed.stats.steps)?;
    stats.set_item("rejected", flowed.stats.rejected)?;
    out.set_item("stats", stats)?;
    Ok(out)
}

/// Benchmark only: seconds of the Rust library's `ExactFlow::map_slice_par` on `x` with
/// the solver of `flow(..., rtol, atol, method)` (best of `repeats`, output buffer
/// allocated once outside the timing).
#[pyfunction]
#[pyo3(signature = (mixture, x, t_from, t_to, repeats = 3, rtol = 1e-10, atol = 1e-10, method = "dopri5"))]
#[allow(clippy::too_many_arguments)]
pub fn flow_timed(
    py: Python<'_>,
    mixture: &Bound<'_, Mixture>,
    x: PyReadonlyArray2<'_, f64>,
    t_from: f64,
    t_to: f64,
    repeats: usize,
    rtol: f64,
    atol: f64,
    method: &str,
) -> PyResult<f64> {
    let mix = &mixture.get().inner;
    let (xs, _) = arrays::points(&x, mix, "x")?;
    let flow = teacher(method, rtol, atol)?.flow(mix);
    let r: Result<f64, flowcert::dynamics::FlowError> = py.detach(|| {
        let mut ys = vec![0.0; xs.len()];
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let start = Instant::now();
            flow.map_slice_par(xs, t_from, t_to, &mut ys, None, &|_| {})?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(best)
    });
    r.map_err(errors::flow)
}
