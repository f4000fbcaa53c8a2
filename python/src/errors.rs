//! Library errors as the Python exceptions of `flowcert.errors` (defined in Python so
//! that one class can derive from both `FlowcertError` and `ValueError`).

use std::fmt::Display;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Which exception of `flowcert.errors`.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Bad input: mixture, points, times, settings (the CLI's exit status 2).
    Input,
    /// A computation failed or produced a non-finite number.
    Computation,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Input => "InvalidInputError",
            Kind::Computation => "ComputationError",
        }
    }
}

/// A `flowcert.errors` exception with `message`.
pub fn raise(kind: Kind, message: String) -> PyErr {
    Python::attach(|py| {
        let cls = py
            .import("flowcert.errors")
            .and_then(|m| m.getattr(kind.class()))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match cls {
            Ok(t) => PyErr::from_type(t, message),
            Err(_) => PyValueError::new_err(message),
        }
    })
}

/// Bad input, with the message the CLI prints for the same error ([`message`]).
pub fn input<E>(e: E) -> PyErr
where
    E: Into<anyhow::Error>,
{
    raise(Kind::Input, message(&e.into()))
}

/// The error and its causes, each said once, as the CLI prints them after `error: `
/// ([`flowcert::io::error_message`]).
pub fn message(e: &anyhow::Error) -> String {
    flowcert::io::error_message(e.as_ref())
}

/// A failed computation.
pub fn computation(e: impl Display) -> PyErr {
    raise(Kind::Computation, e.to_string())
}

/// A library error that is the input's fault unless it says the solver failed.
pub fn flow(e: flowcert::dynamics::FlowError) -> PyErr {
    use flowcert::dynamics::FlowError;
    match e {
        FlowError::Solver(_) => computation(message(&anyhow::Error::from(e))),
        other => input(other),
    }
}

/// An error found while the GIL was released: raised once it is held again.
#[derive(Debug)]
pub struct Failure(pub Kind, pub String);

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        raise(f.0, f.1)
    }
}

/// Bad input found while detached.
pub fn bad(message: impl Into<String>) -> Failure {
    Failure(Kind::Input, message.into())
}

/// A failed computation found while detached.
pub fn failed(message: impl Into<String>) -> Failure {
    Failure(Kind::Computation, message.into())
}
