//! Reports: formatted tables (plain text, Markdown, CSV, LaTeX) with fixed significant
//! digits, and figures (SVG, PDF, PNG), of what the theorem checkers and the suite
//! measured; [`reproduce::write`] writes the output directory of `flowcert reproduce`.
//! Nothing here computes.
//!
//! ```text
//! table.rs      Table: text, Markdown, CSV; latex.rs: LaTeX tables and the .tex indexes
//! plot/         the plotting layer: figures, ticks, styles, layout, PNG/PDF export, lint
//! output.rs     ReportWriter: a report directory (tables, figures, figures.md, *.tex)
//! bounds.rs     L(t), stability and Lambda(t): tables and figures       theory/02, 03
//! distill.rs    the distillation experiment                             theory/04
//! mismatch.rs   the Lipschitz-mismatch regime                           theory/05
//! score_net.rs  the score-approximation section                         theory/06
//! verdict.rs    every grid against uniform, paired (the 51.9% verdict)   theory/04
//! check.rs      the table of `flowcert check`
//! reproduce.rs  the whole output directory of `flowcert reproduce`
//! ```

use thiserror::Error;

pub mod bounds;
pub mod budget;
pub mod check;
pub mod distill;
pub mod latex;
pub mod mismatch;
pub mod output;
pub mod plot;
pub mod reproduce;
pub mod score_net;
pub mod table;
pub mod verdict;

pub use table::{Table, sig};

/// Errors of writing a report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] crate::io::OutputError),
    /// A figure could not be rendered or converted.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
}
