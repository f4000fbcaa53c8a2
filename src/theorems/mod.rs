//! One checker per theorem; each returns a report that the CLI, the tests and
//! `reproduce` share. [`assess`] applies the same measurements to outside models
//! (regression checks of a researcher's score network or flow maps).

pub mod assess;
pub mod composition;
mod flow_search;
pub mod lipschitz;
pub mod mismatch;
pub mod stability;
