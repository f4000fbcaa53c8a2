//! `process=`: the Gaussian path that noises the mixture (theory/07-gaussian-paths.md).
//!
//! A path is given as a name (`"vp-linear"`) or as a dict of the name and its parameters
//! (`{"name": "vp-linear", "beta_max": 10}`), the shape of the `process` field of every
//! `--json` document, so a report's `process` can be passed back in. The raw form is a
//! [`ProcessSpec`] and is validated by [`ProcessSpec::check`]: the errors are the CLI's
//! (`--process`, `--beta-min`, ...).

use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

use crate::errors::{self, Kind};
use flowcert::model::Mixture as Mix;
use flowcert::model::process::{Process, ProcessInfo, ProcessSpec};

/// The keys of a `process` dict (`s` is the JSON name of `cosine_s`).
const KEYS: [&str; 7] = [
    "name",
    "beta_min",
    "beta_max",
    "cosine_s",
    "s",
    "sigma_min",
    "sigma_max",
];

fn bad(message: String) -> PyErr {
    errors::raise(Kind::Input, message)
}

/// A parameter of a `process` dict: a number, or `None` for the path's default.
fn param(key: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if v.is_none() {
        return Ok(None);
    }
    v.extract::<f64>().map(Some).map_err(|_| {
        bad(format!(
            "process['{key}'] must be a number (or None for the default), got {}",
            v.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))
    })
}

/// The raw path of `process=`: `None` (OU), a name, or a dict of name and parameters.
pub fn spec(obj: Option<&Bound<'_, PyAny>>) -> PyResult<ProcessSpec> {
    let obj = match obj {
        Some(o) if !o.is_none() => o,
        _ => return Ok(ProcessSpec::named("ou")),
    };
    if let Ok(name) = obj.extract::<String>() {
        return Ok(ProcessSpec::named(&name));
    }
    let Ok(dict) = obj.cast::<PyDict>() else {
        return Err(bad(format!(
            "process must be a name such as 'vp-linear' or a dict such as {{'name': 'vp-linear', 'beta_max': 10}}, got {}",
            obj.get_type().name()?
        )));
    };
    let mut s = ProcessSpec::default();
    let mut named = false;
    for (k, v) in dict.iter() {
        let key: String = k
            .extract()
            .map_err(|_| bad("process dict keys must be strings".into()))?;
        match key.as_str() {
            "name" => {
                s.name = v.extract().map_err(|_| {
                    bad("process['name'] must be a string such as 'vp-linear'".into())
                })?;
                named = true;
            }
            "beta_min" => s.beta_min = param(&key, &v)?,
            "beta_max" => s.beta_max = param(&key, &v)?,
            "cosine_s" | "s" => s.cosine_s = param(&key, &v)?,
            "sigma_min" => s.sigma_min = param(&key, &v)?,
            "sigma_max" => s.sigma_max = param(&key, &v)?,
            other => {
                return Err(bad(format!(
                    "process key '{other}' is not known: valid keys are {}",
                    KEYS.join(", ")
                )));
            }
        }
    }
    if !named {
        return Err(bad(
            "the process dict has no 'name': add one, e.g. {'name': 'edm', 'sigma_max': 80}".into(),
        ));
    }
    Ok(s)
}

/// The validated path of `process=` (the CLI's `--process ...` check and messages).
pub fn parse(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Process> {
    spec(obj)?.check().map_err(errors::input)
}

/// `mix` on the path of `process=` (borrowed when it already is on it).
pub fn on<'m>(mix: &'m Mix, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Cow<'m, Mix>> {
    let p = parse(obj)?;
    Ok(if *mix.process() == p {
        Cow::Borrowed(mix)
    } else {
        Cow::Owned(mix.clone().with_process(p))
    })
}

/// A time argument of the mixture's path, as the CLI checks `--t`/`--from`/`--to`: for OU
/// finite and > 0, otherwise in the path's domain (the message names the valid range).
pub fn time(mix: &Mix, field: &str, t: f64) -> PyResult<f64> {
    if mix.process().is_ou() {
        return crate::flow::time(field, t);
    }
    mix.check_path_time(field, t).map_err(errors::input)
}

/// A `--json` document with the `process` field after its own fields, as the CLI prints it.
#[derive(Serialize)]
pub struct OnProcess<'a, T: Serialize> {
    #[serde(flatten)]
    pub doc: &'a T,
    pub process: ProcessInfo,
}

/// `doc` as Python objects with the path's `process` field (the CLI's document).
pub fn to_py_on<'py, T: Serialize>(
    py: Python<'py>,
    doc: &T,
    process: &Process,
) -> PyResult<Bound<'py, PyAny>> {
    crate::checks::to_py(
        py,
        &OnProcess {
            doc,
            process: process.info(),
        },
    )
}

/// Validate `process=` and return the path's name and parameters as the `process` field of
/// the JSON documents (`{"name": "vp-linear", "beta_min": 0.1, "beta_max": 20.0}`).
#[pyfunction]
#[pyo3(signature = (process = None))]
pub fn check_process<'py>(
    py: Python<'py>,
    process: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::checks::to_py(py, &parse(process)?.info())
}
