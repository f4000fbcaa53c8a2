//! Reading user inputs (mixture and points files) and writing outputs atomically.
//! Every error names the file or field and says how to fix it.

pub mod atomic;
pub mod error;
pub mod inputs;

pub use atomic::write_atomic;
pub use error::InputError;
pub use inputs::{load_mixture, load_points, parse_points};
