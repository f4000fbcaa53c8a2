//! One checker per theorem; each returns a report that the CLI, the tests and
//! `reproduce` share. [`assess`] applies the same measurements to outside models
//! (regression checks of a researcher's score network or flow maps).

pub mod assess;
pub mod composition;
pub mod lipschitz;
pub mod mismatch;
pub mod score_approx;
pub mod stability;
