//! One checker per theorem; each returns a report that the CLI, the tests and
//! `reproduce` share.

pub mod composition;
pub mod lipschitz;
pub mod stability;
