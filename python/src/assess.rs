//! Outside models against the exact model: the query sets of `flowcert queries` and the
//! measurements of `flowcert assess score|flowmap` (src/theorems/assess). The Python layer
//! calls the user's model on the queries and hands the answers here.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use serde::Serialize;

use crate::checks::to_py;
use crate::errors::{self, Kind};
use crate::mixture::Mixture;
use crate::process;
use flowcert::grids::GridKind;
use flowcert::theorems::assess::baseline::load_baseline;
use flowcert::theorems::assess::{
    self as lib, Baseline, Comparison, QueryConfig, QueryIdentity, QuerySet,
};
use flowcert::theorems::score_approx::time_grid;

/// A query set: the points where an outside model is asked (`flowcert queries`).
#[pyclass(frozen, module = "flowcert._flowcert")]
pub struct Queries {
    set: QuerySet,
}

/// A `(rows, columns)` numpy copy of a query matrix (one query per column in Rust).
fn rows<'py>(py: Python<'py>, m: &DMatrix<f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
    PyArray1::from_slice(py, m.as_slice()).reshape([m.ncols(), m.nrows()])
}

#[pymethods]
impl Queries {
    /// Generate the queries in process, as `flowcert queries` with the same settings.
    #[staticmethod]
    #[pyo3(signature = (mixture, times = None, samples = 1000, seed = 0, grid = "balanced",
        segments = 8, t_min = 0.01, t_max = 1.0, rho = 7.0, process = None))]
    #[allow(clippy::too_many_arguments)]
    fn generate(
        py: Python<'_>,
        mixture: &Bound<'_, Mixture>,
        times: Option<Vec<f64>>,
        samples: usize,
        seed: u64,
        grid: &str,
        segments: usize,
        t_min: f64,
        t_max: f64,
        rho: f64,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mix = process::on(&mixture.get().inner, process)?;
        let grid: GridKind = grid.parse().map_err(errors::input)?;
        let times = match times {
            Some(t) => t,
            None => {
                crate::flow::time("t_min", t_min)?;
                crate::flow::time("t_max", t_max)?;
                time_grid(t_min, t_max, 8)
            }
        };
        let cfg = QueryConfig {
            times,
            samples,
            seed,
            grid: grid.with_rho(rho),
            segments,
            t_min,
            t_max,
        }
        .check()
        .map_err(errors::input)?;
        let set = py
            .detach(|| QuerySet::generate(&mix, &cfg))
            .map_err(errors::input)?;
        Ok(Queries { set })
    }

    /// Load a directory written by `flowcert queries --out DIR`.
    #[staticmethod]
    fn load(dir: PathBuf) -> PyResult<Self> {
        let set = QuerySet::load(&dir).map_err(errors::input)?;
        Ok(Queries { set })
    }

    /// Write the files `flowcert queries` writes (manifest, CSV, .npy) into `dir`.
    fn write(&self, dir: PathBuf) -> PyResult<()> {
        self.set.write(&dir).map_err(errors::input)
    }

    /// The mixture of the queries.
    fn mixture(&self) -> Mixture {
        Mixture {
            inner: self.set.mixture.clone(),
        }
    }

    /// Score queries: rows `(t, x_0 .. x_{d-1})`.
    fn score_queries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        rows(py, &self.set.score)
    }

    /// Flow-map queries: rows `(i, t_from, t_to, x_0 .. x_{d-1})`.
    fn flowmap_queries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        rows(py, &self.set.flowmap)
    }

    /// Rollout queries: rows `(T, t_min, x_0 .. x_{d-1})`.
    fn rollout_queries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        rows(py, &self.set.rollout)
    }

    /// The manifest (`queries.json`) as a dict.
    fn manifest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.set.manifest)
    }
}

/// `answers` (`(M, d)` rows) as the library's `d x M` matrix (one copy, column-major).
fn answers(a: &PyReadonlyArray2<'_, f64>, field: &str) -> PyResult<DMatrix<f64>> {
    let shape = a.shape();
    let s = a.as_slice().map_err(|e| {
        errors::raise(
            Kind::Input,
            format!("{field}: {e}; pass numpy.ascontiguousarray({field})"),
        )
    })?;
    Ok(DMatrix::from_column_slice(shape[1], shape[0], s))
}

/// A baseline: a path (as `--baseline`) or a saved assessment dict.
fn baseline(py: Python<'_>, b: &Bound<'_, PyAny>) -> PyResult<Baseline> {
    if let Ok(path) = b.extract::<PathBuf>() {
        return load_baseline(&path).map_err(errors::input);
    }
    let text: String = py.import("json")?.call_method1("dumps", (b,))?.extract()?;
    serde_json::from_str(&text).map_err(|e| {
        errors::raise(
            Kind::Input,
            format!(
                "baseline is not a flowcert assessment ({e}); pass a path saved with save_baseline= or a result of assess_score/assess_flowmap"
            ),
        )
    })
}

#[derive(Serialize)]
struct Out<'a, T: Serialize> {
    #[serde(flatten)]
    assessment: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_baseline: Option<String>,
}

/// Compare with the baseline, save, and build the `--json` document of `flowcert assess`.
#[allow(clippy::too_many_arguments)]
fn finish<'py, T: Serialize>(
    py: Python<'py>,
    kind: &str,
    a: &T,
    identity: &QueryIdentity,
    metrics: &std::collections::BTreeMap<String, f64>,
    base: Option<&Bound<'py, PyAny>>,
    tolerance: f64,
    save: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(errors::raise(
            Kind::Input,
            format!(
                "tolerance {tolerance} is not usable: give a finite relative tolerance >= 0, e.g. 0.1 for 10%"
            ),
        ));
    }
    let comparison = match base {
        Some(b) => Some(
            lib::compare(kind, identity, metrics, &baseline(py, b)?, tolerance)
                .map_err(errors::input)?,
        ),
        None => None,
    };
    let regressions = comparison.as_ref().map_or(0, |c| c.regressions);
    let mut saved = None;
    if let Some(p) = save
        && regressions == 0
    {
        let text = serde_json::to_string_pretty(a).map_err(errors::computation)?;
        flowcert::io::write_atomic(Path::new(&p), text.as_bytes()).map_err(errors::input)?;
        saved = Some(p.display().to_string());
    }
    to_py(
        py,
        &Out {
            assessment: a,
            comparison,
            saved_baseline: saved,
        },
    )
}

/// `flowcert assess score` on in-memory answers (`(M, d)`, one row per score query).
#[pyfunction]
#[pyo3(signature = (queries, answers, baseline = None, tolerance = 0.1, save_baseline = None))]
pub fn assess_score<'py>(
    py: Python<'py>,
    queries: &Bound<'py, Queries>,
    answers: PyReadonlyArray2<'py, f64>,
    baseline: Option<&Bound<'py, PyAny>>,
    tolerance: f64,
    save_baseline: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let set = &queries.get().set;
    let ans = self::answers(&answers, "answers")?;
    let res = py
        .detach(|| lib::assess_score(set, &ans))
        .map_err(errors::input)?;
    finish(
        py,
        "score",
        &res,
        &res.queries,
        &res.metrics,
        baseline,
        tolerance,
        save_baseline,
    )
}

/// `flowcert assess flowmap` on in-memory answers (and optionally the rollout).
#[pyfunction]
#[pyo3(signature = (queries, answers, rollout = None, baseline = None, tolerance = 0.1, save_baseline = None))]
pub fn assess_flowmap<'py>(
    py: Python<'py>,
    queries: &Bound<'py, Queries>,
    answers: PyReadonlyArray2<'py, f64>,
    rollout: Option<PyReadonlyArray2<'py, f64>>,
    baseline: Option<&Bound<'py, PyAny>>,
    tolerance: f64,
    save_baseline: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let set = &queries.get().set;
    let ans = self::answers(&answers, "answers")?;
    let roll = match &rollout {
        Some(r) => Some(self::answers(r, "rollout")?),
        None => None,
    };
    let res = py
        .detach(|| lib::assess_flowmap(set, &ans, roll.as_ref()))
        .map_err(errors::input)?;
    finish(
        py,
        "flowmap",
        &res,
        &res.queries,
        &res.metrics,
        baseline,
        tolerance,
        save_baseline,
    )
}
