//! Reports: formatted tables (plain text, Markdown, CSV, LaTeX booktabs) with fixed
//! significant digits, and SVG plots, of what the theorem checkers and the suite measured;
//! [`reproduce::write`] writes the output directory of `flowcert reproduce`. Nothing here
//! computes.

pub mod bounds;
pub mod check;
pub mod distill;
pub mod mismatch;
pub mod plot;
pub mod reproduce;
pub mod score_net;
pub mod table;

pub use table::{Table, sig};
