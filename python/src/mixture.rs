//! `Mixture`: a validated Gaussian mixture (the data law of the OU model).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;
use flowcert::model::{Mixture as Mix, MixtureSpec};

/// A validated Gaussian mixture in R^d (theory/01-model.md).
#[pyclass(frozen, module = "flowcert._flowcert")]
pub struct Mixture {
    pub inner: Mix,
}

/// `obj.tolist()` for numpy arrays, `obj` otherwise.
fn plain<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if obj.hasattr("tolist")? {
        obj.call_method0("tolist")
    } else {
        Ok(obj.clone())
    }
}

fn extract<'py, T: FromPyObjectOwned<'py>>(
    obj: &Bound<'py, PyAny>,
    field: &str,
    what: &str,
) -> PyResult<T> {
    plain(obj)?.extract::<T>().map_err(|_| {
        errors::raise(
            errors::Kind::Input,
            format!("{field} must be {what} (a nested list or numpy array of numbers)"),
        )
    })
}

#[pymethods]
impl Mixture {
    #[new]
    fn new(
        weights: &Bound<'_, PyAny>,
        means: &Bound<'_, PyAny>,
        covariances: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let spec = MixtureSpec {
            weights: extract(weights, "weights", "a list of K numbers")?,
            means: extract(means, "means", "K lists of d numbers")?,
            covariances: extract(covariances, "covariances", "K d x d matrices")?,
        };
        let inner = spec.check().map_err(errors::input)?;
        Ok(Mixture { inner })
    }

    /// A built-in mixture by name (`two-mode-s0.1`, `ring8`, ...).
    #[staticmethod]
    fn builtin(name: &str) -> PyResult<Self> {
        let path = format!("builtin:{name}");
        let inner = flowcert::io::load_mixture(&path).map_err(errors::input)?;
        Ok(Mixture { inner })
    }

    /// A mixture JSON file (or `builtin:NAME`), as `--mixture` of the CLI.
    #[staticmethod]
    fn from_json(path: &str) -> PyResult<Self> {
        let inner = flowcert::io::load_mixture(path).map_err(errors::input)?;
        Ok(Mixture { inner })
    }

    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    #[getter]
    fn n_components(&self) -> usize {
        self.inner.n_components()
    }

    /// The mixture file's JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.to_spec()).map_err(errors::computation)
    }

    /// The hash `flowcert queries` records in its manifest.
    fn hash(&self) -> String {
        flowcert::theorems::assess::queries::mixture_hash(&self.inner)
    }

    /// weights, means, covariances as lists.
    fn spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.to_spec();
        let d = PyDict::new(py);
        d.set_item("weights", s.weights)?;
        d.set_item("means", s.means)?;
        d.set_item("covariances", s.covariances)?;
        Ok(d)
    }
}
