//! Reports: formatted tables (plain text, Markdown, CSV, LaTeX booktabs) with fixed
//! significant digits, and SVG plots. Nothing here computes mathematics.

pub mod plot;
pub mod table;

pub use table::{Table, sig};
