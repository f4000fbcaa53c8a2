//! `flowcert._flowcert`: the Python binding of the flowcert crate (PyO3 + rust-numpy).
//!
//! The binding only converts: numpy arrays in (read in place when C-contiguous float64),
//! numpy arrays out (allocated once by numpy and written in place), reports out as the
//! same JSON documents the command line prints (`--json`), parsed into Python dicts. Every
//! computation runs with the GIL released (`Python::detach`). Errors become the Python
//! exceptions of `flowcert.errors`, with the library's messages (the CLI prints the same
//! text after `error: `). The public, documented API is the pure-Python package
//! `flowcert` around this module.

use pyo3::prelude::*;

mod arrays;
mod assess;
mod checks;
mod distill;
mod errors;
mod field;
mod flow;
mod mixture;
mod process;

/// The extension module.
#[pymodule]
fn _flowcert(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<mixture::Mixture>()?;
    m.add_class::<assess::Queries>()?;
    m.add_function(wrap_pyfunction!(field::logp, m)?)?;
    m.add_function(wrap_pyfunction!(field::score, m)?)?;
    m.add_function(wrap_pyfunction!(field::velocity, m)?)?;
    m.add_function(wrap_pyfunction!(field::hessian, m)?)?;
    m.add_function(wrap_pyfunction!(field::sample, m)?)?;
    m.add_function(wrap_pyfunction!(field::score_timed, m)?)?;
    m.add_function(wrap_pyfunction!(field::velocity_timed, m)?)?;
    m.add_function(wrap_pyfunction!(flow::flow, m)?)?;
    m.add_function(wrap_pyfunction!(flow::flow_timed, m)?)?;
    m.add_function(wrap_pyfunction!(checks::lipschitz, m)?)?;
    m.add_function(wrap_pyfunction!(checks::grid, m)?)?;
    m.add_function(wrap_pyfunction!(checks::stability, m)?)?;
    m.add_function(wrap_pyfunction!(checks::check, m)?)?;
    m.add_function(wrap_pyfunction!(process::check_process, m)?)?;
    m.add_function(wrap_pyfunction!(assess::assess_score, m)?)?;
    m.add_function(wrap_pyfunction!(assess::assess_flowmap, m)?)?;
    m.add_function(wrap_pyfunction!(distill::distill, m)?)?;
    m.add(
        "PROCESSES",
        flowcert::model::process::PROCESS_NAMES.to_vec(),
    )?;
    Ok(())
}
