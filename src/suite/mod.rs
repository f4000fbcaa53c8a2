//! The built-in suite: what `flowcert check` and `flowcert reproduce` run.

pub mod reproduce;
