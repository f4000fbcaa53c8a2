//! The theorem checkers as the CLI runs them: `lipschitz` (theory/02), `grid` (theory/04),
//! `stability` (theory/03), `check` (the suite). Each returns the command's `--json`
//! document as a Python dict (serialised by serde, parsed by `json.loads`, so every
//! number is the CLI's to the last bit).

use pyo3::prelude::*;
use pyo3::types::PyList;

use serde::Serialize;

use crate::errors::{self, Kind};
use crate::flow::teacher;
use crate::mixture::Mixture;
use crate::process;
use flowcert::bounds::SearchConfig;
use flowcert::grids::{GridError, GridKind, MAX_TIME, lambda_at};
use flowcert::model::builtin::Builtin;
use flowcert::suite::{CHECKS, Case, Plan, Scale, Silent, run_checks};
use flowcert::theorems::stability::{StabilityConfig, measure_grid};

/// A serialisable report as Python objects (through JSON, exactly as `--json` prints it).
pub fn to_py<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(errors::computation)?;
    py.import("json")?.call_method1("loads", (text,))
}

/// `times` as `--times` checks them: finite and > 0, at least one.
fn check_times(times: &[f64]) -> PyResult<()> {
    let fix = "give OU times > 0, e.g. [0.01, 0.1, 1]";
    if times.is_empty() {
        return Err(errors::raise(Kind::Input, format!("times is empty: {fix}")));
    }
    for (i, &t) in times.iter().enumerate() {
        if !(t.is_finite() && t > 0.0) {
            return Err(errors::raise(
                Kind::Input,
                format!(
                    "times entry {} is {t}: every time must be finite and > 0 (t = 0 is the data law); {fix}",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// `flowcert lipschitz`: L(t), paper L(t), mu(t) against the empirical sup of ||J||.
#[pyfunction]
#[pyo3(signature = (mixture, times, quick = false, seed = 0, process = None))]
pub fn lipschitz<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    times: Vec<f64>,
    quick: bool,
    seed: u64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mix = process::on(&mixture.get().inner, process)?;
    check_times(&times)?;
    let base = if quick {
        SearchConfig::quick()
    } else {
        SearchConfig::default()
    };
    let cfg = SearchConfig { seed, ..base };
    let report = py
        .detach(|| flowcert::theorems::lipschitz::compare_bounds(&mix, &times, &cfg))
        .map_err(errors::input)?;
    process::to_py_on(py, &report, mix.process())
}

/// A grid kind with its `rho` (checked as `--rho`).
fn grid_kind(kind: &str, rho: f64) -> PyResult<GridKind> {
    let k: GridKind = kind.parse().map_err(errors::input)?;
    if !(rho.is_finite() && rho > 0.0) {
        return Err(errors::input(GridError::BadRho { value: rho }));
    }
    Ok(k.with_rho(rho))
}

#[derive(Serialize)]
struct GridOut {
    kind: String,
    times: Vec<f64>,
    lambda: Vec<f64>,
    segments: usize,
    rho: Option<f64>,
}

/// `flowcert grid`: the times of a grid and the two-sided Lambda at each.
#[pyfunction]
#[pyo3(signature = (mixture, kind, n, t_min, t_max, rho = 7.0, process = None))]
#[allow(clippy::too_many_arguments)]
pub fn grid<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    kind: &str,
    n: usize,
    t_min: f64,
    t_max: f64,
    rho: f64,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mix = process::on(&mixture.get().inner, process)?;
    let kind = grid_kind(kind, rho)?;
    let out = py
        .detach(|| -> Result<GridOut, GridError> {
            let times = kind.times(&mix, t_min, t_max, n)?;
            let lambda = lambda_at(&mix, &times)?;
            Ok(GridOut {
                kind: kind.name().to_string(),
                segments: n,
                rho: matches!(kind, GridKind::Edm { .. }).then_some(rho),
                times,
                lambda,
            })
        })
        .map_err(errors::input)?;
    process::to_py_on(py, &out, mix.process())
}

/// `flowcert stability`: measured max ||DPhi|| per segment vs exp(int mu), exp(int L).
#[pyfunction]
#[pyo3(signature = (mixture, t_from, t_to, grid = "balanced", segments = 4, rho = 7.0,
    samples = 64, separatrix_steps = 60, ascent_starts = 4, ascent_evals = 80, seed = 0,
    rtol = 1e-10, atol = 1e-10, method = "dopri5", process = None))]
#[allow(clippy::too_many_arguments)]
pub fn stability<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    t_from: f64,
    t_to: f64,
    grid: &str,
    segments: usize,
    rho: f64,
    samples: usize,
    separatrix_steps: usize,
    ascent_starts: usize,
    ascent_evals: usize,
    seed: u64,
    rtol: f64,
    atol: f64,
    method: &str,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mix = process::on(&mixture.get().inner, process)?;
    let from = process::time(&mix, "t_from", t_from)?;
    let to = process::time(&mix, "t_to", t_to)?;
    if to >= from {
        return Err(errors::raise(
            Kind::Input,
            format!(
                "t_to {to} must be smaller than t_from {from}: the flow runs backwards from T = t_from down to t_min = t_to; swap them"
            ),
        ));
    }
    if from > MAX_TIME {
        return Err(errors::raise(
            Kind::Input,
            format!(
                "t_from {from} must be at most {MAX_TIME} (beyond it p_t is N(0, I) to double precision): e.g. t_from = 3"
            ),
        ));
    }
    let kind = grid_kind(grid, rho)?;
    let cfg = StabilityConfig {
        samples,
        seed,
        teacher: teacher(method, rtol, atol)?,
        domain: None,
        separatrix_steps,
        ascent_starts,
        ascent_evals,
    };
    let report = py
        .detach(|| measure_grid(&mix, &kind, to, from, segments, &cfg))
        .map_err(errors::input)?;
    process::to_py_on(py, &report, mix.process())
}

/// `flowcert check`: every theorem checker on the given mixtures (default: every
/// built-in, as the CLI) at one scale; the summary document.
#[pyfunction]
#[pyo3(signature = (mixtures = None, scale = "tiny", seed = None, process = None))]
pub fn check<'py>(
    py: Python<'py>,
    mixtures: Option<&Bound<'py, PyList>>,
    scale: &str,
    seed: Option<u64>,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let path = process::parse(process)?;
    let scale: Scale = scale.parse().map_err(errors::input)?;
    let mut plan = Plan::at(scale);
    if let Some(s) = seed {
        plan = plan.with_seed(s);
    }
    // The suite's OU times mapped to the path's times of equal sigma/alpha, as
    // `flowcert check --process` does.
    let plan = plan.on_process(&path).map_err(errors::input)?;
    let cases: Vec<Case> = match mixtures {
        None => Builtin::ALL.map(Case::from).to_vec(),
        Some(list) => {
            let mut cases = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let (name, m): (String, Bound<'py, Mixture>) = item.extract().map_err(|_| {
                    errors::raise(
                        Kind::Input,
                        format!("mixtures[{i}] must be a (name, Mixture) pair"),
                    )
                })?;
                cases.push(Case {
                    name,
                    mixture: m.get().inner.clone(),
                });
            }
            cases
        }
    };
    let cases: Vec<Case> = cases.into_iter().map(|c| c.on_process(&path)).collect();
    let summary = py
        .detach(|| run_checks(&plan, &cases, &CHECKS, &Silent))
        .map_err(errors::input)?;
    process::to_py_on(py, &summary, &path)
}
