//! `flowcert distill`: the trajectory-distillation experiment (theory/04), rows as the
//! command's `--json` document.

use std::path::PathBuf;

use pyo3::prelude::*;
use serde::Serialize;

use crate::checks::to_py;
use crate::errors::{self, Kind};
use crate::mixture::Mixture;
use crate::process;
use flowcert::experiments::distill::{DistillPlan, DistillRow};
use flowcert::experiments::{CellStore, Shard};
use flowcert::grids::GridKind;
use flowcert::nn::{Precision, StudentBudget};
use flowcert::suite::Silent;

#[derive(Serialize)]
struct Out {
    rows: Vec<DistillRow>,
    missing: usize,
}

/// The experiment on one mixture: students per segment on each grid, end-to-end error.
/// With `out`, finished cells are kept there and a rerun resumes.
#[pyfunction]
#[pyo3(signature = (mixture, segments = vec![1, 2, 4, 8], grids = None, seeds = vec![0, 1, 2],
    t_min = 1e-3, t_max = 3.0, rho = 7.0, width = 64, depth = 2, steps = 1000,
    samples = 4096, batch = 128, lr = 2e-3, precision = "f32", eval_samples = 2048,
    out = None, shard = "0/1", name = "mixture", process = None))]
#[allow(clippy::too_many_arguments)]
pub fn distill<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, Mixture>,
    segments: Vec<usize>,
    grids: Option<Vec<String>>,
    seeds: Vec<u64>,
    t_min: f64,
    t_max: f64,
    rho: f64,
    width: usize,
    depth: usize,
    steps: usize,
    samples: usize,
    batch: usize,
    lr: f64,
    precision: &str,
    eval_samples: usize,
    out: Option<PathBuf>,
    shard: &str,
    name: &str,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mix = process::on(&mixture.get().inner, process)?.into_owned();
    let names: Vec<String> =
        grids.unwrap_or_else(|| GridKind::NAMES.iter().map(|s| s.to_string()).collect());
    if names.is_empty() {
        return Err(errors::raise(
            Kind::Input,
            format!(
                "grids is empty; name at least one of {}",
                GridKind::NAMES.join(", ")
            ),
        ));
    }
    let mut kinds = Vec::with_capacity(names.len());
    for g in &names {
        let k: GridKind = g.parse().map_err(errors::input)?;
        kinds.push(if matches!(k, GridKind::Edm { .. }) {
            k.with_rho(rho)
        } else {
            k
        });
    }
    if seeds.is_empty() {
        return Err(errors::raise(
            Kind::Input,
            "seeds is empty: give a list such as [0, 1, 2]".into(),
        ));
    }
    let precision = match precision {
        "f32" => Precision::F32,
        "f64" => Precision::F64,
        other => {
            return Err(errors::raise(
                Kind::Input,
                format!("precision '{other}' is not known: give f32 or f64"),
            ));
        }
    };
    let shard: Shard = shard.parse().map_err(errors::input)?;
    let plan = DistillPlan {
        mixtures: vec![(name.to_string(), mix)],
        grids: kinds,
        segments,
        seeds,
        t_min,
        t_max,
        budget: StudentBudget {
            width,
            depth,
            steps,
            batch,
            samples,
            lr,
            precision,
            ..StudentBudget::default()
        },
        eval_samples,
        teacher: flowcert::dynamics::Teacher::EXPERIMENT,
    }
    .check()
    .map_err(errors::input)?;
    let temp = out.is_none();
    let dir = out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "flowcert-py-distill-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ))
    });
    let result = py.detach(|| -> anyhow::Result<Out> {
        let store = CellStore::open(&dir)?;
        let sweep = plan.sweep(&store, shard, &Silent)?;
        Ok(Out {
            rows: sweep.rows,
            missing: sweep.missing,
        })
    });
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    to_py(py, &result.map_err(errors::input)?)
}
